"""Pages of family pooling. Thin: parse, call one service, render or redirect with a message."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import AuditChannel, InsuredPerson, RegionPolicy, Relationship, Role, SpendingCategory, User
from portal import ratelimits

from . import changes, common, eligibility, proposals
from .common import By, PoolingError
from .dashboard import beneficiary_context, holder_blockers, holder_context
from .forms import (
    AnswerCodeForm,
    CheckerForm,
    EndDateForm,
    LimitsForm,
    PreviewForm,
    ProposeForm,
    UnbindForm,
    fen_to_yuan,
    yuan_to_fen,
)
from .models import Binding, BindingStatus, Guide, GuideChannel, GuidePurpose, PledgeText
from .relations import beneficiary_word, holder_word


def citizen_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A logged-in citizen linked to a registry record."""

    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user: User = request.user  # type: ignore[assignment]
        if user.person_id is None:
            return redirect("portal:dashboard")
        return view(request, *args, **kwargs)

    return wrapper


def _me(request: HttpRequest) -> InsuredPerson:
    person = request.user.person  # type: ignore[union-attr]
    assert person is not None
    return person


def _by(request: HttpRequest) -> By:
    return By(_me(request), request.user, AuditChannel.WEB)  # type: ignore[arg-type]


def _binding(request: HttpRequest, pk: int, *, holder_only: bool = False) -> Binding:
    """A binding the citizen is part of (as holder, or either side), or 404."""
    binding = get_object_or_404(Binding.objects.with_people(), pk=pk)
    me = _me(request)
    if binding.holder_id != me.pk and (holder_only or binding.beneficiary_id != me.pk):
        raise Http404
    return binding


def _fail(request: HttpRequest, error: PoolingError, to: str = "portal:dashboard", **kwargs: Any) -> HttpResponse:
    messages.error(request, error.message)
    return redirect(to, **kwargs)


def _guide(region: Any, channel: str = GuideChannel.COUNTER) -> Guide | None:
    return Guide.objects.one(channel, region)


# -- the holder ------------------------------------------------------------------------------


def _pledge_text(request: HttpRequest) -> PledgeText | None:
    """The text the page showed (its id comes back with the form), else the one in force now."""
    shown = request.POST.get("pledge_text", "")
    text = PledgeText.objects.filter(pk=shown, published=True).first() if shown.isdigit() else None
    return text or PledgeText.objects.current(get_language())


@citizen_required
def propose(request: HttpRequest) -> HttpResponse:
    """Enter the relative, see the eligibility answer, then read the terms, pledge and send the request."""
    me = _me(request)
    blockers = holder_blockers(me)
    form = ProposeForm(request.POST or None, relationships=common.policy_for(me).allowed_relationships)
    answer = None
    candidate = None
    pledge_missing = False
    if blockers:  # say at once what cannot be done; no form to fill in for nothing
        return render(request, "pooling/propose.html", {"form": None, "blockers": blockers,
                                                        "guide": _guide(me.region_id, GuideChannel.COUNTER)})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            candidate = proposals.find_candidate(data["id_number"], data["name"])
        except PoolingError as error:
            form.add_error("name", error.message)
        else:
            answer = proposals.check_candidate(me, candidate, data["relationship"])
            pledge_missing = request.POST.get("confirm") == "1" and request.POST.get("pledge") != "1"
            if answer.ok and request.POST.get("confirm") == "1" and not pledge_missing:
                try:
                    binding = proposals.propose_binding(me, candidate, data["relationship"], _by(request),
                                                       end_date=data.get("end_date"), pledge=_pledge_text(request))
                except common.NotEligible as refused:
                    answer = refused.answer
                except PoolingError as error:
                    form.add_error(None, error.message)
                else:
                    if binding.status == BindingStatus.ACTIVE:
                        messages.success(request, _("%(name)s has been added. Pooling is active now.")
                                         % {"name": binding.beneficiary.name})
                    elif binding.awaits_counter:
                        messages.warning(request, _(
                            "Request saved. Because %(name)s is a minor, pooling starts only after a service counter "
                            "has seen the household register or birth certificate. Please visit a counter together."
                        ) % {"name": binding.beneficiary.name})
                    else:
                        messages.success(request, _("Request sent. %(name)s has %(days)s days to agree; we told "
                                                    "them by message.") % {"name": binding.beneficiary.name,
                                                                           "days": common.policy_for(me).consent_days})
                    return redirect("portal:dashboard")
    return render(request, "pooling/propose.html", {
        "form": form, "answer": answer, "candidate": candidate, "pledge_missing": pledge_missing,
        "pledge_text": PledgeText.objects.current(get_language()),
        "slots": holder_context(me)["pooling_slots"] if me.has_personal_account else None,
        "guide": _guide(me.region_id, GuideChannel.COUNTER),
    })


@citizen_required
def premium_only(request: HttpRequest) -> HttpResponse:
    """Add a relative for premiums only: the holder can pay their resident premium, nothing else."""
    from . import premium_only as service

    me = _me(request)
    form = ProposeForm(request.POST or None)
    answer = None
    candidate = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            candidate = proposals.find_candidate(data["id_number"], data["name"])
            answer = service.check_premium_only(me, candidate, data["relationship"])
            if answer.ok and candidate is not None and request.POST.get("confirm") == "1":
                service.add_premium_only(me, candidate, data["relationship"], _by(request))
                messages.success(request, _("%(name)s has been added for premiums only. You can pay their premium "
                                            "now.") % {"name": candidate.name})
                return redirect("payments:premiums")
        except common.NotEligible as refused:
            answer = refused.answer
        except PoolingError as error:
            form.add_error("name", error.message)
    return render(request, "pooling/premium_only.html", {"form": form, "answer": answer, "candidate": candidate})


PAYMENTS_SHOWN = 20


@citizen_required
def binding_detail(request: HttpRequest, pk: int) -> HttpResponse:
    binding = _binding(request, pk)
    me = _me(request)
    is_holder = binding.holder_id == me.pk
    context: dict[str, Any] = {"binding": binding, "is_holder": is_holder,
                               "word": beneficiary_word(binding) if is_holder else holder_word(binding),
                               "pledge_language": _language_name(binding.pledge_language),
                               "terms_language": _language_name(binding.consent_terms_language)}
    if is_holder:
        from payments import ledger

        from .planning import month_start, year_start

        now = timezone.now()
        context["spent_month_fen"] = ledger.spent_from(me, binding.beneficiary, since=month_start(now))
        context["spent_year_fen"] = ledger.spent_from(me, binding.beneficiary, since=year_start(now))
        context["undo"] = changes.open_undo_for(me)  # e.g. the limits just saved
        from payments import consumption

        # The relative's payments from my account (one query, the latest first).
        context["payments"] = list(
            consumption.spending_from(me, consumption.Filters(person_id=binding.beneficiary_id))[:PAYMENTS_SHOWN + 1]
        )
        context["payments_more"] = len(context["payments"]) > PAYMENTS_SHOWN
        context["payments"] = context["payments"][:PAYMENTS_SHOWN]
        context["policy"] = common.policy_for(me)
        context["end_date_form"] = EndDateForm(initial={"end_date": binding.end_date,
                                                         "start_date": binding.start_date})
    return render(request, "pooling/binding.html", context)


def _language_name(code: str) -> str:
    from .models import PledgeLanguage

    return str(PledgeLanguage(code).label) if code in PledgeLanguage.values else code


@citizen_required
def limits(request: HttpRequest, pk: int) -> HttpResponse:
    binding = _binding(request, pk, holder_only=True)
    initial = {"per_payment": fen_to_yuan(binding.per_payment_cap_fen), "monthly": fen_to_yuan(binding.monthly_cap_fen),
               "annual": fen_to_yuan(binding.annual_cap_fen), "outpatient": fen_to_yuan(binding.outpatient_cap_fen),
               "pharmacy": fen_to_yuan(binding.pharmacy_cap_fen), "inpatient": fen_to_yuan(binding.inpatient_cap_fen),
               "reserve": fen_to_yuan(binding.reserve_fen or None)}
    form = LimitsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            changes.set_limits(binding, _by(request), **form.fen())
        except PoolingError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Limits saved. You can undo this for a few minutes."))
            return redirect("pooling:binding", pk=binding.pk)
    return render(request, "pooling/limits.html", {
        "form": form, "binding": binding, "word": beneficiary_word(binding),
        "policy": common.policy_for(binding.holder),
    })


@citizen_required
@require_POST
def end_date(request: HttpRequest, pk: int) -> HttpResponse:
    binding = _binding(request, pk, holder_only=True)
    form = EndDateForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect("pooling:binding", pk=pk)
    try:
        changes.set_end_date(binding, _by(request), form.cleaned_data.get("end_date"),
                             start_date=form.cleaned_data.get("start_date"))
    except PoolingError as error:
        return _fail(request, error, "pooling:binding", pk=pk)
    messages.success(request, _("End date saved."))
    return redirect("pooling:binding", pk=pk)


def _undo_message(request: HttpRequest, text: Any) -> None:
    messages.success(request, text)


@citizen_required
@require_POST
def pause(request: HttpRequest, pk: int) -> HttpResponse:
    binding = _binding(request, pk, holder_only=True)
    try:
        changes.pause_binding(binding, _by(request))
    except PoolingError as error:
        return _fail(request, error)
    _undo_message(request, _("Paused: %(name)s cannot pay from your account until you resume.")
                  % {"name": binding.beneficiary.name})
    return redirect("portal:dashboard")


@citizen_required
@require_POST
def resume(request: HttpRequest, pk: int) -> HttpResponse:
    binding = _binding(request, pk, holder_only=True)
    try:
        changes.resume_binding(binding, _by(request))
    except PoolingError as error:
        return _fail(request, error)
    messages.success(request, _("Resumed: %(name)s can pay from your account again.") % {"name": binding.beneficiary.name})
    return redirect("portal:dashboard")


@citizen_required
@require_http_methods(["GET", "POST"])
def pause_all(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        # A confirmation page, not a browser pop-up: it works without JavaScript too.
        return render(request, "pooling/pause_all.html")
    try:
        paused, _change = changes.pause_all(_me(request), _by(request))
    except PoolingError as error:
        return _fail(request, error)
    messages.success(request, _("All pooling is paused. Nobody can pay from your account until you resume."))
    return redirect("portal:dashboard")


@citizen_required
@require_POST
def resume_all(request: HttpRequest) -> HttpResponse:
    changes.resume_all(_me(request), _by(request))
    messages.success(request, _("Pooling is on again for everyone you paused."))
    return redirect("portal:dashboard")


@citizen_required
@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    binding = _binding(request, pk, holder_only=True)
    try:
        proposals.cancel_binding(binding, _by(request))
    except PoolingError as error:
        return _fail(request, error)
    messages.success(request, _("Request withdrawn."))
    return redirect("portal:dashboard")


@citizen_required
def unbind(request: HttpRequest, pk: int) -> HttpResponse:
    """Either side ends pooling, after a confirmation page with an optional reason."""
    binding = _binding(request, pk)
    is_holder = binding.holder_id == _me(request).pk
    form = UnbindForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            changes.unbind(binding, _by(request), form.cleaned_data.get("note", ""))
        except PoolingError as error:
            return _fail(request, error)
        messages.success(request, _("Pooling has ended. You can undo this for a few minutes."))
        return redirect("portal:dashboard")
    return render(request, "pooling/unbind.html", {
        "form": form, "binding": binding, "is_holder": is_holder,
        "word": beneficiary_word(binding) if is_holder else holder_word(binding),
    })


@citizen_required
@require_POST
def undo(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        changes.undo_change(pk, _by(request))
    except PoolingError as error:
        return _fail(request, error)
    messages.success(request, _("Undone: everything is as it was before."))
    return redirect("portal:dashboard")


# -- the relative ----------------------------------------------------------------------------


def _is_staff(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_authenticated and (user.is_staff or getattr(user, "role", "") in (Role.COUNTER, Role.BUREAU)))


def _staff_refused(request: HttpRequest) -> HttpResponse:
    """Staff never answer for a relative by link or code: consent is recorded at the counter with documents."""
    return render(request, "pooling/staff_refused.html", status=403)


CODE_SESSION_KEY = "pooling_answer_code_ok"


def _answer_page(request: HttpRequest, binding: Binding, by: By, token: str = "", *,
                 needs_code: bool = False) -> HttpResponse:
    """The request, the terms, and yes/no. ``needs_code``: opened by a link, the code from the same
    message must be typed (once per binding version: the code page may have checked it already)."""
    verified = request.session.get(CODE_SESSION_KEY) == f"{binding.pk}:{binding.version}"
    ask_code = needs_code and not verified
    code_error = None
    if request.method == "POST":
        choice = request.POST.get("answer")
        if choice not in ("yes", "no"):
            messages.error(request, _("Please choose yes or no."))
            return redirect(request.path)
        try:
            if ask_code:
                proposals.check_answer_code(binding, request.POST.get("code", ""))
            if choice == "yes":
                proposals.consent_binding(binding, by, terms=_pledge_text(request))
                messages.success(request, _("Thank you. You can now pay from the account of %(name)s.")
                                 % {"name": binding.holder.name})
            else:
                proposals.decline_binding(binding, by, request.POST.get("note", ""))
                messages.success(request, _("You said no. Nothing is shared."))
        except PoolingError as error:
            if error.code not in ("code_required", "bad_code"):
                messages.error(request, error.message)
                return redirect("portal:dashboard" if request.user.is_authenticated else "portal:home")
            code_error = error.message
        else:
            request.session.pop(CODE_SESSION_KEY, None)
            return redirect("portal:dashboard" if request.user.is_authenticated else "portal:home")
    return render(request, "pooling/answer.html", {
        "binding": binding, "word": holder_word(binding), "token": token,
        "pledge_text": PledgeText.objects.current(get_language()),
        "policy": common.policy_for(binding.holder), "ask_code": ask_code, "code_error": code_error,
        "waiting": binding.status == BindingStatus.PENDING or bool(binding.confirmation_requested_at),
    }, status=400 if code_error else 200)


@citizen_required
def answer(request: HttpRequest, pk: int) -> HttpResponse:
    binding = get_object_or_404(Binding.objects.with_people(), pk=pk, beneficiary=_me(request))
    return _answer_page(request, binding, _by(request))


def consent_link(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the request message. It never answers alone: the page asks for the 6-digit code
    from the same message (or the relative logs in). Staff sessions are refused."""
    if _is_staff(request):
        return _staff_refused(request)
    try:
        binding = proposals.binding_from_token(token)
    except PoolingError as error:
        return render(request, "pooling/link_invalid.html", {"message": error.message}, status=410)
    user = request.user
    if user.is_authenticated and getattr(user, "person_id", None) not in (None, binding.beneficiary_id):
        raise Http404
    if user.is_authenticated and getattr(user, "person_id", None) == binding.beneficiary_id:
        return redirect("pooling:answer", pk=binding.pk)  # their own logged-in page
    by = By(binding.beneficiary, None, AuditChannel.WEB)
    return _answer_page(request, binding, by, token, needs_code=True)


def answer_with_code(request: HttpRequest) -> HttpResponse:
    """For people who type the code from the text message instead of opening the link."""
    if _is_staff(request):
        return _staff_refused(request)
    form = AnswerCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        person = InsuredPerson.objects.by_id_number(form.cleaned_data["id_number"])
        try:
            if person is None:
                raise PoolingError(_("This code is not right. Please check the text message and try again."))
            binding = proposals.binding_from_code(person, form.cleaned_data["code"])
        except PoolingError as error:
            form.add_error(None, error.message)
        else:
            request.session[CODE_SESSION_KEY] = f"{binding.pk}:{binding.version}"
            return redirect("pooling:consent-link", token=proposals.consent_token(binding))
    return render(request, "pooling/answer_code.html", {"form": form})


@citizen_required
def order(request: HttpRequest) -> HttpResponse:
    """The relative orders their payment sources and previews a payment."""
    me = _me(request)
    context = beneficiary_context(me)
    keys = [s["key"] for s in context["pooling_sources"]]
    if request.method == "POST":
        key, direction = request.POST.get("source", ""), request.POST.get("move")
        if key in keys and direction in ("up", "down"):
            i = keys.index(key)
            j = i - 1 if direction == "up" else i + 1
            if 0 <= j < len(keys):
                keys[i], keys[j] = keys[j], keys[i]
            try:
                changes.set_deduction_order(me, keys, _by(request))
            except PoolingError as error:
                return _fail(request, error, "pooling:order")
            messages.success(request, _("Order saved."))
        return redirect("pooling:order")
    preview_form = PreviewForm(request.GET or None)
    if request.GET and preview_form.is_valid():
        amount = yuan_to_fen(preview_form.cleaned_data["amount"]) or 0
        context = beneficiary_context(me, amount, preview_form.cleaned_data["category"])
    context["preview_form"] = preview_form if request.GET else PreviewForm()
    context["category_label"] = SpendingCategory(context["pooling_preview_category"]).label
    context["own_account"] = me.has_personal_account
    if me.has_personal_account and not context["pooling_sources"]:
        from payments import ledger

        context["own_balance_fen"] = ledger.balance_of(me)
    return render(request, "pooling/order.html", context)


# -- public pages ----------------------------------------------------------------------------


def checker(request: HttpRequest) -> HttpResponse:
    """Anyone can ask "can I add my relative?" and get the same rules' answer."""
    form = CheckerForm(request.GET or None) if "relationship" in request.GET else CheckerForm()
    answer = None
    guide = None
    my_region = None
    if form.is_bound:
        wait = ratelimits.hit(request, "checker_per_ip", ratelimits.client_address(request))
        if wait is not None:
            return ratelimits.too_many(request, wait, _("Many questions have been asked from this connection."))
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        today = timezone.localdate()
        my_region = data["my_region"]
        their_region = data.get("relative_region") or my_region
        policy = RegionPolicy.objects.in_force(my_region.code, today)
        me = eligibility.facts_from_checker(data["my_scheme"], my_region.code, my_region.full_name, None, today)
        insured = data["relative_insured"]
        relative = eligibility.facts_from_checker(
            data.get("relative_scheme") or "resident", their_region.code, their_region.full_name,
            data.get("relative_age"), today, insured=insured != "no",
            status="active" if insured == "yes" else "suspended",
        )
        answer = eligibility.check_binding(me, relative, data["relationship"], policy, today)
        guide = Guide.objects.for_region(my_region)
        return render(request, "pooling/checker.html", {
            "form": form, "answer": answer, "guides": guide, "policy": policy, "region": my_region,
            "relationship_label": Relationship(data["relationship"]).label,
        })
    return render(request, "pooling/checker.html", {"form": form, "answer": None, "guides": None})


def _viewer_region(request: HttpRequest) -> str | None:
    code = request.GET.get("region", "")
    if code.isdigit() and len(code) == 6:
        return code
    user = request.user
    if user.is_authenticated and getattr(user, "person_id", None):
        return user.person.region_id  # type: ignore[union-attr]
    return None


def guides(request: HttpRequest) -> HttpResponse:
    region = _viewer_region(request)
    return render(request, "pooling/guides.html", {
        "guides": Guide.objects.for_region(region), "region": region,
        "premium_guides": Guide.objects.for_region(region, GuidePurpose.PREMIUM),
    })


def guide(request: HttpRequest, channel: str, purpose: str = GuidePurpose.POOLING) -> HttpResponse:
    if channel not in GuideChannel.values:
        raise Http404
    item = Guide.objects.one(channel, _viewer_region(request), purpose)
    if item is None:
        raise Http404
    return render(request, "pooling/guide.html", {"guide": item, "print": request.GET.get("print") == "1"})


def how_to(request: HttpRequest) -> HttpResponse:
    region = _viewer_region(request)
    return render(request, "pooling/how_to.html", {
        "guides": Guide.objects.for_region(region), "policy": RegionPolicy.objects.in_force(region),
    })


def faq(request: HttpRequest) -> HttpResponse:
    """Answers in plain words; the figures (ages, days, counts) are those of the viewer's region, else national."""
    policy = RegionPolicy.objects.in_force(_viewer_region(request))
    return render(request, "pooling/faq.html", {"default_max": policy.max_beneficiaries, "policy": policy})


