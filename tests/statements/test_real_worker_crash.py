"""A real worker killed with SIGKILL in the middle of the monthly run: after a restart every
statement exists exactly once (acks_late + visibility timeout + idempotent chunks)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db.models import Count, Sum

from accounts.models import Notification
from payments import ledger
from statements.models import ChunkStatus, MonthlyStatement, StatementChunk, StatementRun
from statements.monthly import start_statement_run
from tests.conftest import make_person

from .conftest import BEFORE, MONTH, at, credit, pay
from .realparts import RedisServer, Worker, broker, wait_for, worker_env

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.redis,
              pytest.mark.django_db(transaction=True)]

HOLDERS = 240
CHUNK = 20


def _holders(count: int) -> list[Any]:
    people = []
    for i in range(count):
        person = make_person(f"持卡人{i:03d}")
        credit(person, 10_000 + i, BEFORE)
        credit(person, 5_000, at(1 + i % 28))
        pay(person, person, 1_000 + i, "outpatient", at(2 + i % 27))
        people.append(person)
    return people


def test_it_makes_every_statement_exactly_once_after_a_worker_is_killed_mid_run(
    require_postgres: None, require_redis: str, tmp_path: Path
) -> None:
    people = _holders(HOLDERS)
    redis = RedisServer()
    redis.start()
    # Every chunk holds its transaction open for 0.6 s, so the kill lands inside chunks.
    env = worker_env(redis.url, PORTAL_TEST_STATEMENT_CHUNK_PAUSE="0.6")
    worker = Worker(env, tmp_path / "worker.log", "crash1")
    try:
        worker.start()
        with broker(redis.url):
            started = start_statement_run(MONTH, chunk_size=CHUNK)
        assert len(started.queued) == HOLDERS // CHUNK

        def some_done_and_one_in_progress() -> bool:
            chunks = StatementChunk.objects
            return chunks.filter(status=ChunkStatus.DONE).count() >= 2 and chunks.filter(status=ChunkStatus.RUNNING).exists()

        wait_for(some_done_and_one_in_progress, 30, "the first chunks", interval=0.05)
        worker.kill9()
        done_at_kill = StatementChunk.objects.filter(status=ChunkStatus.DONE).count()
        assert done_at_kill < HOLDERS // CHUNK, "the run finished before the kill; the test proves nothing"
        assert StatementChunk.objects.filter(status=ChunkStatus.RUNNING).exists()

        worker = Worker(env, tmp_path / "worker.log", "crash2")
        worker.start()
        run = StatementRun.objects.get(month=MONTH)
        wait_for(lambda: StatementRun.objects.get(pk=run.pk).finished_at is not None, 45, "the run to finish after the restart")
    finally:
        worker.stop()
        redis.stop()

    statements = MonthlyStatement.objects.filter(month=MONTH)
    assert statements.count() == HOLDERS
    assert statements.values("account").distinct().count() == HOLDERS
    assert not statements.values("account").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert set(statements.values_list("person_id", flat=True)) == {p.pk for p in people}
    chunks = StatementChunk.objects.filter(run=run)
    assert chunks.filter(status=ChunkStatus.DONE).count() == chunks.count()
    assert chunks.aggregate(total=Sum("statements"))["total"] == HOLDERS
    # The chunks that were mid-transaction at the kill were done again (a second attempt).
    assert chunks.filter(attempts__gt=1).exists()
    assert Notification.objects.filter(kind="statement_ready").count() == HOLDERS
    assert ledger.invariant_violations() == []
    # The figures are right, not only present.
    sample = statements.get(person=people[7])
    assert (sample.opening_fen, sample.credits_fen, sample.spending_fen) == (10_007, 5_000, 1_007)
