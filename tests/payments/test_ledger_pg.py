"""The database itself refuses raw SQL that would break a ledger invariant (PostgreSQL)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from payments import ledger
from payments.models import AccountKind, LedgerEntry, LedgerTransaction

from .conftest import credit

pytestmark = pytest.mark.postgres


@pytest.fixture
def funded(require_postgres, holder):
    credit(holder, 10_000)
    return ledger.personal_account(holder)


def _refused(sql: str, params: list) -> None:
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_it_refuses_to_update_an_entry(funded):
    entry = LedgerEntry.objects.filter(account=funded).first()
    _refused("UPDATE payments_ledgerentry SET amount_fen = amount_fen + 1 WHERE id = %s", [entry.pk])
    entry.refresh_from_db()
    assert entry.amount_fen == 10_000


def test_it_refuses_to_delete_an_entry_or_a_transaction(funded):
    entry = LedgerEntry.objects.filter(account=funded).first()
    _refused("DELETE FROM payments_ledgerentry WHERE id = %s", [entry.pk])
    _refused("DELETE FROM payments_ledgertransaction WHERE id = %s", [entry.transaction_id])
    assert LedgerEntry.objects.filter(pk=entry.pk).exists()


def test_it_refuses_to_change_a_balance_directly(funded):
    _refused("UPDATE payments_ledgeraccount SET balance_fen = 999999 WHERE id = %s", [funded.pk])
    funded.refresh_from_db()
    assert funded.balance_fen == 10_000


@pytest.mark.django_db(transaction=True)
def test_it_refuses_an_unbalanced_transaction_at_commit(funded):
    txn_id = None
    # A real transaction: the deferred trigger fires at COMMIT.
    with pytest.raises(IntegrityError), transaction.atomic():
        txn = LedgerTransaction.objects.create(kind="settlement")
        txn_id = txn.pk
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO payments_ledgerentry (transaction_id, account_id, amount_fen, category, created_at)"
                " VALUES (%s, %s, -500, '', now())", [txn.pk, funded.pk],
            )
    assert not LedgerTransaction.objects.filter(pk=txn_id).exists()
    funded.refresh_from_db()
    assert funded.balance_fen == 10_000


def test_it_refuses_an_overdraft_even_when_balanced(funded):
    fund = ledger.system_account(AccountKind.PREMIUM_FUND)
    with pytest.raises(IntegrityError), transaction.atomic():
        ledger.post("premium", [ledger.Line(funded, -10_001), ledger.Line(fund, 10_001)])
    funded.refresh_from_db()
    assert funded.balance_fen == 10_000


def test_it_refuses_an_account_that_starts_with_money(require_postgres, holder):
    _refused(
        "INSERT INTO payments_ledgeraccount (kind, person_id, balance_fen, allow_negative, created_at)"
        " VALUES ('personal', %s, 5000, false, now())", [holder.pk],
    )


def test_it_keeps_balances_equal_to_entries_after_posting(funded):
    assert ledger.invariant_violations() == []
    assert ledger.balance_of(funded.person) == 10_000
