"""The only code that writes ledger entries: post, reverse, and the queries others read.

Knows accounts and amounts, never bindings. Callers hold a transaction (services are atomic);
``post`` refuses to run outside one. Amounts are integer fen; an entry's positive amount
grows its account's balance, and every transaction's entries sum to zero.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Case, Q, Sum, Value, When
from django.db.models.functions import Coalesce

from accounts.models import InsuredPerson

from .models import AccountKind, Institution, LedgerAccount, LedgerEntry, LedgerTransaction, TransactionKind


class LedgerError(Exception):
    pass


class InsufficientFunds(LedgerError):
    pass


@dataclass(frozen=True)
class Line:
    """One planned entry: ``amount_fen`` > 0 credits the account, < 0 debits it."""

    account: LedgerAccount
    amount_fen: int
    patient: InsuredPerson | None = None
    category: str = ""


# -- accounts ---------------------------------------------------------------------------------


def personal_account(person: InsuredPerson) -> LedgerAccount:
    """The person's personal account, created on first use (employee schemes only)."""
    account = LedgerAccount.objects.filter(person=person).first()
    if account is not None:
        return account
    if not person.has_personal_account:
        raise LedgerError("only employee-scheme members have a personal account")
    account, _ = LedgerAccount.objects.get_or_create(person=person, defaults={"kind": AccountKind.PERSONAL})
    return account


CLEARING_SHARDS = 8


def institution_account(institution: Institution, shard: int = 0) -> LedgerAccount:
    """One of the institution's clearing accounts (shard 0 unless told otherwise)."""
    account, _ = LedgerAccount.objects.get_or_create(
        institution=institution, shard=shard, defaults={"kind": AccountKind.INSTITUTION}
    )
    return account


def institution_balance(institution: Institution) -> int:
    """What the institution's clearing shards hold together."""
    total = LedgerAccount.objects.filter(institution=institution).aggregate(total=Sum("balance_fen"))["total"]
    return int(total or 0)


_clearing_ids: dict[tuple[int, object], list[int]] = {}


def institution_account_ref(institution: Institution, shard: int = 0) -> LedgerAccount:
    """A clearing shard as an unsaved reference (id only); all shard ids are cached per process.

    Accounts are never deleted, so the ids never change; the settlement posts to them without a
    query. Only ``pk`` is meaningful on the returned object.
    """
    # created_at in the key: test databases roll back and may reuse an institution's id.
    key = (institution.pk, institution.created_at)
    ids = _clearing_ids.get(key)
    if ids is None:
        found = dict(LedgerAccount.objects.filter(institution=institution).values_list("shard", "pk"))
        ids = [found[n] if n in found else institution_account(institution, n).pk for n in range(CLEARING_SHARDS)]
        _clearing_ids[key] = ids
    return LedgerAccount(pk=ids[shard], kind=AccountKind.INSTITUTION, institution_id=institution.pk, shard=shard)


def system_account(kind: str) -> LedgerAccount:
    account, _ = LedgerAccount.objects.get_or_create(
        kind=kind, person=None, institution=None, defaults={"allow_negative": kind == AccountKind.CONTRIBUTIONS}
    )
    return account


def lock_accounts(account_ids: Iterable[int]) -> dict[int, LedgerAccount]:
    """Lock accounts in one global order and return them: personal accounts first, ascending id,
    then clearing and system accounts, ascending id.

    Personal accounts come first because a posting also locks the clearing account it touches
    (the balance trigger updates that row): every code path therefore takes personal locks
    before clearing locks, and no two transactions can wait on each other in a cycle. It also
    keeps the busy clearing rows (one per institution) locked only for the last moment of a
    payment, not for all of it.
    """
    ids = sorted(set(account_ids))
    if not ids:
        return {}
    personal_last = Case(When(kind=AccountKind.PERSONAL, then=Value(0)), default=Value(1))
    rows = LedgerAccount.objects.select_for_update().filter(pk__in=ids).order_by(personal_last, "pk")
    return {a.pk: a for a in rows}


def lock_personal_accounts(person_ids: Iterable[int]) -> dict[int, LedgerAccount]:
    """Lock the personal accounts of these people (ascending id) and return {person_id: account}.

    People without an account are simply missing from the result (their balance is 0).
    """
    ids = sorted(set(person_ids))
    if not ids:
        return {}
    rows = LedgerAccount.objects.select_for_update().filter(person_id__in=ids, kind=AccountKind.PERSONAL).order_by("pk")
    return {a.person_id: a for a in rows if a.person_id is not None}


# -- writing ----------------------------------------------------------------------------------


def post(
    kind: str,
    lines: Sequence[Line],
    *,
    reference: str = "",
    memo: str = "",
    reverses: LedgerTransaction | None = None,
    at: datetime.datetime | None = None,
) -> LedgerTransaction:
    """Write one balanced transaction. The database applies each entry to its balance."""
    if not connection.in_atomic_block:
        raise LedgerError("ledger.post must run inside transaction.atomic")
    if not lines:
        raise LedgerError("a transaction needs entries")
    if any(line.amount_fen == 0 for line in lines):
        raise LedgerError("an entry cannot be zero")
    if sum(line.amount_fen for line in lines) != 0:
        raise LedgerError("entries must sum to zero")
    extra = {"created_at": at} if at else {}
    txn = LedgerTransaction.objects.create(kind=kind, reference=reference, memo=memo, reverses=reverses, **extra)
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(
                transaction=txn, account=line.account, amount_fen=line.amount_fen,
                patient=line.patient, category=line.category, **extra,
            )
            for line in lines
        ]
    )
    return txn


@transaction.atomic
def reverse(txn: LedgerTransaction, memo: str = "") -> LedgerTransaction:
    """Correct a transaction by posting its exact opposite. A transaction is reversed once."""
    if LedgerTransaction.objects.filter(reverses=txn).exists():
        raise LedgerError("this transaction has already been reversed")
    entries = list(txn.entries.select_related("account", "patient"))
    lock_accounts(e.account_id for e in entries)
    return post(
        TransactionKind.REVERSAL,
        [Line(e.account, -e.amount_fen, e.patient, e.category) for e in entries],
        memo=memo or f"reversal of #{txn.pk}",
        reverses=txn,
    )


@transaction.atomic
def credit_personal_account(
    person: InsuredPerson, amount_fen: int, reference: str, memo: str = "", at: datetime.datetime | None = None
) -> LedgerTransaction:
    """A monthly contribution (划入). Idempotent by reference: a repeat returns the original.

    ``at``: when it was booked (a bureau import of an earlier period, or demo history)."""
    existing = LedgerTransaction.objects.filter(kind=TransactionKind.CREDIT, reference=reference).first()
    if existing is not None:
        return existing
    if amount_fen <= 0:
        raise LedgerError("a credit must be positive")
    account = personal_account(person)
    source = system_account(AccountKind.CONTRIBUTIONS)
    lock_accounts([account.pk, source.pk])
    return post(
        TransactionKind.CREDIT,
        [Line(source, -amount_fen), Line(account, amount_fen, person)],
        reference=reference,
        memo=memo,
        at=at,
    )


# -- reading ----------------------------------------------------------------------------------


def balance_of(person: InsuredPerson) -> int:
    """The personal-account balance in fen (0 when the person has no account yet)."""
    return LedgerAccount.objects.filter(person=person).values_list("balance_fen", flat=True).first() or 0


def balances_of(people: Iterable[InsuredPerson]) -> dict[int, int]:
    """Balances of several people in one query: {person_id: fen}."""
    ids = [p.pk for p in people]
    found = dict(LedgerAccount.objects.filter(person_id__in=ids).values_list("person_id", "balance_fen"))
    return {pk: found.get(pk, 0) for pk in ids}


# Resident premiums are the holder's own act: never spending by the relative, never under their caps.
PREMIUM_CATEGORY = "resident_premium"
SPENDING_KINDS = (TransactionKind.SETTLEMENT, TransactionKind.REFUND, TransactionKind.PREMIUM, TransactionKind.REVERSAL)


def spent_from(
    owner: InsuredPerson,
    patient: InsuredPerson,
    since: datetime.datetime | None = None,
    until: datetime.datetime | None = None,
    categories: Sequence[str] | None = None,
) -> int:
    """Net fen that left ``owner``'s personal account for ``patient``'s care (refunds deducted)."""
    qs = LedgerEntry.objects.filter(
        account__person=owner, patient=patient, transaction__kind__in=SPENDING_KINDS
    ).exclude(category=PREMIUM_CATEGORY)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    if until is not None:
        qs = qs.filter(created_at__lt=until)
    if categories:
        qs = qs.filter(category__in=categories)
    total = qs.aggregate(total=Coalesce(Sum("amount_fen"), 0))["total"]
    return max(0, -int(total))


def spent_by_patient(
    owner: InsuredPerson, since: datetime.datetime | None = None, until: datetime.datetime | None = None
) -> dict[int, int]:
    """Net spending from ``owner``'s account per patient id, in one query."""
    qs = LedgerEntry.objects.filter(account__person=owner, transaction__kind__in=SPENDING_KINDS).exclude(
        patient__isnull=True
    ).exclude(category=PREMIUM_CATEGORY)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    if until is not None:
        qs = qs.filter(created_at__lt=until)
    return {row["patient_id"]: max(0, -int(row["total"])) for row in qs.values("patient_id").annotate(total=Sum("amount_fen"))}


def premiums_by_patient(
    owner: InsuredPerson, since: datetime.datetime | None = None, until: datetime.datetime | None = None
) -> dict[int, int]:
    """Resident premiums paid from ``owner``'s account per relative id (shown apart from spending)."""
    qs = LedgerEntry.objects.filter(account__person=owner, category=PREMIUM_CATEGORY).exclude(patient__isnull=True)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    if until is not None:
        qs = qs.filter(created_at__lt=until)
    return {row["patient_id"]: max(0, -int(row["total"])) for row in qs.values("patient_id").annotate(total=Sum("amount_fen"))}


def figures_by_patient(
    owner: InsuredPerson, month_since: datetime.datetime, year_since: datetime.datetime
) -> dict[int, tuple[int, int, int]]:
    """Per patient id: net spending from ``owner``'s account since ``month_since`` and since
    ``year_since``, and resident premiums paid since ``year_since``, in one query (what
    spent_by_patient twice and premiums_by_patient give, for a page that shows all three)."""
    spending = Q(transaction__kind__in=SPENDING_KINDS) & ~Q(category=PREMIUM_CATEGORY)
    rows = (
        LedgerEntry.objects.filter(account__person=owner, created_at__gte=min(month_since, year_since))
        .exclude(patient__isnull=True)
        .values("patient_id")
        .annotate(
            month=Sum("amount_fen", filter=spending & Q(created_at__gte=month_since), default=0),
            year=Sum("amount_fen", filter=spending & Q(created_at__gte=year_since), default=0),
            premiums=Sum("amount_fen", filter=Q(category=PREMIUM_CATEGORY, created_at__gte=year_since), default=0),
        )
        .order_by()
    )
    return {row["patient_id"]: (max(0, -int(row["month"])), max(0, -int(row["year"])), max(0, -int(row["premiums"])))
            for row in rows}


def invariant_violations() -> list[str]:
    """Everything wrong with the ledger (empty when healthy). Used by tests and statements."""
    problems: list[str] = []
    sums = dict(
        LedgerEntry.objects.values("account_id").annotate(total=Sum("amount_fen")).values_list("account_id", "total")
    )
    for account_id, balance, allow_negative in LedgerAccount.objects.values_list("id", "balance_fen", "allow_negative"):
        if balance != (sums.get(account_id) or 0):
            problems.append(f"account {account_id}: stored {balance} != entries {sums.get(account_id) or 0}")
        if balance < 0 and not allow_negative:
            problems.append(f"account {account_id}: negative balance {balance}")
    unbalanced = (
        LedgerEntry.objects.values("transaction_id").annotate(total=Sum("amount_fen")).exclude(total=0)
    )
    for row in unbalanced:
        problems.append(f"transaction {row['transaction_id']} sums to {row['total']}")
    return problems
