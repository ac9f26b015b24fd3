"""Thin Celery tasks: find the bindings due, then call one service per binding id.

Each service re-checks its condition under lock, so running a task twice changes nothing.
"""

from __future__ import annotations

import datetime

from celery import shared_task
from django.utils import timezone

from . import lifecycle, proposals
from .models import Binding, BindingStatus


@shared_task(ignore_result=True)
def expire_pending_bindings_task() -> int:
    now = timezone.now()
    ids = Binding.objects.pending().filter(consent_deadline__lte=now).values_list("pk", flat=True)
    return sum(proposals.expire_binding(pk, now) for pk in list(ids))


@shared_task(ignore_result=True)
def remind_pending_bindings_task() -> int:
    now = timezone.now()
    ids = Binding.objects.pending().filter(
        reminded_at__isnull=True, consent_deadline__gt=now, consent_deadline__lte=now + datetime.timedelta(days=2)
    ).values_list("pk", flat=True)
    return sum(proposals.remind_pending(pk, now) for pk in list(ids))


@shared_task(ignore_result=True)
def end_dates_task() -> int:
    """End bindings past their end date and remind both people before it."""
    today = timezone.localdate()
    live = Binding.objects.live().exclude(status=BindingStatus.PENDING).filter(end_date__isnull=False)
    ended = sum(lifecycle.end_by_end_date(pk, today) for pk in list(live.filter(end_date__lt=today).values_list("pk", flat=True)))
    due = live.filter(end_date__gte=today, end_reminder_sent_on__isnull=True).values_list("pk", flat=True)
    reminded = sum(lifecycle.remind_end_date(pk, today) for pk in list(due))
    return ended + reminded


@shared_task(ignore_result=True)
def ask_minors_to_confirm_task() -> int:
    today = timezone.localdate()
    # The policy age is at most a few decades; the service checks each person's exact age.
    ids = Binding.objects.live().filter(
        auto_activated=True, confirmation_requested_at__isnull=True, consented_at__isnull=True,
        beneficiary__birth_date__lte=today - datetime.timedelta(days=365 * 10),
    ).values_list("pk", flat=True)
    return sum(lifecycle.ask_minor_to_confirm(pk, today) for pk in list(ids))


@shared_task(ignore_result=True)
def minor_confirmation_deadlines_task() -> int:
    """Remind young people asked to confirm before their deadline; end what was not confirmed in time."""
    now = timezone.now()
    ids = Binding.objects.live().filter(confirmation_requested_at__isnull=False).values_list("pk", flat=True)
    return sum(lifecycle.confirmation_deadline(pk, now) for pk in list(ids))
