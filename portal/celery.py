"""The Celery application. Tasks live in each app's tasks.py; the beat schedule is here."""

import os
from typing import Any

from celery import Celery
from celery.schedules import crontab

from portal.observability import connect_task_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")


@app.on_configure.connect
def _make_broker_folders(sender: Celery, **_: object) -> None:
    """The embedded filesystem broker (no REDIS_URL) needs its folders before anyone connects."""
    from django.conf import settings

    if str(settings.CELERY_BROKER_URL).startswith("filesystem"):
        for key in ("data_folder_in", "processed_folder", "control_folder"):
            os.makedirs(str(settings.CELERY_BROKER_TRANSPORT_OPTIONS[key]), exist_ok=True)
app.autodiscover_tasks()
connect_task_logging()  # one log line per task, with the request id of the request that enqueued it

app.conf.beat_schedule = {
    "relay-notification-outbox": {
        "task": "accounts.tasks.relay_outbox_task",
        "schedule": 30.0,
    },
    # Monthly statements: on the 1st at 01:30 (portal time zone) for the month just ended.
    "monthly-statements": {
        "task": "payments.tasks.start_statement_run_task",
        "schedule": crontab(minute=30, hour=1, day_of_month=1),
    },
    # Re-queue statement chunks whose worker died or whose message was lost; start a missed month.
    "requeue-lost-statement-chunks": {
        "task": "payments.tasks.requeue_lost_statement_chunks_task",
        "schedule": 300.0,
    },
}


def add_schedule(name: str, task: str, schedule: object) -> None:
    """Let apps add their periodic tasks without this module importing them."""
    app.conf.beat_schedule[name] = {"task": task, "schedule": schedule}


def enqueue(task_name: str, *args: Any) -> None:
    """Queue the task registered under ``task_name`` (its module path and function name).

    Services name the task they enqueue instead of importing it: tasks import services, never
    the reverse. Raises as ``delay`` does when the broker cannot be reached.
    """
    task = app.tasks.get(task_name)
    if task is None:
        app.loader.import_default_modules()  # a web process has not imported the apps' tasks yet
        task = app.tasks.get(task_name)
    if task is None:
        app.send_task(task_name, args=args)
    else:
        task.delay(*args)


__all__ = ["app", "add_schedule", "crontab", "enqueue"]
