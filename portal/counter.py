"""The elderly-assist counter workspace: staff find a person in their region and act for them.

Every look-up is audited with a reason chosen from a short list. Pooling and payments add their
counter actions through ``<app>/counter_urls.py`` (namespace "counter") and person-page sections.
Each action writes a ``CounterAction`` (``portal.counter_records``) and ends on its receipt (回执).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _

from accounts.idnumbers import mask_phone
from accounts.models import AuditChannel, CodePurpose, InsuredPerson, User, audit

from . import counter_records
from .counter_forms import (
    FindByIdForm,
    FindByNameForm,
    FindByPhoneForm,
    LookupReason,
    PhoneChangeForm,
    SignupHelpForm,
)
from .models import CounterAction, CounterActionKind, DocumentKind, DocumentOwner

# Sections of the counter's person page: (template, context builder(request, person)).
person_sections: list[tuple[str, Callable[[HttpRequest, InsuredPerson], dict[str, Any]]]] = []

REASON_KEY = "counter_reason"


def register_person_section(template: str, build: Callable[[HttpRequest, InsuredPerson], dict[str, Any]]) -> None:
    if all(t != template for t, _b in person_sections):
        person_sections.append((template, build))


def counter_staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Only counter assistants with an office may use the workspace."""

    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user: User = request.user  # type: ignore[assignment]
        if not user.is_counter:
            return render(request, "counter/not_counter.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper


def person_in_region(request: HttpRequest, pk: int) -> InsuredPerson:
    """A person of the assistant's region, or 404: staff see only their own region."""
    user: User = request.user  # type: ignore[assignment]
    assert user.office is not None
    return get_object_or_404(InsuredPerson.objects.select_related("region"), pk=pk, region_id=user.office.region_id)


def lookup_reason(request: HttpRequest) -> str:
    return request.session.get(REASON_KEY, "")


def receipt_redirect(action: CounterAction) -> HttpResponse:
    return redirect("counter:receipt", pk=action.person_id, action=action.pk)


def _search(request: HttpRequest, form: Any, office_region: str) -> tuple[list[InsuredPerson], Any]:
    """People of the office's region matching a valid look-up form, and an error to show (or None)."""
    from accounts.services import name_key

    data = form.cleaned_data
    error: Any = None
    found: list[InsuredPerson] = []
    if form.method == "id":
        person = InsuredPerson.objects.select_related("region").by_id_number(data["id_number"])
        if person is None:
            error = _("No insured person has this ID number. They may need to enrol first.")
            found = []
        elif person.region_id != office_region:
            error = (_("This person is insured in %(region)s. Only a counter of that region can help them.")
                     % {"region": person.region.full_name})
            found = []
        else:
            found = [person]
    elif form.method == "name":
        wanted = name_key(data["name"])
        found = [p for p in InsuredPerson.objects.in_region(office_region).filter(birth_date=data["birth_date"])
                 .select_related("region") if name_key(p.name) == wanted]
        if not found:
            error = _("Nobody insured in this region has this name and birth date. Check the ID card, or look the "
                      "person up by ID number.")
    else:
        found = list(InsuredPerson.objects.in_region(office_region).by_phone(data["phone"]).select_related("region"))
        if not found:
            error = _("Nobody insured in this region has this registered phone. Look the person up by ID number or "
                      "by name and birth date.")
    return found, error


@counter_staff_required
def home(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    assert user.office is not None
    method = request.POST.get("method") if request.method == "POST" else None
    forms = {
        "id": FindByIdForm(request.POST if method == "id" else None),
        "name": FindByNameForm(request.POST if method == "name" else None),
        "phone": FindByPhoneForm(request.POST if method == "phone" else None),
    }
    results: list[InsuredPerson] = []
    if method in forms and forms[method].is_valid():
        form = forms[method]
        found, error = _search(request, form, user.office.region_id)
        reason = form.cleaned_data["reason"]
        audit("counter.search", channel=AuditChannel.COUNTER, actor=user,
              on_behalf_of=found[0] if len(found) == 1 else None,
              after={"method": method, "reason": reason, "found": len(found)},
              note=f"{method}; reason: {reason}; {'found' if found else 'not found'}")
        request.session[REASON_KEY] = reason
        if error:
            form.add_error(None, error)
        elif len(found) == 1:
            return redirect("counter:person", pk=found[0].pk)
        else:
            results = found
    return render(request, "counter/home.html", {
        "forms": forms, "active": method or "id", "office": user.office, "results": results,
    })


@counter_staff_required
def person_page(request: HttpRequest, pk: int) -> HttpResponse:
    person = person_in_region(request, pk)
    reason = lookup_reason(request)
    audit("counter.lookup", channel=AuditChannel.COUNTER, actor=request.user, on_behalf_of=person, obj=person,
          after={"reason": reason}, note=f"reason: {reason}" if reason else "")
    context: dict[str, Any] = {
        "subject": person, "sections": [], "reason_label": dict(LookupReason.CHOICES).get(reason, ""),
        "recent_actions": list(CounterAction.objects.filter(person=person).select_related("office")[:5]),
    }
    for template, build in person_sections:
        context.update(build(request, person))
        context["sections"].append(template)
    return render(request, "counter/person.html", context)


def _phone_guide(person: InsuredPerson) -> Any:
    """The guide for doing it on a phone next time: the national app's, else the first phone channel's."""
    from pooling.models import Guide, GuideChannel

    guides = [g for g in Guide.objects.for_region(person.region_id) if g.channel != GuideChannel.COUNTER]
    for guide in guides:
        if guide.channel == GuideChannel.NATIONAL_APP:
            return guide
    return guides[0] if guides else None


@counter_staff_required
def receipt(request: HttpRequest, pk: int, action: int) -> HttpResponse:
    """The receipt (回执) of one counter action, for printing on A4 in large print."""
    person = person_in_region(request, pk)
    item = get_object_or_404(
        CounterAction.objects.select_related("office", "office__region", "staff", "person", "relative"),
        pk=action, person=person,
    )
    audit("counter.receipt", channel=AuditChannel.COUNTER, actor=request.user, on_behalf_of=person, obj=item)
    return render_receipt(request, person, item)


def render_receipt(request: HttpRequest, person: InsuredPerson, action: CounterAction, **extra: Any) -> HttpResponse:
    return render(request, "counter/receipt.html", {
        "action": action, "subject": person, "summary": counter_records.summary_of(action),
        "documents": list(action.documents.all()), "guide": _phone_guide(person), **extra,
    })


@counter_staff_required
def change_phone(request: HttpRequest, pk: int) -> HttpResponse:
    """Change the registered phone after checking the ID card (the person is present)."""
    from accounts.phone_change import change_registered_phone
    from accounts.services import AccountError

    person = person_in_region(request, pk)
    user: User = request.user  # type: ignore[assignment]
    form = PhoneChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        old = person.masked_phone
        try:
            with transaction.atomic():
                person = change_registered_phone(person, form.cleaned_data["new_phone"],
                                                 id_number_seen=form.cleaned_data["id_number"], actor=user)
                action = counter_records.record_action(
                    user, person, CounterActionKind.PHONE, obj=person,
                    details={"person": person.name, "old": old or "-", "new": mask_phone(person.phone)},
                    documents=[counter_records.SeenDocument(DocumentKind.ID_CARD, DocumentOwner.PERSON,
                                                            form.cleaned_data["id_number"], True)],
                )
        except AccountError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The registered phone was changed. Print the receipt for the citizen."))
            return receipt_redirect(action)
    return render(request, "counter/phone.html", {"form": form, "subject": person})


@counter_staff_required
def signup_help(request: HttpRequest, pk: int) -> HttpResponse:
    """Help with sign-up: the code goes to the registered phone through the sign-up service."""
    from accounts import services as account_services
    from accounts.forms import CodeAndPasswordForm

    person = person_in_region(request, pk)
    user: User = request.user  # type: ignore[assignment]
    has_account = User.objects.filter(person=person).exists()
    start = SignupHelpForm(request.POST if request.POST.get("step") == "send" else None)
    finish = CodeAndPasswordForm(request.POST if request.POST.get("step") == "finish" else None,
                                 submit_label=_("Create the account"))
    if request.method == "POST" and request.POST.get("step") == "send" and start.is_valid():
        try:
            claimable = account_services.find_claimable_person(person.id_number, person.name)
            with transaction.atomic():
                account_services.send_one_time_code(claimable, CodePurpose.SIGNUP)
                action = counter_records.record_action(
                    user, person, CounterActionKind.SIGNUP,
                    details={"person": person.name, "phone": person.masked_phone},
                )
        except account_services.AccountError as error:
            start.add_error(None, error.message)
        else:
            messages.success(request, _("The code was sent to %(phone)s. The person types it below with a password "
                                        "of their own choice.") % {"phone": person.masked_phone})
            request.session["counter_signup_action"] = action.pk
            return redirect("counter:signup", pk=person.pk)
    if request.method == "POST" and request.POST.get("step") == "finish" and finish.is_valid():
        from django.core.exceptions import ValidationError

        try:
            account_services.complete_signup(person, finish.cleaned_data["code"], finish.cleaned_data["password1"])
        except account_services.AccountError as error:
            finish.add_error("code" if error.code.endswith("code") else None, error.message)
        except ValidationError as error:
            finish.add_error("password1", error)
        else:
            audit("counter.signup_completed", channel=AuditChannel.COUNTER, actor=user, on_behalf_of=person)
            messages.success(request, _("The portal account of %(name)s is ready.") % {"name": person.name})
            action_pk = request.session.pop("counter_signup_action", None)
            finished = CounterAction.objects.filter(pk=action_pk, person=person).first() if action_pk else None
            return receipt_redirect(finished) if finished else redirect("counter:person", pk=person.pk)
    return render(request, "counter/signup.html", {
        "subject": person, "start": start, "finish": finish, "has_account": has_account,
    })


# -- documents seen, shared by every counter action ---------------------------------------------

PERSON_ID_CARD = {"kind": DocumentKind.ID_CARD, "owner": DocumentOwner.PERSON, "present": True}
CONSENT_ROWS = [
    PERSON_ID_CARD,
    {"kind": DocumentKind.ID_CARD, "owner": DocumentOwner.RELATIVE, "present": True},
    {"kind": DocumentKind.INSURANCE_CARD, "owner": DocumentOwner.RELATIVE, "present": True},
    {"kind": DocumentKind.HUKOU_PAGE, "owner": DocumentOwner.RELATIVE, "present": True},
]


class DocumentCheck:
    """The documents table of a counter action: parsed, checked against the people, turned into rows."""

    def __init__(self, request: HttpRequest, person: InsuredPerson, relative: InsuredPerson | None = None, *,
                 initial: list[dict[str, Any]] | None = None, need_person_id: bool = True, data: Any = None) -> None:
        """``data``: the table's fields when they do not come from this request's POST (a confirmation step)."""
        from .counter_forms import documents_formset

        self.person, self.relative, self.need_person_id = person, relative, need_person_id
        if data is None and request.method == "POST":
            data = request.POST
        self.formset = documents_formset(data, initial=initial or [PERSON_ID_CARD])
        self.problems: list[Any] = []
        self.seen: list[counter_records.SeenDocument] = []

    def is_valid(self) -> bool:
        if not self.formset.is_valid():
            return False
        self.seen = self.formset.seen()
        self.problems = counter_records.check_documents(self.seen, self.person, self.relative)
        if self.need_person_id and not counter_records.has_id_card_of(self.seen, DocumentOwner.PERSON):
            self.problems.append(_("Please check the ID card of %(name)s and enter its number.")
                                 % {"name": self.person.name})
        return not self.problems

    def consent_problems(self, consenting: str = DocumentOwner.RELATIVE) -> list[Any]:
        """What is missing before consent may be recorded on the spot (``consenting``: whose consent)."""
        from pooling.proposals import DOCUMENT_LABELS, REQUIRED_DOCUMENTS

        codes = counter_records.consent_codes(self.seen)
        problems: list[Any] = [_("Missing: %(document)s.") % {"document": DOCUMENT_LABELS[code]}
                               for code in REQUIRED_DOCUMENTS if code not in codes]
        here = any(d.owner == consenting and d.present for d in self.seen)
        if not here and "authorisation" not in codes:
            problems.append(_("The person who agrees is not marked as present and there is no written "
                              "authorisation."))
        return problems

    @property
    def codes(self) -> list[str]:
        return counter_records.consent_codes(self.seen)
