"""The monthly job started several times at once (two by hand with --sync, one queued to a real
worker): one run, one set of statements, one notice per holder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.db.models import Count

from accounts.models import Notification
from statements.models import ChunkStatus, MonthlyStatement, StatementChunk, StatementRun
from tests.conftest import make_person

from .conftest import BEFORE, MONTH, at, credit, pay
from .realparts import ROOT, RedisServer, Worker, wait_for, worker_env

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.redis,
              pytest.mark.django_db(transaction=True)]

HOLDERS = 150


def test_it_makes_one_set_of_statements_when_started_three_times_at_once(
    require_postgres: None, require_redis: str, tmp_path: Path
) -> None:
    people: list[Any] = []
    for i in range(HOLDERS):
        person = make_person(f"并发{i:03d}")
        credit(person, 20_000, BEFORE)
        pay(person, person, 500 + i, "pharmacy_drug", at(1 + i % 28))
        people.append(person)
    redis = RedisServer()
    redis.start()
    env = worker_env(redis.url, PORTAL_TEST_STATEMENT_CHUNK_PAUSE="0.2")
    worker = Worker(env, tmp_path / "worker.log", "twice")
    command = [sys.executable, "manage.py", "generate_statements", "--month", "2025-10", "--chunk-size", "10"]
    try:
        worker.start()
        starters = [
            subprocess.Popen(command + ["--sync"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT),
            subprocess.Popen(command + ["--sync"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT),
            subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT),
        ]
        outputs = [p.communicate(timeout=50)[0].decode() for p in starters]
        for process, output in zip(starters, outputs, strict=True):
            assert process.returncode == 0, output
        assert sum("run started" in out for out in outputs) == 1, outputs
        wait_for(lambda: StatementRun.objects.filter(finished_at__isnull=False).exists(), 30, "the run to finish")
    finally:
        for process in starters if "starters" in locals() else []:
            if process.poll() is None:
                process.kill()
        worker.stop()
        redis.stop()

    assert StatementRun.objects.count() == 1
    statements = MonthlyStatement.objects.filter(month=MONTH)
    assert statements.count() == HOLDERS
    assert not statements.values("account").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert set(statements.values_list("person_id", flat=True)) == {p.pk for p in people}
    assert StatementChunk.objects.exclude(status=ChunkStatus.DONE).count() == 0
    assert Notification.objects.filter(kind="statement_ready").count() == HOLDERS
    assert Notification.objects.values("person").annotate(n=Count("id")).filter(n__gt=1).count() == 0
