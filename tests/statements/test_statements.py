"""Monthly statements computed from the ledger: figures, reconciliation, exactly one per month."""

from __future__ import annotations

import datetime
import logging
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from accounts.models import Notification
from payments import ledger
from statements.models import ChunkStatus, MonthlyStatement, StatementChunk, StatementRun
from statements.monthly import (
    StatementError,
    StatementMismatch,
    compute_statement,
    parse_month,
    run_progress,
    run_sync,
    start_statement_run,
)
from tests.conftest import make_person

from .conftest import AFTER, BEFORE, MONTH, at, credit, open_account, pay, premium, refund, reverse


@pytest.fixture
def family(holder: Any, mother: Any) -> dict[str, Any]:
    """张伟's account: 500 before the month; in October a credit, care for himself and his
    mother, a refund, a premium and a correction; one more payment in November."""
    account = open_account(holder)
    credit(holder, 50_000, BEFORE)
    credit(holder, 30_000, at(1))
    pay(holder, holder, 8_000, "outpatient", at(3))
    pay(holder, mother, 12_000, "pharmacy_drug", at(10))
    refund(holder, mother, 2_000, "pharmacy_drug", at(12))
    premium(holder, mother, 38_000, at(20))
    wrong = pay(holder, mother, 1_500, "outpatient", at(25))
    reverse(wrong, at(26))
    pay(holder, holder, 999, "outpatient", AFTER)
    return {"account": account}


def test_it_reports_opening_movements_and_closing_for_the_month(family: dict[str, Any], holder: Any, mother: Any) -> None:
    figures = compute_statement(family["account"], MONTH)

    assert figures.opening_fen == 50_000
    assert figures.credits_fen == 30_000
    assert figures.spending_fen == 8_000 + 12_000 + 1_500
    assert figures.refunds_fen == 2_000
    assert figures.premiums_fen == 38_000
    assert figures.corrections_fen == 1_500
    assert figures.closing_fen == 50_000 + 30_000 - 8_000 - 12_000 + 2_000 - 38_000 - 1_500 + 1_500
    # The closing balance is the ledger balance at the end of the month.
    assert figures.closing_fen == ledger.balance_of(holder) + 999
    people = {line["name"]: line for line in figures.by_person}
    assert people["张伟"]["is_holder"] and people["张伟"]["net_fen"] == 8_000
    assert people["李秀英"]["net_fen"] == 12_000 + 1_500 - 2_000 + 38_000 - 1_500
    assert people["李秀英"]["premiums_fen"] == 38_000 and people["李秀英"]["refunds_fen"] == 2_000
    categories = {row["category"]: row["net_fen"] for row in figures.by_category}
    assert categories == {"outpatient": 8_000, "pharmacy_drug": 10_000, "resident_premium": 38_000}


def test_it_stores_exactly_one_statement_per_account_and_month(family: dict[str, Any], holder: Any) -> None:
    run_sync(MONTH)
    run_sync(MONTH)
    start_statement_run(MONTH, enqueue=False)

    assert MonthlyStatement.objects.filter(person=holder, month=MONTH).count() == 1
    assert StatementRun.objects.filter(month=MONTH).count() == 1
    stored = MonthlyStatement.objects.get(person=holder)
    assert stored.closing_fen == compute_statement(family["account"], MONTH).closing_fen
    with pytest.raises(IntegrityError), transaction.atomic():
        MonthlyStatement.objects.create(
            account=family["account"], person=holder, month=MONTH, opening_fen=0, credits_fen=0, spending_fen=0,
            refunds_fen=0, premiums_fen=0, corrections_fen=0, closing_fen=0,
        )


def test_it_lets_the_database_refuse_figures_that_do_not_add_up(family: dict[str, Any], holder: Any) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        MonthlyStatement.objects.create(
            account=family["account"], person=holder, month=MONTH, opening_fen=100, credits_fen=50, spending_fen=0,
            refunds_fen=0, premiums_fen=0, corrections_fen=0, closing_fen=149,
        )


def _corrupt_stored_balance(account_id: int, delta: int) -> None:
    """Make the stored balance disagree with the entries, as a bypassed trigger would."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("UPDATE payments_ledgeraccount SET balance_fen = balance_fen + %s WHERE id = %s", [delta, account_id])
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = origin")


def test_it_refuses_to_store_a_statement_that_does_not_reconcile(
    family: dict[str, Any], holder: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    healthy = make_person("赵敏")
    credit(healthy, 10_000, at(5))
    _corrupt_stored_balance(family["account"].pk, 700)

    with pytest.raises(StatementMismatch, match="ledger balance at month end"):
        compute_statement(family["account"], MONTH)
    with caplog.at_level(logging.ERROR, logger="statements.monthly"), pytest.raises(CommandError, match="could not be made"):
        call_command("generate_statements", "--month", "2025-10", "--sync")

    assert not MonthlyStatement.objects.filter(person=holder).exists()
    assert MonthlyStatement.objects.filter(person=healthy, month=MONTH).exists()
    chunk = StatementChunk.objects.get()
    assert chunk.failed == 1 and f"account {family['account'].pk}" in chunk.error
    assert run_progress(chunk.run).failed == 1
    assert any("NOT stored" in r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)
    # Repair the ledger (in real life: find and fix the cause), run again: now it is made.
    _corrupt_stored_balance(family["account"].pk, -700)
    monkeypatch.setattr("sys.stdout", __import__("io").StringIO())
    call_command("generate_statements", "--month", "2025-10", "--sync")
    assert MonthlyStatement.objects.filter(person=holder, month=MONTH).count() == 1
    assert StatementChunk.objects.get().failed == 0


def test_it_explains_a_bad_month_and_refuses_a_month_that_has_not_ended(db: Any) -> None:
    for bad in ["2025-13", "October", "2025-1", ""]:
        with pytest.raises(CommandError, match="YYYY-MM"):
            call_command("generate_statements", "--month", bad)
    next_year = datetime.date.today().year + 1
    with pytest.raises(CommandError, match="has not ended yet"):
        call_command("generate_statements", "--month", f"{next_year}-01")
    assert not StatementRun.objects.exists()
    with pytest.raises(StatementError):
        parse_month("2025-00")


def test_it_notifies_the_holder_once_when_the_statement_is_ready(
    family: dict[str, Any], holder: Any, sent_messages: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        run_sync(MONTH)
    with django_capture_on_commit_callbacks(execute=True):
        run_sync(MONTH)

    notes = Notification.objects.filter(person=holder, kind="statement_ready")
    assert notes.count() == 1
    assert notes.get().link == "/statements/2025-10/"
    assert "2025年10月" in notes.get().subject
    texts = [m for m in sent_messages if m.address == holder.phone]
    assert len(texts) == 1 and "¥" in texts[0].body


def test_it_fans_out_in_chunks_and_reports_progress(db: Any) -> None:
    people = [make_person(f"持卡人{i}") for i in range(5)]
    for i, person in enumerate(people):
        credit(person, 1_000 * (i + 1), at(2))
    late = make_person("新参保")
    open_account(late, when=AFTER)  # opened after the month: no statement for October

    started = start_statement_run(MONTH, chunk_size=2, enqueue=False)

    chunks = list(StatementChunk.objects.filter(run=started.run).order_by("number"))
    assert [c.size for c in chunks] == [2, 2, 1]
    assert started.run.total_accounts == 5
    assert run_progress(started.run).statements == 0
    run_sync(MONTH)
    run = StatementRun.objects.get()
    progress = run_progress(run)
    assert (progress.statements, progress.failed, progress.chunks_done, progress.percent) == (5, 0, 3, 100)
    assert run.finished_at is not None
    assert MonthlyStatement.objects.filter(month=MONTH).count() == 5
    assert not MonthlyStatement.objects.filter(person=late).exists()


def test_it_makes_an_all_zero_statement_for_a_quiet_month(holder: Any) -> None:
    credit(holder, 4_200, BEFORE)
    run_sync(MONTH)
    statement = MonthlyStatement.objects.get(person=holder)
    assert (statement.opening_fen, statement.closing_fen, statement.entry_count) == (4_200, 4_200, 0)
    assert statement.by_person == []


def test_it_records_a_chunk_that_crashed_and_does_it_again_later(
    family: dict[str, Any], holder: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from statements import monthly as statements

    started = start_statement_run(MONTH, enqueue=False)
    chunk_id = started.queued[0]

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database went away")

    monkeypatch.setattr(statements, "compute_range", boom)
    with pytest.raises(RuntimeError):
        statements.process_chunk(chunk_id)
    chunk = StatementChunk.objects.get(pk=chunk_id)
    assert chunk.status == ChunkStatus.FAILED and "database went away" in chunk.error
    assert not MonthlyStatement.objects.exists()

    monkeypatch.undo()
    assert statements.requeue_lost_chunks(lost_after=0) == [chunk_id]
    statements.process_chunk(chunk_id)
    assert MonthlyStatement.objects.filter(person=holder).count() == 1
    assert StatementChunk.objects.get(pk=chunk_id).status == ChunkStatus.DONE


def test_it_queues_again_a_chunk_whose_worker_died(
    family: dict[str, Any], holder: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.utils import timezone

    from statements.monthly import requeue_lost_chunks

    started = start_statement_run(MONTH, enqueue=False)
    chunk_id = started.queued[0]
    # A worker claimed it a while ago and then vanished (its lock went with its connection).
    StatementChunk.objects.filter(pk=chunk_id).update(
        status=ChunkStatus.RUNNING, claimed_at=timezone.now() - datetime.timedelta(minutes=5), attempts=1,
        queued_at=timezone.now() - datetime.timedelta(minutes=5),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert requeue_lost_chunks() == [chunk_id]  # eager Celery: the task runs right away
    chunk = StatementChunk.objects.get(pk=chunk_id)
    assert chunk.status == ChunkStatus.DONE and chunk.attempts == 2
    assert MonthlyStatement.objects.filter(person=holder).count() == 1
    # A chunk claimed a moment ago is left to its worker.
    StatementChunk.objects.filter(pk=chunk_id).update(status=ChunkStatus.RUNNING, claimed_at=timezone.now())
    assert requeue_lost_chunks() == []


def test_it_gives_a_chunk_up_after_too_many_attempts(family: dict[str, Any], holder: Any) -> None:
    from statements.monthly import MAX_CHUNK_ATTEMPTS, process_chunk

    started = start_statement_run(MONTH, enqueue=False)
    chunk_id = started.queued[0]
    StatementChunk.objects.filter(pk=chunk_id).update(attempts=MAX_CHUNK_ATTEMPTS)
    assert process_chunk(chunk_id).status == ChunkStatus.FAILED
    assert "gave up" in StatementChunk.objects.get(pk=chunk_id).error
    # Staff retry (admin action / the command again) gives it fresh attempts.
    run_sync(MONTH)
    assert MonthlyStatement.objects.filter(person=holder).count() == 1


def test_it_starts_last_months_run_from_the_beat_task(db: Any) -> None:
    from django.utils import timezone

    from statements.monthly import previous_month
    from statements.tasks import requeue_lost_statement_chunks_task, start_statement_run_task

    run_id = start_statement_run_task()
    assert StatementRun.objects.get(pk=run_id).month == previous_month(timezone.localdate())
    assert start_statement_run_task() == run_id  # the beat may fire twice
    assert start_statement_run_task("2025-10") != run_id
    requeue_lost_statement_chunks_task()
    assert StatementRun.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_it_records_the_run_when_the_queue_is_down_and_the_sweep_queues_it_later(
    family: dict[str, Any], holder: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from kombu.exceptions import OperationalError

    from statements.monthly import requeue_lost_chunks
    from statements.tasks import generate_statement_chunk_task

    def down(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("Connection refused")

    monkeypatch.setattr(generate_statement_chunk_task, "delay", down)
    err = io.StringIO()
    call_command("generate_statements", "--month", "2025-10", stdout=io.StringIO(), stderr=err)
    assert "not reachable" in err.getvalue()
    assert StatementChunk.objects.get().status == ChunkStatus.PENDING
    assert not MonthlyStatement.objects.exists()

    monkeypatch.undo()
    assert len(requeue_lost_chunks(lost_after=0)) == 1  # eager Celery: done on commit
    assert MonthlyStatement.objects.filter(person=holder).count() == 1


def test_it_waits_for_the_month_to_close_before_making_statements(db: Any) -> None:
    import zoneinfo

    from statements.monthly import ensure_month_ended, ensure_previous_month_run

    tz = zoneinfo.ZoneInfo("Asia/Shanghai")
    just_after = datetime.datetime(2025, 11, 1, 0, 5, tzinfo=tz)
    with pytest.raises(StatementError):
        ensure_month_ended(MONTH, now=just_after)  # payments of 31 October may still be committing
    ensure_month_ended(MONTH, now=datetime.datetime(2025, 11, 1, 0, 20, tzinfo=tz))
    assert ensure_previous_month_run(now=just_after) is None  # the beat will start it at 01:30
    assert not StatementRun.objects.exists()
