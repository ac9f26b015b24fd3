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


def premium_binding(holder: InsuredPerson | int, relative: InsuredPerson | int) -> Binding | None:
    """The live binding of this pair under which the holder may pay the relative's premium.

    Any kind (full or premium-only) not waiting for consent: a pause or a suspension stops
    spending, not the holder's own act of paying a premium."""
    return Binding.objects.filter(
        holder=holder, beneficiary=relative, status__in=("active", "paused", "suspended")
    ).select_related("holder", "beneficiary").first()


def live_bindings_for_holder(holder: InsuredPerson) -> list[Binding]:
    return list(Binding.objects.live().for_holder(holder).with_people().order_by("created_at", "id"))


def live_bindings_for_beneficiary(person: InsuredPerson) -> list[Binding]:
    return list(Binding.objects.live().for_beneficiary(person).with_people().order_by("created_at", "id"))
