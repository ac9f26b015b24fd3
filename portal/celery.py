"""The Celery application. Tasks live in each app's tasks.py; the beat schedule is here."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    "relay-notification-outbox": {
        "task": "accounts.tasks.relay_outbox_task",
        "schedule": 30.0,
    },
}


def add_schedule(name: str, task: str, schedule: object) -> None:
    """Let apps add their periodic tasks without this module importing them."""
    app.conf.beat_schedule[name] = {"task": task, "schedule": schedule}


__all__ = ["app", "add_schedule", "crontab"]
