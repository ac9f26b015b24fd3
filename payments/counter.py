"""Counter workspace actions of payments: pay a resident premium (after a confirmation page), print a
one-time e-voucher code."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from accounts import crypto
from accounts.models import AuditChannel, InsuredPerson, Relationship
from pooling.selectors import live_bindings_for_holder
from portal import counter_records
from portal.counter import DocumentCheck, counter_staff_required, person_in_region, receipt_redirect, render_receipt
from portal.models import CounterAction, CounterActionKind, DocumentKind, DocumentOwner, mask_document_number

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


CONFIRM, EDIT = "confirm", "edit"


def _receipt_of_paid(payer: InsuredPerson, relative: InsuredPerson, year: int) -> CounterAction | None:
    """The counter receipt of this premium if it was already paid at a counter for this payer."""
    payment = PremiumPayment.objects.filter(payer=payer, relative=relative, year=year).first()
    if payment is None:
        return None
    return CounterAction.objects.filter(person=payer, kind=CounterActionKind.PREMIUM, object_id=str(payment.pk),
                                        object_type=PremiumPayment._meta.label).first()


def _carry(request: HttpRequest) -> str:
    """The documents table as typed, encrypted, for the confirmation page to post back: the
    numbers never stand in clear in that page (it shows them masked)."""
    pairs = [(key, value) for key, values in request.POST.lists() if key.startswith("doc-") for value in values]
    return crypto.encrypt(json.dumps(pairs))


def _carried(request: HttpRequest) -> QueryDict | None:
    """The documents table carried through the confirmation page, or None (none, or not ours)."""
    token = request.POST.get("documents", "")
    if not token:
        return None
    try:
        pairs = json.loads(crypto.decrypt(token))
    except ValueError:
        return None
    data = QueryDict(mutable=True)
    for key, value in pairs:
        data.appendlist(str(key), str(value))
    return data


def _documents_listed(docs: DocumentCheck, payer: InsuredPerson, relative: InsuredPerson) -> list[dict[str, Any]]:
    """The documents typed, for the confirmation page: kind, whose, masked number, present."""
    return [{"kind": DocumentKind(d.kind).label, "whose": payer.name if d.owner == DocumentOwner.PERSON else relative.name,
             "number": mask_document_number(d.number), "present": d.present} for d in docs.seen]


@counter_staff_required
def premium_pay(request: HttpRequest, pk: int) -> HttpResponse:
    """Pay a relative's resident premium from the person's personal account, in three steps.

    1. GET ?relative=&year=: the documents seen (the person's ID card).
    2. POST: a confirmation page (who pays, for whom, which premium, how much, from which account,
       the balance after) with Confirm and Back. Nothing is written yet.
    3. POST step=confirm: the documents are checked again, then the payment and its receipt. A
       second confirmation (a double click, a reload) pays nothing more: a premium is unique per
       relative and year (``premiums.pay_resident_premium``); it leads to the first one's receipt.
    Back (step=edit) shows the documents again as typed.
    """
    payer = person_in_region(request, pk)
    posted = request.method == "POST"
    form = PremiumForm(request.POST if posted else request.GET)
    # Only a relative of the payer's live bindings: no name of anyone else is shown on these pages.
    relatives = {b.beneficiary.pk: b.beneficiary for b in live_bindings_for_holder(payer)}
    relative = relatives.get(form.cleaned_data["relative"]) if form.is_valid() else None
    if relative is None:
        messages.error(request, _("Please choose a relative from the list."))
        return redirect("counter:person", pk=payer.pk)
    year = form.cleaned_data["year"]
    step = request.POST.get("step", "") if posted else ""
    if step == CONFIRM and (done := _receipt_of_paid(payer, relative, year)) is not None:
        messages.info(request, _("This premium has already been paid. Here is its receipt."))
        return receipt_redirect(done)
    docs = DocumentCheck(request, payer, relative, data=_carried(request) if step in (CONFIRM, EDIT) else None)
    if posted and step != EDIT and docs.is_valid():
        preview = premiums.premium_preview(payer, relative, year)
        if preview.problem:
            docs.problems.append(preview.problem)
        elif step == CONFIRM:
            paid = _pay(request, payer, relative, year, docs)
            if paid is not None:
                return paid
        else:
            return render(request, "counter/premium_confirm.html", {
                "subject": payer, "payer": payer, "preview": preview, "documents": _documents_listed(docs, payer, relative),
                "relationship": Relationship(preview.relationship).label if preview.relationship in Relationship.values
                else "",
                "hidden": [("relative", relative.pk), ("year", year), ("documents", _carry(request))],
            })
    amount = premiums.premium_amount(relative)
    return render(request, "counter/action.html", {
        "subject": payer, "docs": docs, "hidden": {"relative": relative.pk, "year": year},
        "title": _("Pay the resident premium of %(name)s") % {"name": relative.name},
        "explanation": _("%(year)s: %(amount)s from the personal account of %(payer)s. Ask the person to confirm "
                         "the amount.") % {"year": year, "amount": f"¥{amount / 100:,.2f}", "payer": payer.name},
        "button": _("Next: check the details"),
    })


def _pay(request: HttpRequest, payer: InsuredPerson, relative: InsuredPerson, year: int,
         docs: DocumentCheck) -> HttpResponse | None:
    """The payment and its counter record in one transaction; None (and the reason among the
    documents' problems) when it cannot be paid after all."""
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
        done = _receipt_of_paid(payer, relative, year)  # a confirmation sent twice at the same moment
        if done is not None:
            messages.info(request, _("This premium has already been paid. Here is its receipt."))
            return receipt_redirect(done)
        docs.problems.append(exc.message)
        return None
    messages.success(request, _("The premium has been paid. Print the receipt for the citizen."))
    return receipt_redirect(action)


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
