"""Notification delivery. Tasks take ids and are safe to run twice (or ten times).

Exactly-once on each channel rests on the Delivery row: unique per (notification, channel),
locked (SELECT ... FOR UPDATE) while the message is handed to the sender, and marked sent in
that same transaction. A second task for the same notification waits for the lock, then sees
``sent_at`` and skips. A notification leaves the outbox (``relayed_at`` set) only once every
channel has been sent or has used up its attempts, so a failed send is retried by the relay.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from .channels import get_sender
from .idnumbers import mask_address
from .models import Channel, Delivery, Notification

logger = logging.getLogger(__name__)

SECRET_KINDS = {"one_time_code"}
# Always texted to the registered phone, whatever the person's channel choice.
PHONE_KINDS = SECRET_KINDS | {"signup_existing_account"}
# A channel that failed this many times is given up (the message stays in the inbox).
MAX_ATTEMPTS = 5


def _channels_for(notification: Notification) -> list[tuple[str, str]]:
    person = notification.person
    user = getattr(person, "user", None)
    channels: list[tuple[str, str]] = []
    wants_sms = user.notify_sms if user is not None else True
    if notification.kind in PHONE_KINDS:
        wants_sms = True  # codes always go to the registered phone
    if wants_sms and person.phone:
        channels.append((Channel.SMS, person.phone))
    if user is not None and user.notify_email and user.email and notification.kind not in SECRET_KINDS:
        channels.append((Channel.EMAIL, user.email))
    return channels


def _deliver_on(notification: Notification, channel: str, address: str) -> tuple[bool, bool]:
    """Send on one channel unless already sent. Returns (sent_now, finished_with_channel)."""
    with transaction.atomic():
        # Only a masked address is kept: the real one is read from the registry at send time.
        Delivery.objects.get_or_create(notification=notification, channel=channel,
                                       defaults={"address": mask_address(channel, address)})
        delivery = Delivery.objects.select_for_update().get(notification=notification, channel=channel)
        if delivery.sent_at is not None:
            return False, True
        if delivery.attempts >= MAX_ATTEMPTS:
            return False, True
        delivery.attempts += 1
        sender = get_sender(channel)
        try:
            if getattr(sender, "accepts_key", False):  # the same key on every attempt (HttpSmsSender)
                sender.send(address, notification.subject, notification.body,  # type: ignore[call-arg]
                            key=f"notification-{notification.pk}-{channel}")
            else:
                sender.send(address, notification.subject, notification.body)
        except Exception as exc:
            delivery.error = str(exc)[:500]
            delivery.save(update_fields=["attempts", "error"])
            logger.warning("delivery %s failed (attempt %s): %s", delivery.pk, delivery.attempts, exc)
            return False, delivery.attempts >= MAX_ATTEMPTS
        delivery.sent_at = timezone.now()
        delivery.error = ""
        delivery.save(update_fields=["attempts", "error", "sent_at"])
        return True, True


def deliver_notification(notification_id: int) -> int:
    """Send a notification on each of its person's channels, once per channel. Returns sends."""
    try:
        notification = Notification.objects.select_related("person", "person__user").get(pk=notification_id)
    except Notification.DoesNotExist:
        return 0
    if notification.relayed_at is not None:
        return 0  # a duplicate task (relay and on-commit enqueue both fired): nothing to do
    sent = 0
    finished = True
    for channel, address in _channels_for(notification):
        sent_now, done = _deliver_on(notification, channel, address)
        sent += int(sent_now)
        finished = finished and done
    if finished:
        updates: dict[str, object] = {"relayed_at": timezone.now()}
        if notification.kind in SECRET_KINDS:
            updates["body"] = "—"  # a code is not kept once it has been handed to the sender
        Notification.objects.filter(pk=notification.pk, relayed_at__isnull=True).update(**updates)
    return sent


@shared_task(acks_late=True, ignore_result=True)
def deliver_notification_task(notification_id: int) -> int:
    return deliver_notification(notification_id)


@shared_task(acks_late=True, ignore_result=True)
def deliver_notifications_task(notification_ids: list[int]) -> int:
    """Deliver a batch (at most notifications.DELIVERY_BATCH ids); each one idempotently."""
    return sum(deliver_notification(int(pk)) for pk in notification_ids)


def relay_outbox(older_than_seconds: int = 20, batch: int = 2000) -> int:
    """Queue again the notifications whose delivery never completed. Returns how many.

    They are those still without ``relayed_at`` after ``older_than_seconds``: the broker was
    down when they were written, a worker died, a broker restart lost its queue, or a channel
    failed and deserves another attempt. Delivery is idempotent, so a notification that is
    merely still waiting in the queue costs one cheap look-up when it comes round twice.
    """
    from .notifications import DELIVERY_BATCH

    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    ids = list(
        Notification.objects.filter(relayed_at__isnull=True, created_at__lte=cutoff)
        .order_by("id")
        .values_list("id", flat=True)[:batch]
    )
    for start in range(0, len(ids), DELIVERY_BATCH):
        deliver_notifications_task.delay(ids[start : start + DELIVERY_BATCH])
    if ids:
        from .notifications import broker_breaker

        broker_breaker.reset()
    return len(ids)


@shared_task(acks_late=True, ignore_result=True)
def relay_outbox_task(older_than_seconds: int = 20, batch: int = 2000) -> int:
    """Periodic (beat, every 30 s): the outbox relay."""
    return relay_outbox(older_than_seconds, batch)
