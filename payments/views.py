"""Citizen pages of payments: e-voucher, consumption details, resident premiums. Thin views."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import reauth
from accounts.models import InsuredPerson, User
from pooling.selectors import live_bindings_for_holder
from portal.pagecache import cached_page

from . import consumption, ledger, premiums, vouchers
from .forms import PremiumForm, SpendingFilterForm, unbound_filter_form_html
from .models import PremiumPayment, Voucher

PAGE_SIZE = 20


def citizen_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user: User = request.user  # type: ignore[assignment]
        if user.person_id is None:
            return redirect("portal:dashboard")
        return view(request, user.person, *args, **kwargs)

    return wrapper


# -- e-voucher ----------------------------------------------------------------------------------


@never_cache
@citizen_required
def voucher(request: HttpRequest, person: InsuredPerson) -> HttpResponse:
    try:
        current = vouchers.current_or_new_voucher(person, actor=request.user)
    except vouchers.VoucherError as exc:
        return render(request, "payments/voucher.html", {"problem": exc.message})
    return render(request, "payments/voucher.html", {
        "voucher": current, "code": vouchers.grouped(current.code), "minutes": vouchers.VOUCHER_SECONDS // 60,
        "seconds_left": vouchers.seconds_left(current), "balance": ledger.balance_of(person), "person": person,
    })


@require_POST
@citizen_required
def voucher_extend(request: HttpRequest, person: InsuredPerson) -> HttpResponse:
    try:
        vouchers.extend_voucher(person, actor=request.user)
    except vouchers.VoucherError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Your code is valid for another %(n)s minutes.") % {"n": vouchers.VOUCHER_SECONDS // 60})
    return redirect("payments:voucher")


@never_cache
@citizen_required
def voucher_qr(request: HttpRequest, person: InsuredPerson, pk: int) -> HttpResponse:
    """The QR code as an SVG image (an <img>, so the page needs no inline SVG styles)."""
    item = get_object_or_404(Voucher, pk=pk, person=person)
    return HttpResponse(vouchers.qr_svg(item.code), content_type="image/svg+xml")


# -- consumption details ------------------------------------------------------------------------


class _CountedPaginator(Paginator):
    """A paginator told the number of rows (counted with the page's totals): no COUNT query."""

    def __init__(self, object_list: Any, per_page: int, count: int) -> None:
        super().__init__(object_list, per_page)
        self.count = count  # (Paginator.count is a cached property)


def _listing(request: HttpRequest, person: InsuredPerson, holder_view: bool) -> HttpResponse:
    # One grouped query gives the form's choices, the totals and the number of rows
    # (consumption.Groups), filtered or not.
    groups = consumption.Groups(person, holder_view=holder_view)
    form = SpendingFilterForm(
        request.GET or None, people=groups.people, institutions=groups.institutions,
        person_label=None if holder_view else _("Paid from"),
    )
    filters = form.filters()
    summary = groups.summary(filters)
    rows = consumption.spending_from(person, filters) if holder_view else consumption.spending_by(person, filters)
    query = urlencode({k: v for k, v in request.GET.items() if k not in ("page", "format") and v})
    if request.GET.get("format") == "csv":
        name = "spending-from-my-account" if holder_view else "my-payments"
        response = HttpResponse(consumption.to_csv(rows.iterator(), holder_view=holder_view),
                                content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}-{timezone.localdate():%Y%m%d}.csv"'
        return response
    page = _CountedPaginator(rows, PAGE_SIZE, summary.count).get_page(request.GET.get("page"))
    by_person = summary.by_person
    for total in by_person:
        if total["key"] == person.pk:
            total["label"] = _("Myself") if holder_view else _("My own account")
    context = {
        "form": form, "page": page, "query": query, "holder_view": holder_view,
        "form_html": None if form.is_bound else unbound_filter_form_html(
            groups.people, groups.institutions, form.fields["person"].label if not holder_view else None),
        "by_person": by_person,
        "by_category": summary.by_category,
        "by_institution": summary.by_institution,
        "by_month": summary.by_month,
        "balance": ledger.balance_of(person),
        "has_account": person.has_personal_account,
    }
    if holder_view:
        context["premiums"] = PremiumPayment.objects.filter(payer=person).select_related("relative")[:20]
    return render(request, "payments/spending.html", context)


@citizen_required
@cached_page("spending")
def spending(request: HttpRequest, person: InsuredPerson) -> HttpResponse:
    """The holder's view: money that left my personal account, for me and my relatives."""
    return _listing(request, person, holder_view=True)


@citizen_required
def my_payments(request: HttpRequest, person: InsuredPerson) -> HttpResponse:
    """The patient's view: what I paid, from my own account and from each holder's."""
    return _listing(request, person, holder_view=False)


# -- resident premiums --------------------------------------------------------------------------


@citizen_required
def premium_list(request: HttpRequest, person: InsuredPerson) -> HttpResponse:
    options = premiums.premium_options(person, live_bindings_for_holder(person)) if person.has_personal_account else []
    return render(request, "payments/premiums.html", {
        "options": options, "balance": ledger.balance_of(person), "person": person,
        "year": premiums.premium_year(),
        "paid": PremiumPayment.objects.filter(payer=person).select_related("relative")[:20],
    })


@require_http_methods(["GET", "POST"])
@citizen_required
def premium_pay(request: HttpRequest, person: InsuredPerson) -> HttpResponse:
    """What will happen (GET, or POST from the list), then the payment (POST confirm=yes).

    Both need a fresh password confirmation; the confirmation page comes back here with the
    relative and year chosen (a GET of this page), not to the list.
    """
    form = PremiumForm(request.POST if request.method == "POST" else request.GET)
    # Only a relative on the person's own list: nobody else's name appears on the page.
    relatives = {b.beneficiary.pk: b.beneficiary for b in live_bindings_for_holder(person)}
    relative = relatives.get(form.cleaned_data["relative"]) if form.is_valid() else None
    if relative is None:
        messages.error(request, _("Please choose a relative from the list."))
        return redirect("payments:premiums")
    year = form.cleaned_data["year"]
    back_here = f"{reverse('payments:premium-pay')}?{urlencode({'relative': relative.pk, 'year': year})}"
    confirm = reauth.require(request, back_here, _("For your safety, please confirm with your password first. "
                                                   "Then you come back to this payment."),
                             cancel_to=reverse("payments:premiums"))
    if confirm is not None:
        return confirm
    if request.method != "POST" or request.POST.get("confirm") != "yes":
        # The holder's own act: first a page with what will happen, then the money moves.
        preview = premiums.premium_preview(person, relative, year)
        return render(request, "payments/premium_confirm.html", {"preview": preview})
    try:
        payment = premiums.pay_resident_premium(person, relative, year, actor=request.user)
    except premiums.PremiumError as exc:
        paid = PremiumPayment.objects.filter(payer=person, relative=relative, year=year).first()
        if paid is not None:  # the same payment confirmed twice (a double click, a reload)
            messages.info(request, _("This premium has already been paid. Here is its receipt."))
            return redirect("payments:premium-receipt", pk=paid.pk)
        messages.error(request, exc.message)
        return redirect("payments:premiums")
    messages.success(request, _("The premium has been paid. Here is your receipt."))
    return redirect("payments:premium-receipt", pk=payment.pk)


@citizen_required
def premium_receipt(request: HttpRequest, person: InsuredPerson, pk: int) -> HttpResponse:
    payment = get_object_or_404(
        PremiumPayment.objects.select_related("payer", "relative", "relative__region"), pk=pk, payer=person
    )
    return render(request, "payments/premium_receipt.html", {"payment": payment})
