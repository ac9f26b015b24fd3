"""Writing notifications. Call ``notify`` inside the transaction of the change it announces.

The row is the outbox: it commits or rolls back with the change. Delivery to SMS and e-mail
is enqueued only after the commit, and a periodic relay picks up anything whose enqueue was
lost (broker down, process killed), so nothing is lost and, thanks to one Delivery row per
channel, nothing is sent twice.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import translation

from .models import InsuredPerson, Notification


def person_language(person: InsuredPerson) -> str:
    user = getattr(person, "user", None)
    return getattr(user, "language", None) or "zh-hans"


def render_in_language(person: InsuredPerson, text: Any, params: dict[str, Any] | None = None) -> str:
    with translation.override(person_language(person)):
        rendered = str(text)
        if params:
            rendered = rendered % {k: str(v) for k, v in params.items()}
        return rendered


def notify(
    person: InsuredPerson,
    kind: str,
    subject: Any,
    body: Any,
    params: dict[str, Any] | None = None,
    link: str = "",
    dedupe_key: str | None = None,
) -> Notification | None:
    """Create an inbox notification in the person's language and schedule its delivery.

    ``subject`` and ``body`` are lazy translations; ``params`` fill their %(name)s slots.
    With a ``dedupe_key`` a second call for the same event does nothing (tasks run twice).
    """
    from .tasks import deliver_notification_task

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
            )
    except IntegrityError:
        if dedupe_key:
            return None
        raise
    notification_id = notification.pk

    def enqueue() -> None:
        try:
            deliver_notification_task.delay(notification_id)
        except Exception:  # broker down: the periodic relay will deliver it later
            import logging

            logging.getLogger(__name__).warning("broker unavailable; notification %s left for relay", notification_id)

    transaction.on_commit(enqueue)
    return notification
