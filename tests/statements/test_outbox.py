"""The notification outbox: nothing lost while the broker is down, nothing sent twice."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from kombu.exceptions import OperationalError

from accounts import tasks as delivery
from accounts.models import Delivery, Notification
from accounts.notifications import NotificationSpec, broker_breaker, notify, notify_many
from accounts.tasks import MAX_ATTEMPTS, deliver_notification, relay_outbox


class BrokerDown:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        self.calls += 1
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def _notify(person: Any, text: str) -> Notification | None:
    with transaction.atomic():
        return notify(person, "test", "Payment", text)


def test_it_keeps_working_while_the_broker_is_down_and_delivers_later(
    holder: Any, sent_messages: list[Any], monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    down = BrokerDown()
    monkeypatch.setattr(delivery.deliver_notification_task, "delay", down)
    with django_capture_on_commit_callbacks(execute=True):
        first = _notify(holder, "one")
    with django_capture_on_commit_callbacks(execute=True):
        second = _notify(holder, "two")

    assert first is not None and second is not None
    assert down.calls == 1  # after one failure the breaker skips the broker (no waiting on it)
    assert broker_breaker.is_open()
    assert sent_messages == []
    assert Notification.objects.filter(relayed_at__isnull=True).count() == 2

    monkeypatch.undo()  # the broker is back; the periodic relay runs
    assert relay_outbox(older_than_seconds=0) == 2
    assert sorted(m.body for m in sent_messages) == ["one", "two"]
    assert not broker_breaker.is_open()
    assert relay_outbox(older_than_seconds=0) == 0
    assert len(sent_messages) == 2


def test_it_sends_each_channel_once_however_often_delivery_runs(holder: Any, sent_messages: list[Any]) -> None:
    note = _notify(holder, "once")
    assert note is not None
    sent_messages.clear()
    Notification.objects.filter(pk=note.pk).update(relayed_at=None)
    Delivery.objects.all().delete()
    for _ in range(3):
        deliver_notification(note.pk)
        Notification.objects.filter(pk=note.pk).update(relayed_at=None)  # as if the relay ran again
    assert [m.body for m in sent_messages] == ["once"]
    assert Delivery.objects.get(notification=note).attempts == 1


def test_it_retries_a_failed_channel_until_it_is_sent(
    holder: Any, sent_messages: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    class Flaky:
        def send(self, address: str, subject: str, body: str) -> None:
            raise RuntimeError("gateway timeout")

    monkeypatch.setattr(delivery, "get_sender", lambda channel: Flaky())
    note = _notify(holder, "retry me")
    assert note is not None
    deliver_notification(note.pk)  # the task enqueued on commit
    note.refresh_from_db()
    assert note.relayed_at is None  # still in the outbox
    assert Delivery.objects.get(notification=note).error == "gateway timeout"

    monkeypatch.undo()
    relay_outbox(older_than_seconds=0)
    note.refresh_from_db()
    assert note.relayed_at is not None
    assert [m.body for m in sent_messages] == ["retry me"]


def test_it_gives_up_a_channel_after_its_attempts_are_used(holder: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken:
        def send(self, address: str, subject: str, body: str) -> None:
            raise RuntimeError("number does not exist")

    monkeypatch.setattr(delivery, "get_sender", lambda channel: Broken())
    note = _notify(holder, "never")
    assert note is not None
    for _ in range(MAX_ATTEMPTS + 2):
        relay_outbox(older_than_seconds=0)
    note.refresh_from_db()
    assert note.relayed_at is not None  # it stays in the inbox; the relay stops trying
    assert Delivery.objects.get(notification=note).attempts == MAX_ATTEMPTS


def test_it_notifies_many_people_once_and_enqueues_in_batches(
    holder: Any, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    batches: list[list[int]] = []
    monkeypatch.setattr(delivery.deliver_notifications_task, "delay", lambda ids: batches.append(ids))
    specs = [NotificationSpec(holder, "bulk", "Hello", "Body %(n)s", f"bulk:{i}", {"n": i}) for i in range(250)]
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notify_many(specs)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notify_many(specs)  # a job that runs twice

    assert Notification.objects.filter(kind="bulk").count() == 250
    assert [len(b) for b in batches[:3]] == [100, 100, 50]
    assert len({pk for b in batches for pk in b}) == 250


def test_the_courier_enqueues_from_its_own_thread_in_one_batch(
    db: Any, settings: Any, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    """With the courier on (as outside tests), a committing request does not publish to the
    broker itself: the courier thread does, and ids committed close together go as one task."""
    import threading

    from accounts import notifications

    settings.NOTIFICATION_COURIER = True
    settings.NOTIFICATION_GATHER_SECONDS = 0.2
    calls: list[tuple[str, list[int]]] = []
    done = threading.Event()

    def record(ids: Any) -> bool:
        calls.append((threading.current_thread().name, list(ids)))
        done.set()
        return True

    monkeypatch.setattr(notifications, "enqueue_delivery", record)
    with django_capture_on_commit_callbacks(execute=True):
        notifications.deliver_after_commit([11])
        notifications.deliver_after_commit([12, 13])
        assert calls == []  # nothing before the commit
    assert done.wait(5)
    assert calls == [("notification-courier", [11, 12, 13])]
    done.clear()
    with django_capture_on_commit_callbacks(execute=True):
        notifications.deliver_after_commit([14])
    assert done.wait(5)
    assert calls[1:] == [("notification-courier", [14])]
