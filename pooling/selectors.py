"""Read helpers other apps may call (payments' resident premiums, statements, dashboards)."""

from __future__ import annotations

import datetime

from django.utils import timezone

from accounts.models import InsuredPerson

from .models import Binding


def active_binding(
    holder: InsuredPerson | int, beneficiary: InsuredPerson | int, day: datetime.date | None = None
) -> Binding | None:
    """The ACTIVE binding of this pair that may pay today (end date not passed), or None."""
    binding = Binding.objects.active().filter(holder=holder, beneficiary=beneficiary).select_related(
        "holder", "beneficiary"
    ).first()
    if binding is None or not binding.is_usable_on(day or timezone.localdate()):
        return None
    return binding


def live_bindings_for_holder(holder: InsuredPerson) -> list[Binding]:
    return list(Binding.objects.live().for_holder(holder).with_people().order_by("created_at", "id"))


def live_bindings_for_beneficiary(person: InsuredPerson) -> list[Binding]:
    return list(Binding.objects.live().for_beneficiary(person).with_people().order_by("created_at", "id"))
