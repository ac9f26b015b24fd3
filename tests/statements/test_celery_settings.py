"""Visibility timeout, time limits, prefetch and acknowledgement are set together."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from celery.schedules import crontab
from django.conf import settings

from portal.celery import app

ROOT = Path(__file__).resolve().parents[2]


def test_it_acknowledges_late_and_requeues_the_tasks_of_a_dead_worker() -> None:
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1


def test_it_keeps_a_running_task_invisible_longer_than_it_may_run() -> None:
    soft, hard = app.conf.task_soft_time_limit, app.conf.task_time_limit
    visibility = settings.CELERY_VISIBILITY_TIMEOUT
    assert 0 < soft < hard < visibility
    # What Redis is actually told (the options live in the broker transport settings).
    redis_options = _settings_in_subprocess({"REDIS_URL": "redis://127.0.0.1:6399/0"})
    assert int(redis_options["visibility_timeout"]) == visibility
    assert int(redis_options["visibility_timeout"]) > hard


def test_it_refuses_limits_that_would_hand_a_running_task_to_a_second_worker() -> None:
    env = {**os.environ, "PORTAL_CELERY_TIME_LIMIT": "600", "PORTAL_CELERY_VISIBILITY_TIMEOUT": "300",
           "DJANGO_SETTINGS_MODULE": "portal.test_settings"}
    result = subprocess.run([sys.executable, "-c", "import django; django.setup()"], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "PORTAL_CELERY_VISIBILITY_TIMEOUT" in result.stderr


def test_it_starts_the_statements_on_the_first_and_sweeps_lost_chunks() -> None:
    schedule = app.conf.beat_schedule
    monthly = schedule["monthly-statements"]
    assert monthly["task"] == "statements.tasks.start_statement_run_task"
    assert isinstance(monthly["schedule"], crontab) and monthly["schedule"].day_of_month == {1}
    assert schedule["requeue-lost-statement-chunks"]["task"] == "statements.tasks.requeue_lost_statement_chunks_task"
    assert schedule["relay-notification-outbox"]["schedule"] <= 60
    # Statement work has its own queue, so a bulk run never delays a sign-up code.
    assert app.conf.task_routes["statements.tasks.generate_statement_chunk_task"]["queue"] == "statements"


def _settings_in_subprocess(extra: dict[str, str]) -> dict[str, object]:
    env = {**os.environ, **extra, "DJANGO_SETTINGS_MODULE": "portal.test_settings"}
    code = "import django, json; django.setup(); from django.conf import settings; print(json.dumps(settings.CELERY_BROKER_TRANSPORT_OPTIONS))"
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
    import json

    return json.loads(out.stdout.strip().splitlines()[-1])
