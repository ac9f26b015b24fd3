"""Writing notifications. Call ``notify`` inside the transaction of the change it announces.

The row is the outbox: it commits or rolls back with the change. Delivery to SMS and e-mail
is enqueued only after the commit, and a periodic relay (``relay_outbox_task``, every 30 s)
picks up anything whose enqueue was lost (broker down, process killed before the enqueue,
broker restarted without its queue), so nothing is lost; one Delivery row per (notification,
channel), locked while sending, means nothing is sent twice.

While the broker is down the enqueue fails fast and is skipped for a short while (a circuit
breaker), so pages and the settlement API keep answering at full speed; the relay delivers
the waiting notifications once the broker is back.

``deliver_after_commit`` hands the enqueue to a per-process courier thread (with
PORTAL_NOTIFICATION_COURIER, on by default outside tests): a request does not wait for the
broker, and notifications committed within a few milliseconds of each other go out as one
task (publishing a Celery task costs about as much CPU as the rest of a payment). If the
process dies before the courier publishes, the relay delivers them later, as above.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from portal.celery import enqueue

from .models import InsuredPerson, Notification

logger = logging.getLogger(__name__)

# Delivery tasks carry at most this many notification ids.
DELIVERY_BATCH = 100
# After a failed enqueue, skip enqueueing for this long (the relay takes over).
BROKER_BACKOFF_SECONDS = 15.0


def person_language(person: InsuredPerson) -> str:
    user = getattr(person, "user", None)
    return getattr(user, "language", None) or "zh-hans"


def render_in_language(person: InsuredPerson, text: Any, params: dict[str, Any] | None = None) -> str:
    with translation.override(person_language(person)):
        rendered = str(text)
        if params:
            rendered = rendered % {k: str(v) for k, v in params.items()}
        return rendered


class _Breaker:
    """Remembers, per process, that the broker failed recently."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open_until = 0.0

    def is_open(self) -> bool:
        return time.monotonic() < self._open_until

    def trip(self) -> None:
        with self._lock:
            self._open_until = time.monotonic() + BROKER_BACKOFF_SECONDS

    def reset(self) -> None:
        with self._lock:
            self._open_until = 0.0


broker_breaker = _Breaker()


def enqueue_delivery(notification_ids: Sequence[int]) -> bool:
    """Hand notifications to the delivery workers now. Never raises.

    Returns False when the broker is unavailable; the rows stay in the outbox (``relayed_at``
    empty) and the relay delivers them later. Call only after the commit.
    """
    ids = list(notification_ids)
    if not ids:
        return True
    if broker_breaker.is_open():
        logger.info("broker marked down; %d notification(s) left for the relay", len(ids))
        return False
    try:
        if len(ids) == 1:
            enqueue("accounts.tasks.deliver_notification_task", ids[0])
        else:
            for start in range(0, len(ids), DELIVERY_BATCH):
                enqueue("accounts.tasks.deliver_notifications_task", ids[start : start + DELIVERY_BATCH])
    except Exception as exc:  # broker down: the periodic relay will deliver them later
        broker_breaker.trip()
        logger.warning("broker unavailable (%s); %d notification(s) left for the relay", exc, len(ids))
        return False
    return True


class _Courier:
    """Enqueues notifications' delivery from a background thread of this process, in batches."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._ids: list[int] = []
        self._pid = 0  # the process whose thread runs (a forked child starts its own)

    def send(self, notification_ids: Sequence[int]) -> None:
        with self._lock:
            self._ids.extend(notification_ids)
            if self._pid != os.getpid():
                self._pid = os.getpid()
                threading.Thread(target=self._run, name="notification-courier", daemon=True).start()
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(settings.NOTIFICATION_GATHER_SECONDS)  # let a few more arrive
            self._wake.clear()
            with self._lock:
                ids, self._ids = self._ids, []
            if ids:
                enqueue_delivery(ids)  # never raises; on failure the relay delivers them


courier = _Courier()


def deliver_after_commit(notification_ids: Sequence[int]) -> None:
    """Enqueue delivery once the current transaction commits (at once outside a transaction)."""
    ids = list(notification_ids)
    if not ids:
        return
    if settings.NOTIFICATION_COURIER:
        transaction.on_commit(lambda: courier.send(ids))
    else:
        transaction.on_commit(lambda: enqueue_delivery(ids))


def notify(
    person: InsuredPerson,
    kind: str,
    subject: Any,
    body: Any,
    params: dict[str, Any] | None = None,
    link: str = "",
    dedupe_key: str | None = None,
    inbox_only: bool = False,
) -> Notification | None:
    """Create an inbox notification in the person's language and schedule its delivery.

    ``subject`` and ``body`` are lazy translations; ``params`` fill their %(name)s slots.
    With a ``dedupe_key`` a second call for the same event does nothing (tasks run twice).
    ``inbox_only``: a person's own action is confirmed in the inbox only (no text message or
    e-mail about what they just did); the row is born delivered, so the relay leaves it alone.
    """
    if dedupe_key and Notification.objects.filter(dedupe_key=dedupe_key).exists():
        return None
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                person=person,
                kind=kind,
                subject=render_in_language(person, subject, params),
                body=render_in_language(person, body, params),
                link=link,
                dedupe_key=dedupe_key,
                relayed_at=timezone.now() if inbox_only else None,
            )
    except IntegrityError:
        if dedupe_key:
            return None
        raise
    if not inbox_only:
        deliver_after_commit([notification.pk])
    return notification


@dataclass
class NotificationSpec:
    """One notification for ``notify_many``; the same fields as ``notify``'s arguments."""

    person: InsuredPerson
    kind: str
    subject: Any
    body: Any
    dedupe_key: str
    params: dict[str, Any] = field(default_factory=dict)
    link: str = ""


def notify_many(specs: Iterable[NotificationSpec]) -> list[int]:
    """``notify`` for many people at once (bulk jobs such as monthly statements).

    Every spec needs a ``dedupe_key``: rows that already exist are left alone, so a job that
    runs twice notifies once. Returns the ids of the notifications still waiting for delivery;
    their delivery is enqueued after the commit, in batches.
    """
    specs = list(specs)
    if not specs:
        return []
    now = timezone.now()
    rows = [
        Notification(
            person=spec.person,
            kind=spec.kind,
            subject=render_in_language(spec.person, spec.subject, spec.params)[:200],
            body=render_in_language(spec.person, spec.body, spec.params),
            link=spec.link,
            dedupe_key=spec.dedupe_key,
            created_at=now,
        )
        for spec in specs
    ]
    Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    keys = [spec.dedupe_key for spec in specs]
    ids: list[int] = []
    for start in range(0, len(keys), 1000):
        ids.extend(
            Notification.objects.filter(dedupe_key__in=keys[start : start + 1000], relayed_at__isnull=True)
            .order_by("id")
            .values_list("id", flat=True)
        )
    transaction.on_commit(lambda: enqueue_delivery(ids))
    return ids
