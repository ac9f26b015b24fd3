"""Notification delivery. Tasks take ids and are safe to run twice."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from .channels import get_sender
from .models import Channel, Delivery, Notification

logger = logging.getLogger(__name__)

SECRET_KINDS = {"one_time_code"}


def _channels_for(notification: Notification) -> list[tuple[str, str]]:
    person = notification.person
    user = getattr(person, "user", None)
    channels: list[tuple[str, str]] = []
    wants_sms = user.notify_sms if user is not None else True
    if notification.kind in SECRET_KINDS:
        wants_sms = True  # codes always go to the registered phone
    if wants_sms and person.phone:
        channels.append((Channel.SMS, person.phone))
    if user is not None and user.notify_email and user.email and notification.kind not in SECRET_KINDS:
        channels.append((Channel.EMAIL, user.email))
    return channels


def deliver_notification(notification_id: int) -> int:
    """Send a notification on each of its person's channels, once per channel. Returns sends."""
    sent = 0
    try:
        notification = Notification.objects.select_related("person", "person__user").get(pk=notification_id)
    except Notification.DoesNotExist:
        return 0
    for channel, address in _channels_for(notification):
        with transaction.atomic():
            delivery, _ = Delivery.objects.get_or_create(
                notification=notification, channel=channel, defaults={"address": address}
            )
            delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
            if delivery.sent_at is not None:
                continue
            delivery.attempts += 1
            try:
                get_sender(channel).send(address, notification.subject, notification.body)
            except Exception as exc:
                delivery.error = str(exc)[:500]
                delivery.save(update_fields=["attempts", "error"])
                logger.warning("delivery %s failed: %s", delivery.pk, exc)
                continue
            delivery.sent_at = timezone.now()
            delivery.error = ""
            delivery.save(update_fields=["attempts", "error", "sent_at"])
            sent += 1
    updates: dict[str, object] = {"relayed_at": timezone.now()}
    if notification.kind in SECRET_KINDS:
        updates["body"] = "—"  # a code is not kept once it has been handed to the sender
    Notification.objects.filter(pk=notification.pk).update(**updates)
    return sent


@shared_task(acks_late=True, ignore_result=True)
def deliver_notification_task(notification_id: int) -> int:
    return deliver_notification(notification_id)


@shared_task(ignore_result=True)
def relay_outbox_task(older_than_seconds: int = 20, batch: int = 500) -> int:
    """Re-enqueue notifications whose delivery never ran (broker was down, worker died)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    ids = list(
        Notification.objects.filter(relayed_at__isnull=True, created_at__lte=cutoff)
        .order_by("id")
        .values_list("id", flat=True)[:batch]
    )
    for notification_id in ids:
        deliver_notification_task.delay(notification_id)
    return len(ids)
