"""Counter workspace actions of payments: pay a resident premium, print a one-time e-voucher code."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from accounts.models import AuditChannel, InsuredPerson
from pooling.selectors import live_bindings_for_holder
from portal import counter_records
from portal.counter import DocumentCheck, counter_staff_required, person_in_region, receipt_redirect, render_receipt
from portal.models import CounterActionKind

from . import ledger, premiums, vouchers
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


@counter_staff_required
def premium_pay(request: HttpRequest, pk: int) -> HttpResponse:
    """A confirmation page with the documents seen (GET ?relative=&year=), then the payment (POST)."""
    payer = person_in_region(request, pk)
    form = PremiumForm(request.POST if request.method == "POST" else request.GET)
    # Only a relative of the payer's live bindings: no name of anyone else is shown on the confirmation page.
    relatives = {b.beneficiary.pk: b.beneficiary for b in live_bindings_for_holder(payer)}
    relative = relatives.get(form.cleaned_data["relative"]) if form.is_valid() else None
    if relative is None:
        messages.error(request, _("Please choose a relative from the list."))
        return redirect("counter:person", pk=payer.pk)
    year = form.cleaned_data["year"]
    docs = DocumentCheck(request, payer, relative)
    if request.method == "POST" and docs.is_valid():
        try:
            with transaction.atomic():
                payment = premiums.pay_resident_premium(
                    payer, relative, year, actor=request.user, channel=AuditChannel.COUNTER
                )
                action = counter_records.record_action(
                    request.user, payer, CounterActionKind.PREMIUM, relative=relative,  # type: ignore[arg-type]
                    obj=payment, documents=docs.seen,
                    details={"holder": payer.name, "beneficiary": relative.name, "year": year,
                             "amount": f"¥{payment.amount_fen / 100:,.2f}"},
                )
        except premiums.PremiumError as exc:
            docs.problems.append(exc.message)
        else:
            messages.success(request, _("The premium has been paid. Print the receipt for the citizen."))
            return receipt_redirect(action)
    amount = premiums.premium_amount(relative)
    return render(request, "counter/action.html", {
        "subject": payer, "docs": docs, "hidden": {"relative": relative.pk, "year": year},
        "title": _("Pay the resident premium of %(name)s") % {"name": relative.name},
        "explanation": _("%(year)s: %(amount)s from the personal account of %(payer)s. Ask the person to confirm "
                         "the amount.") % {"year": year, "amount": f"¥{amount / 100:,.2f}", "payer": payer.name},
        "button": _("Pay on their behalf"),
    })


@counter_staff_required
def premium_receipt(request: HttpRequest, pk: int, payment: int) -> HttpResponse:
    payer = person_in_region(request, pk)
    item = get_object_or_404(
        PremiumPayment.objects.select_related("payer", "relative", "relative__region"), pk=payment, payer=payer
    )
    return render(request, "payments/premium_receipt.html", {"payment": item, "counter": True})


def _printable_qr(code: str) -> str:
    """The code as inline SVG that scales (a viewBox, no fixed size, no XML prolog, no style attribute)."""
    import io

    import segno

    buffer = io.BytesIO()
    segno.make(code, error="m", micro=False).save(buffer, kind="svg", scale=1, border=2, dark="#000", light="#fff",
                                                   omitsize=True, xmldecl=False)
    return buffer.getvalue().decode()


@counter_staff_required
def voucher(request: HttpRequest, pk: int) -> HttpResponse:
    """Print a one-time e-voucher code for someone without a smartphone. The code is shown this once."""
    person = person_in_region(request, pk)
    docs = DocumentCheck(request, person)
    if request.method == "POST" and docs.is_valid():
        try:
            with transaction.atomic():
                item, code = vouchers.issue_voucher(person, actor=request.user, channel=AuditChannel.COUNTER)
                action = counter_records.record_action(
                    request.user, person, CounterActionKind.VOUCHER, obj=item,  # type: ignore[arg-type]
                    details={"person": person.name,
                             "until": timezone.localtime(item.expires_at).strftime("%Y-%m-%d %H:%M")},
                    documents=docs.seen,
                )
        except vouchers.VoucherError as exc:
            docs.problems.append(exc.message)
        else:
            qr = mark_safe(_printable_qr(code))  # noqa: S308 - generated SVG, no input from users
            return render_receipt(request, person, action, voucher_code=vouchers.grouped(code), voucher_qr=qr)
    return render(request, "counter/action.html", {
        "subject": person, "docs": docs, "title": _("Print a one-time e-voucher code for %(name)s") % {"name": person.name},
        "explanation": _("The code pays once at a hospital or pharmacy and works for 5 minutes. It is shown only "
                         "on the printed receipt; any earlier code stops working."),
        "button": _("Print the code"),
    })
