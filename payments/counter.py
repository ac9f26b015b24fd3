"""Counter workspace actions of payments: pay a resident premium on a citizen's behalf."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import AuditChannel, InsuredPerson
from pooling.selectors import live_bindings_for_holder
from portal.counter import counter_staff_required, person_in_region

from . import ledger, premiums
from .forms import PremiumForm
from .models import PremiumPayment


def person_section(request: HttpRequest, person: InsuredPerson) -> dict[str, Any]:
    """Context of the counter person-page section (premiums this person may pay)."""
    if not person.has_personal_account:
        return {"counter_premium_options": [], "counter_balance": 0}
    return {
        "counter_premium_options": premiums.premium_options(person, live_bindings_for_holder(person)),
        "counter_balance": ledger.balance_of(person),
    }


@require_POST
@counter_staff_required
def premium_pay(request: HttpRequest, pk: int) -> HttpResponse:
    payer = person_in_region(request, pk)
    form = PremiumForm(request.POST)
    relative = InsuredPerson.objects.filter(pk=form.cleaned_data["relative"]).first() if form.is_valid() else None
    if relative is None:
        messages.error(request, _("Please choose a relative from the list."))
        return redirect("counter:person", pk=payer.pk)
    try:
        payment = premiums.pay_resident_premium(
            payer, relative, form.cleaned_data["year"], actor=request.user, channel=AuditChannel.COUNTER
        )
    except premiums.PremiumError as exc:
        messages.error(request, exc.message)
        return redirect("counter:person", pk=payer.pk)
    messages.success(request, _("The premium has been paid. Print the receipt for the citizen."))
    return redirect("counter:premium-receipt", pk=payer.pk, payment=payment.pk)


@counter_staff_required
def premium_receipt(request: HttpRequest, pk: int, payment: int) -> HttpResponse:
    payer = person_in_region(request, pk)
    item = get_object_or_404(
        PremiumPayment.objects.select_related("payer", "relative", "relative__region"), pk=payment, payer=payer
    )
    return render(request, "payments/premium_receipt.html", {"payment": item, "counter": True})
