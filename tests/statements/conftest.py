"""Helpers for the statement tests: ledger movements at chosen instants in a past month.

Money moves only through payments.ledger (post / credit_personal_account), exactly as the
settlement, refund and premium services post it: the personal-account entry carries the
patient and the category.
"""

from __future__ import annotations

import datetime
import itertools
import zoneinfo
from typing import Any

import pytest
from django.db import transaction

from accounts.models import InsuredPerson
from accounts.notifications import broker_breaker
from payments import ledger
from payments.models import AccountKind, Institution, LedgerAccount, LedgerTransaction, TransactionKind

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
# A month well in the past, so that it has ended whatever the date of the test run.
MONTH = datetime.date(2025, 10, 1)
BEFORE = datetime.datetime(2025, 9, 20, 10, 0, tzinfo=TZ)
DURING = datetime.datetime(2025, 10, 15, 10, 0, tzinfo=TZ)
AFTER = datetime.datetime(2025, 11, 3, 10, 0, tzinfo=TZ)
OPENED = datetime.datetime(2025, 1, 1, 9, 0, tzinfo=TZ)

_refs = itertools.count(1)


def at(day: int, hour: int = 10, month: datetime.date = MONTH) -> datetime.datetime:
    return datetime.datetime(month.year, month.month, day, hour, 0, tzinfo=TZ)


def open_account(person: InsuredPerson, when: datetime.datetime = OPENED) -> LedgerAccount:
    """The person's personal account, opened at ``when`` (before the statement month)."""
    account = LedgerAccount.objects.filter(person=person).first()
    if account is None:
        account = LedgerAccount.objects.create(kind=AccountKind.PERSONAL, person=person, created_at=when)
    return account


def hospital_account() -> LedgerAccount:
    from accounts.models import Region

    institution, _ = Institution.objects.get_or_create(
        code="STMT-H1", defaults={"name": "海口市人民医院", "kind": "hospital", "region": Region.objects.get(pk="460100")}
    )
    return ledger.institution_account(institution)


@transaction.atomic
def credit(person: InsuredPerson, fen: int, when: datetime.datetime) -> LedgerTransaction:
    account = open_account(person)
    source = ledger.system_account(AccountKind.CONTRIBUTIONS)
    return ledger.post(
        TransactionKind.CREDIT, [ledger.Line(source, -fen), ledger.Line(account, fen, person)],
        reference=f"stmt-credit-{next(_refs)}", at=when,
    )


@transaction.atomic
def pay(holder: InsuredPerson, patient: InsuredPerson, fen: int, category: str, when: datetime.datetime) -> LedgerTransaction:
    """A settlement charging the holder's account for the patient's care."""
    account = open_account(holder)
    clearing = hospital_account()
    ledger.lock_accounts([account.pk, clearing.pk])
    return ledger.post(
        TransactionKind.SETTLEMENT,
        [ledger.Line(account, -fen, patient, category), ledger.Line(clearing, fen, patient, category)],
        reference=f"stmt-settle-{next(_refs)}", at=when,
    )


@transaction.atomic
def refund(holder: InsuredPerson, patient: InsuredPerson, fen: int, category: str, when: datetime.datetime) -> LedgerTransaction:
    account = open_account(holder)
    clearing = hospital_account()
    return ledger.post(
        TransactionKind.REFUND,
        [ledger.Line(clearing, -fen, patient, category), ledger.Line(account, fen, patient, category)],
        reference=f"stmt-refund-{next(_refs)}", at=when,
    )


@transaction.atomic
def premium(holder: InsuredPerson, relative: InsuredPerson, fen: int, when: datetime.datetime) -> LedgerTransaction:
    account = open_account(holder)
    fund = ledger.system_account(AccountKind.PREMIUM_FUND)
    return ledger.post(
        TransactionKind.PREMIUM,
        [ledger.Line(account, -fen, relative, "resident_premium"), ledger.Line(fund, fen, relative, "resident_premium")],
        reference=f"stmt-premium-{next(_refs)}", at=when,
    )


@transaction.atomic
def reverse(txn: LedgerTransaction, when: datetime.datetime) -> LedgerTransaction:
    entries = list(txn.entries.all())
    return ledger.post(
        TransactionKind.REVERSAL,
        [ledger.Line(e.account, -e.amount_fen, e.patient, e.category) for e in entries],
        reverses=txn, memo="test correction", at=when,
    )


@pytest.fixture(autouse=True)
def _broker_breaker_closed() -> Any:
    """A test that makes the broker fail must not leave later tests without deliveries."""
    broker_breaker.reset()
    yield
    broker_breaker.reset()
