"""Monthly statements (月度对账单): computed from the ledger alone, reconciled, stored once.

A statement covers one personal account and one calendar month (in the portal's time zone):
opening balance, money paid in (credits), medical payments, refunds, resident premiums paid,
corrections (reversals) and closing balance, with the spending broken down per person whose
care it paid for and per category.

Reconciliation, before anything is stored: the opening balance plus the month's movements
must equal the closing balance, and that closing balance must equal the ledger balance at the
month's end computed a second, independent way (the stored, trigger-kept balance minus every
entry made after the month). Every movement must be explained by a known transaction kind. A
statement that fails is not stored: the failure is logged at ERROR level and recorded on its
chunk (bureau staff see it in admin) and the run counts it as failed. The database adds its
own CHECK that the printed arithmetic adds up.

The monthly run fans out in chunks of account ids (StatementRun / StatementChunk). Tasks get
a run id and a chunk id; a chunk is claimed (committed) before work starts, its statements
and notifications are written in one transaction with the chunk's "done" mark, and the unique
constraints make every repeat harmless. ``requeue_lost_chunks`` puts back chunks whose worker
vanished.
"""

from __future__ import annotations

import datetime
import functools
import logging
import os
import re
import time
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Case, CharField, Count, Exists, F, IntegerField, OuterRef, Q, Sum, Value, When
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import InsuredPerson

from .models import (
    AccountKind,
    ChunkStatus,
    LedgerAccount,
    LedgerEntry,
    MonthlyStatement,
    StatementChunk,
    StatementRun,
    TransactionKind,
)

logger = logging.getLogger(__name__)

DEFAULT_CHUNK_SIZE = 2000
# A chunk is given up after this many attempts (staff can retry it from admin).
MAX_CHUNK_ATTEMPTS = 5
SPENDING_KINDS = frozenset({TransactionKind.SETTLEMENT, TransactionKind.REFUND, TransactionKind.PREMIUM})
KNOWN_KINDS = SPENDING_KINDS | {TransactionKind.CREDIT, TransactionKind.REVERSAL}


class StatementError(Exception):
    """A request the statement service refuses; ``message`` is shown to the user."""

    def __init__(self, message: Any) -> None:
        self.message = message
        super().__init__(str(message))


class StatementMismatch(Exception):
    """The figures do not reconcile with the ledger: nothing may be stored."""

    def __init__(self, account_id: int, reason: str) -> None:
        self.account_id = account_id
        self.reason = reason
        super().__init__(f"account {account_id}: {reason}")


# -- months -----------------------------------------------------------------------------------

_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(text: str) -> datetime.date:
    """'2026-10' -> date(2026, 10, 1); anything else is a StatementError with a plain reason."""
    match = _MONTH_RE.match((text or "").strip())
    if not match:
        raise StatementError(_("Give the month as YYYY-MM, for example 2026-10."))
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12 or year < 2000:
        raise StatementError(_("There is no such month. Give the month as YYYY-MM, for example 2026-10."))
    return datetime.date(year, month, 1)


def next_month(month: datetime.date) -> datetime.date:
    return datetime.date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def previous_month(day: datetime.date) -> datetime.date:
    first = day.replace(day=1)
    return (first - datetime.timedelta(days=1)).replace(day=1)


def month_bounds(month: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The month as [start, end) instants in the portal's time zone."""
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    start = datetime.datetime(month.year, month.month, 1, tzinfo=tz)
    nxt = next_month(month)
    return start, datetime.datetime(nxt.year, nxt.month, 1, tzinfo=tz)


def month_label(month: datetime.date) -> str:
    """'October 2026' / '2026年10月' in the active language."""
    return formats.date_format(month, "YEAR_MONTH_FORMAT")


month_label_lazy = lazy(month_label, str)


# A statement is final once stored, so the month must be closed: ended, plus a margin for
# payments dated in its last moments whose transactions commit just after midnight.
CLOSING_GRACE = datetime.timedelta(minutes=15)


def ensure_month_ended(month: datetime.date, now: datetime.datetime | None = None) -> None:
    end = month_bounds(month)[1]
    if end + CLOSING_GRACE > (now or timezone.now()):
        raise StatementError(
            _("%(month)s has not ended yet. Its statements can be made from %(day)s.")
            % {"month": month_label(month), "day": formats.date_format(end + CLOSING_GRACE, "DATETIME_FORMAT")}
        )


# -- computing --------------------------------------------------------------------------------


@dataclass
class PersonLine:
    patient_id: int | None
    name: str
    is_holder: bool
    payments_fen: int = 0
    refunds_fen: int = 0
    premiums_fen: int = 0
    corrections_fen: int = 0

    @property
    def net_fen(self) -> int:
        return self.payments_fen + self.premiums_fen - self.refunds_fen - self.corrections_fen

    def as_json(self) -> dict[str, Any]:
        return {
            "patient_id": self.patient_id, "name": self.name, "is_holder": self.is_holder,
            "payments_fen": self.payments_fen, "refunds_fen": self.refunds_fen,
            "premiums_fen": self.premiums_fen, "corrections_fen": self.corrections_fen, "net_fen": self.net_fen,
        }


@dataclass
class StatementFigures:
    """A computed, reconciled statement, not yet stored."""

    account_id: int
    person_id: int
    month: datetime.date
    opening_fen: int = 0
    credits_fen: int = 0
    spending_fen: int = 0
    refunds_fen: int = 0
    premiums_fen: int = 0
    corrections_fen: int = 0
    closing_fen: int = 0
    entry_count: int = 0
    by_person: list[dict[str, Any]] = field(default_factory=list)
    by_category: list[dict[str, Any]] = field(default_factory=list)

    def model(self, run: StatementRun | None = None) -> MonthlyStatement:
        return MonthlyStatement(
            account_id=self.account_id, person_id=self.person_id, month=self.month, run=run,
            opening_fen=self.opening_fen, credits_fen=self.credits_fen, spending_fen=self.spending_fen,
            refunds_fen=self.refunds_fen, premiums_fen=self.premiums_fen, corrections_fen=self.corrections_fen,
            closing_fen=self.closing_fen, entry_count=self.entry_count,
            by_person=self.by_person, by_category=self.by_category,
        )


@dataclass
class _Acc:
    """Raw sums of one account, straight from the ledger query."""

    account_id: int
    person_id: int
    stored_balance: int
    before: int = 0
    after: int = 0
    # (kind, reversed kind, patient id, category) -> (sum, count)
    moves: dict[tuple[str, str | None, int | None, str], tuple[int, int]] = field(default_factory=dict)


def _ledger_sums(month: datetime.date, first_id: int, last_id: int, exclude: set[int]) -> dict[int, _Acc]:
    """Everything needed for the statements of personal accounts first_id..last_id, in two queries.

    The entry sums and the stored balances come from ONE statement, i.e. one snapshot, so a
    payment committed meanwhile cannot make a correct account look wrong.
    """
    start, end = month_bounds(month)
    accounts = LedgerAccount.objects.filter(
        kind=AccountKind.PERSONAL, id__gte=first_id, id__lte=last_id, created_at__lt=end
    ).exclude(id__in=exclude)
    result: dict[int, _Acc] = {
        pk: _Acc(pk, person_id, 0) for pk, person_id in accounts.values_list("id", "person_id")
    }
    in_month = Q(created_at__gte=start, created_at__lt=end)
    rows = (
        LedgerEntry.objects.filter(
            account__kind=AccountKind.PERSONAL, account_id__gte=first_id, account_id__lte=last_id,
            account__created_at__lt=end,
        )
        .exclude(account_id__in=exclude)
        .annotate(
            bucket=Case(
                When(created_at__lt=start, then=Value(0)), When(created_at__lt=end, then=Value(1)),
                default=Value(2), output_field=IntegerField(),
            ),
            m_kind=Case(When(in_month, then=F("transaction__kind")), default=Value(""), output_field=CharField()),
            m_rkind=Case(When(in_month, then=F("transaction__reverses__kind")), default=None, output_field=CharField()),
            m_patient=Case(When(in_month, then=F("patient_id")), default=None, output_field=IntegerField()),
            m_category=Case(When(in_month, then=F("category")), default=Value(""), output_field=CharField()),
        )
        .values("account_id", "account__balance_fen", "bucket", "m_kind", "m_rkind", "m_patient", "m_category")
        .annotate(total=Sum("amount_fen"), n=Count("id"))
        .order_by()
    )
    for row in rows:
        acc = result.get(row["account_id"])
        if acc is None:  # the account appeared between the two queries: not part of this month
            continue
        acc.stored_balance = int(row["account__balance_fen"])
        total = int(row["total"])
        if row["bucket"] == 0:
            acc.before += total
        elif row["bucket"] == 2:
            acc.after += total
        else:
            key = (row["m_kind"], row["m_rkind"], row["m_patient"], row["m_category"] or "")
            old_total, old_n = acc.moves.get(key, (0, 0))
            acc.moves[key] = (old_total + total, old_n + int(row["n"]))
    return result


def _figures(acc: _Acc, month: datetime.date, names: dict[int, str]) -> StatementFigures:
    """Turn raw sums into a statement and reconcile it; StatementMismatch when it does not add up."""
    fig = StatementFigures(acc.account_id, acc.person_id, month, opening_fen=acc.before)
    people: dict[int | None, PersonLine] = {}
    categories: dict[str, int] = defaultdict(int)
    movement_total = 0
    for (kind, reversed_kind, patient_id, category), (total, count) in acc.moves.items():
        movement_total += total
        fig.entry_count += count
        if kind not in KNOWN_KINDS:
            raise StatementMismatch(acc.account_id, f"unexplained movement of kind {kind!r}: {total} fen")
        if kind == TransactionKind.CREDIT:
            fig.credits_fen += total
            continue
        if kind == TransactionKind.REVERSAL:
            fig.corrections_fen += total
            if reversed_kind not in SPENDING_KINDS:
                continue  # a corrected credit: not spending on anyone
        line = people.get(patient_id)
        if line is None:
            line = people[patient_id] = PersonLine(
                patient_id, names.get(patient_id, "") if patient_id else "", patient_id == acc.person_id
            )
        if kind == TransactionKind.SETTLEMENT:
            fig.spending_fen -= total
            line.payments_fen -= total
        elif kind == TransactionKind.REFUND:
            fig.refunds_fen += total
            line.refunds_fen += total
        elif kind == TransactionKind.PREMIUM:
            fig.premiums_fen -= total
            line.premiums_fen -= total
        else:
            line.corrections_fen += total
        categories[category] -= total
    fig.closing_fen = fig.opening_fen + movement_total
    ledger_closing = acc.stored_balance - acc.after
    printed = (
        fig.opening_fen + fig.credits_fen - fig.spending_fen + fig.refunds_fen - fig.premiums_fen + fig.corrections_fen
    )
    if fig.closing_fen != ledger_closing:
        raise StatementMismatch(
            acc.account_id,
            f"opening {fig.opening_fen} + movements {movement_total} = {fig.closing_fen}, "
            f"but the ledger balance at month end is {ledger_closing}",
        )
    if printed != fig.closing_fen:
        raise StatementMismatch(acc.account_id, f"the statement lines add up to {printed}, not {fig.closing_fen}")
    per_person = sum(line.net_fen for line in people.values())
    if per_person != sum(categories.values()):
        raise StatementMismatch(acc.account_id, "spending per person and per category differ")
    if fig.opening_fen < 0 or fig.closing_fen < 0:
        raise StatementMismatch(acc.account_id, "a personal balance below zero")
    lines = sorted(people.values(), key=lambda line: (not line.is_holder, -line.net_fen, line.name))
    fig.by_person = [line.as_json() for line in lines]
    fig.by_category = [
        {"category": key, "net_fen": value}
        for key, value in sorted(categories.items(), key=lambda item: (-item[1], item[0]))
        if value or key
    ]
    return fig


@dataclass
class RangeResult:
    statements: list[StatementFigures]
    failures: list[StatementMismatch]


def compute_range(
    month: datetime.date, first_id: int, last_id: int, exclude: Iterable[int] = ()
) -> RangeResult:
    """Statements for the personal accounts with ids first_id..last_id (skipping ``exclude``)."""
    sums = _ledger_sums(month, first_id, last_id, set(exclude))
    patient_ids = {key[2] for acc in sums.values() for key in acc.moves if key[2] is not None}
    names = dict(InsuredPerson.objects.filter(pk__in=patient_ids).values_list("id", "name")) if patient_ids else {}
    result = RangeResult([], [])
    for acc in sorted(sums.values(), key=lambda a: a.account_id):
        try:
            result.statements.append(_figures(acc, month, names))
        except StatementMismatch as mismatch:
            logger.error("statement for %s NOT stored: %s", month.strftime("%Y-%m"), mismatch)
            result.failures.append(mismatch)
    return result


def compute_statement(account: LedgerAccount, month: datetime.date) -> StatementFigures:
    """One account's statement; raises StatementMismatch when it does not reconcile."""
    result = compute_range(month, account.pk, account.pk)
    if result.failures:
        raise result.failures[0]
    if not result.statements:
        raise StatementError(_("This account did not exist in that month."))
    return result.statements[0]


# -- notifications ----------------------------------------------------------------------------


def statement_url(month: datetime.date) -> str:
    return reverse("statements:detail", kwargs={"month": month.strftime("%Y-%m")})


def _notification_specs(statements: list[StatementFigures], month: datetime.date) -> list[Any]:
    from accounts.notifications import NotificationSpec
    from portal.templatetags.portal_tags import format_fen

    if not statements:
        return []
    people = InsuredPerson.objects.select_related("user").in_bulk([s.person_id for s in statements])
    link = statement_url(month)
    label = month_label_lazy(month)
    return [
        NotificationSpec(
            person=people[s.person_id],
            kind="statement_ready",
            subject=_("Your statement for %(month)s is ready"),
            body=_(
                "Your medical-insurance personal account statement for %(month)s is ready. "
                "Balance at the end of the month: %(closing)s. You can read it and download it as a PDF on "
                "the portal, under My page."
            ),
            params={"month": label, "closing": format_fen(s.closing_fen)},
            link=link,
            dedupe_key=f"statement:{s.account_id}:{month:%Y-%m}",
        )
        for s in statements
    ]


def store_statements(statements: list[StatementFigures], run: StatementRun | None = None) -> int:
    """Insert statements (existing ones are left alone) and notify their holders. In a transaction."""
    from accounts.notifications import notify_many

    if not statements:
        return 0
    MonthlyStatement.objects.bulk_create([s.model(run) for s in statements], ignore_conflicts=True, batch_size=1000)
    notify_many(_notification_specs(statements, statements[0].month))
    return len(statements)


@transaction.atomic
def generate_statement(account: LedgerAccount, month: datetime.date) -> MonthlyStatement:
    """Make (or return the existing) statement of one account for one month."""
    ensure_month_ended(month)
    existing = MonthlyStatement.objects.filter(account=account, month=month).first()
    if existing is not None:
        return existing
    store_statements([compute_statement(account, month)])
    return MonthlyStatement.objects.get(account=account, month=month)


# -- the monthly run --------------------------------------------------------------------------


def lost_after_seconds() -> int:
    """A chunk claimed (or queued) longer ago than this is presumed lost."""
    return int(settings.CELERY_TASK_TIME_LIMIT) + 60


def _plan_chunks(run: StatementRun) -> list[StatementChunk]:
    """Cut the month's personal accounts into chunks of consecutive ids (streamed, flat memory)."""
    end = month_bounds(run.month)[1]
    ids = (
        LedgerAccount.objects.filter(kind=AccountKind.PERSONAL, created_at__lt=end)
        .order_by("id")
        .values_list("id", flat=True)
    )
    chunks: list[StatementChunk] = []
    first = last = None
    size = 0
    for pk in ids.iterator(chunk_size=10_000):
        if first is None:
            first = pk
        last = pk
        size += 1
        if size == run.chunk_size:
            chunks.append(StatementChunk(run=run, number=len(chunks) + 1, first_account_id=first, last_account_id=last, size=size))
            first, size = None, 0
    if first is not None and last is not None:
        chunks.append(StatementChunk(run=run, number=len(chunks) + 1, first_account_id=first, last_account_id=last, size=size))
    return chunks


@dataclass
class StartResult:
    run: StatementRun
    created: bool
    queued: list[int]  # chunk ids handed (or to be handed) to the workers
    # After the commit: True when the broker took them, False when it was down (the sweep
    # queues them later), None when nothing was enqueued (or the commit is still ahead).
    enqueued: bool | None = None


def start_statement_run(
    month: datetime.date, *, chunk_size: int = DEFAULT_CHUNK_SIZE, enqueue: bool = True
) -> StartResult:
    """Start the month's run, or pick up an existing one. Safe to call any number of times.

    The first call creates the run and its chunks (one run per month: unique constraint; a
    concurrent second call waits for the first and then finds it). A later call queues again
    what is not finished: waiting, failed, or done with accounts that did not reconcile. With
    ``enqueue`` the chunks are handed to the workers after the commit.
    """
    from .models import MAX_CHUNK_SIZE

    ensure_month_ended(month)
    if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
        raise StatementError(_("A chunk holds between 1 and %(max)s accounts.") % {"max": MAX_CHUNK_SIZE})
    now = timezone.now()
    with transaction.atomic():
        run, created = StatementRun.objects.get_or_create(month=month, defaults={"chunk_size": chunk_size})
        if created:
            chunks = _plan_chunks(run)
            StatementChunk.objects.bulk_create(chunks, batch_size=1000)
            run.total_chunks = len(chunks)
            run.total_accounts = sum(c.size for c in chunks)
            if not chunks:
                run.finished_at = now
            run.save(update_fields=["total_chunks", "total_accounts", "finished_at"])
            todo = StatementChunk.objects.filter(run=run)
        else:
            # FOR NO KEY UPDATE: chunk workers inserting statements (which reference the run)
            # take KEY SHARE locks on it, and those must not wait for a re-run (deadlock).
            run = StatementRun.objects.select_for_update(no_key=True).get(pk=run.pk)
            todo = StatementChunk.objects.filter(run=run).filter(
                ~Q(status=ChunkStatus.DONE) | Q(failed__gt=0)
            )
            # A retry by hand gets fresh attempts.
            todo.filter(Q(status=ChunkStatus.FAILED) | Q(status=ChunkStatus.DONE)).update(
                status=ChunkStatus.PENDING, attempts=0
            )
            if todo.exists() and run.finished_at is not None:
                run.finished_at = None
                run.save(update_fields=["finished_at"])
        chunk_ids = list(todo.order_by("number").values_list("id", flat=True))
        result = StartResult(run, created, chunk_ids)
        if enqueue and chunk_ids:
            StatementChunk.objects.filter(pk__in=chunk_ids).update(queued_at=now)
            run_id = run.pk

            def hand_over() -> None:
                result.enqueued = enqueue_chunks(run_id, chunk_ids)

            transaction.on_commit(hand_over)
    return result


def enqueue_chunks(run_id: int, chunk_ids: list[int]) -> bool:
    """Hand chunks to the workers. False when the broker is down (the sweep queues them later)."""
    from portal.celery import enqueue

    try:
        for chunk_id in chunk_ids:
            enqueue("payments.tasks.generate_statement_chunk_task", run_id, chunk_id)
    except Exception as exc:
        logger.warning("could not queue statement chunks of run %s (%s); the sweep will retry", run_id, exc)
        return False
    return True


BUSY = "busy"


def _lock_chunk(chunk_id: int) -> StatementChunk | None:
    """Lock the chunk row, or None when it is missing or another live transaction holds it.

    A chunk is worked on inside one transaction that holds its row lock; the lock dies with
    the worker's database connection, so "locked" means "someone alive is on it" and a chunk
    that is RUNNING but not locked belongs to a dead worker.
    """
    rows = StatementChunk.objects.select_for_update(skip_locked=True, of=("self",)).select_related("run")
    return rows.filter(pk=chunk_id).first()


def _claim(chunk_id: int) -> str:
    """Mark the chunk as started, committed at once (admin sees it running; attempts count).

    Returns "claimed", BUSY (another live worker holds it), or the chunk's final status.
    """
    with transaction.atomic():
        chunk = _lock_chunk(chunk_id)
        if chunk is None:
            return BUSY if StatementChunk.objects.filter(pk=chunk_id).exists() else "missing"
        if chunk.status == ChunkStatus.DONE:
            return ChunkStatus.DONE
        if chunk.attempts >= MAX_CHUNK_ATTEMPTS:
            chunk.status = ChunkStatus.FAILED
            chunk.finished_at = timezone.now()
            chunk.error = f"gave up after {MAX_CHUNK_ATTEMPTS} attempts; retry it from the statement run in admin"
            chunk.save(update_fields=["status", "finished_at", "error"])
            logger.error("statement chunk %s given up after %d attempts", chunk_id, MAX_CHUNK_ATTEMPTS)
            return ChunkStatus.FAILED
        chunk.status = ChunkStatus.RUNNING
        chunk.claimed_at = timezone.now()
        chunk.attempts += 1
        chunk.save(update_fields=["status", "claimed_at", "attempts"])
    return "claimed"


def _test_pause() -> None:
    """Fault-injection hook for the crash tests: hold the chunk transaction open a while."""
    pause = float(os.environ.get("PORTAL_TEST_STATEMENT_CHUNK_PAUSE", "0") or 0)
    if pause > 0:
        time.sleep(pause)


@dataclass
class ChunkOutcome:
    chunk_id: int
    status: str
    stored: int = 0
    failed: int = 0


def process_chunk(chunk_id: int) -> ChunkOutcome:
    """Make the statements of one chunk. Idempotent: a finished chunk is left alone, and a chunk
    another live worker is doing is skipped (BUSY) rather than waited for.

    All statements, their notifications and the chunk's "done" mark commit together while the
    chunk row is locked; a crash before the commit leaves no trace but the claim, and the chunk
    is simply done again (by the broker's redelivery or the sweep).
    """
    claimed = _claim(chunk_id)
    if claimed != "claimed":
        return ChunkOutcome(chunk_id, claimed)
    try:
        with transaction.atomic():
            chunk = _lock_chunk(chunk_id)
            if chunk is None or chunk.status == ChunkStatus.DONE:  # lost a race to another worker
                return ChunkOutcome(chunk_id, BUSY if chunk is None else ChunkStatus.DONE)
            month = chunk.run.month
            existing = set(
                MonthlyStatement.objects.filter(
                    month=month, account_id__gte=chunk.first_account_id, account_id__lte=chunk.last_account_id
                ).values_list("account_id", flat=True)
            )
            result = compute_range(month, chunk.first_account_id, chunk.last_account_id, existing)
            store_statements(result.statements, chunk.run)
            _test_pause()
            chunk.status = ChunkStatus.DONE
            chunk.finished_at = timezone.now()
            chunk.statements = len(existing) + len(result.statements)
            chunk.failed = len(result.failures)
            chunk.error = "\n".join(str(f) for f in result.failures[:50])
            chunk.save(update_fields=["status", "finished_at", "statements", "failed", "error"])
            run_id = chunk.run_id
    except Exception as exc:
        StatementChunk.objects.filter(pk=chunk_id).exclude(status=ChunkStatus.DONE).update(
            status=ChunkStatus.FAILED, finished_at=timezone.now(), error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        logger.exception("statement chunk %s failed", chunk_id)
        raise
    if result.failures:
        logger.error(
            "statement chunk %s: %d account(s) did not reconcile and got NO statement", chunk_id, len(result.failures)
        )
    _finish_run_if_complete(run_id)
    return ChunkOutcome(chunk_id, ChunkStatus.DONE, len(result.statements), len(result.failures))


def _finish_run_if_complete(run_id: int) -> None:
    unfinished = StatementChunk.objects.filter(run=OuterRef("pk")).exclude(status=ChunkStatus.DONE)
    StatementRun.objects.filter(pk=run_id, finished_at__isnull=True).filter(~Exists(unfinished)).update(
        finished_at=timezone.now()
    )


# A chunk RUNNING without a live lock for this long belongs to a dead worker (the margin
# covers the instant between the committed claim and the work's lock).
DEAD_CLAIM_SECONDS = 30


def requeue_lost_chunks(now: datetime.datetime | None = None, *, lost_after: int | None = None) -> list[int]:
    """Queue again the chunks whose worker or message vanished. Returns their ids.

    Lost are: chunks RUNNING whose row nobody holds locked (their worker died: the lock went
    with its connection); chunks queued long ago and never claimed (the message was lost, e.g.
    a broker restart); failed chunks with attempts left. Queuing a chunk twice is harmless:
    the second task finds it done or busy.
    """
    now = now or timezone.now()
    queued_cutoff = now - datetime.timedelta(seconds=lost_after if lost_after is not None else lost_after_seconds())
    claim_cutoff = now - datetime.timedelta(seconds=lost_after if lost_after is not None else DEAD_CLAIM_SECONDS)
    with transaction.atomic():
        candidates = StatementChunk.objects.select_for_update(skip_locked=True).filter(
            Q(status=ChunkStatus.RUNNING, claimed_at__lt=claim_cutoff)
            | Q(status=ChunkStatus.PENDING, queued_at__isnull=True)
            | Q(status=ChunkStatus.PENDING, queued_at__lt=queued_cutoff)
            | Q(status=ChunkStatus.FAILED, attempts__lt=MAX_CHUNK_ATTEMPTS, finished_at__lt=queued_cutoff)
        )
        found = list(candidates.order_by("run_id", "number").values_list("run_id", "id"))
        if not found:
            return []
        StatementChunk.objects.filter(pk__in=[pk for _, pk in found]).update(status=ChunkStatus.PENDING, queued_at=now)
        by_run: dict[int, list[int]] = defaultdict(list)
        for run_id, pk in found:
            by_run[run_id].append(pk)
        for run_id, ids in by_run.items():
            logger.warning("re-queuing %d lost statement chunk(s) of run %s", len(ids), run_id)
            transaction.on_commit(functools.partial(enqueue_chunks, run_id, ids))
    return [pk for _, pk in found]


def ensure_previous_month_run(now: datetime.datetime | None = None) -> StartResult | None:
    """Start last month's run if nobody has (beat missed the 1st); None when it exists."""
    now = now or timezone.now()
    month = previous_month(timezone.localtime(now).date())
    if now < month_bounds(month)[1] + datetime.timedelta(hours=2):
        return None  # the beat starts it at 01:30 on the 1st; this is only the safety net
    if StatementRun.objects.filter(month=month).exists():
        return None
    return start_statement_run(month)


@dataclass
class Progress:
    total_accounts: int
    statements: int
    failed: int
    chunks_total: int
    chunks_done: int
    chunks_failed: int
    chunks_running: int

    @property
    def percent(self) -> int:
        return 100 if not self.total_accounts else min(100, (self.statements + self.failed) * 100 // self.total_accounts)


def run_progress(run: StatementRun) -> Progress:
    agg = StatementChunk.objects.filter(run=run).aggregate(
        statements=Sum("statements", filter=Q(status=ChunkStatus.DONE), default=0),
        failed=Sum("failed", filter=Q(status=ChunkStatus.DONE), default=0),
        done=Count("id", filter=Q(status=ChunkStatus.DONE)),
        broken=Count("id", filter=Q(status=ChunkStatus.FAILED)),
        running=Count("id", filter=Q(status=ChunkStatus.RUNNING)),
    )
    return Progress(
        run.total_accounts, agg["statements"], agg["failed"], run.total_chunks, agg["done"], agg["broken"], agg["running"]
    )


def run_sync(
    month: datetime.date, *, chunk_size: int = DEFAULT_CHUNK_SIZE, wait_seconds: float | None = None
) -> tuple[StartResult, Progress]:
    """Run (or finish) a month's statements in this process, without workers.

    Chunks that another live process is doing are not done twice: they are looked at again
    until that process has finished them (or ``wait_seconds`` have passed).
    """
    started = start_statement_run(month, chunk_size=chunk_size, enqueue=False)
    deadline = time.monotonic() + (wait_seconds if wait_seconds is not None else lost_after_seconds())
    todo = list(started.queued)
    while todo:
        todo = [chunk_id for chunk_id in todo if process_chunk(chunk_id).status == BUSY]
        if todo:
            if time.monotonic() > deadline:
                break
            time.sleep(0.25)
    run = StatementRun.objects.get(pk=started.run.pk)
    return started, run_progress(run)
