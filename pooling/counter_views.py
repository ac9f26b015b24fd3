"""Counter pages of family pooling: an assistant acts for a person of their region, documents recorded.

Each page calls the same service function as the citizen's page (``By(person, assistant,
COUNTER)``), records the action and the documents seen (``portal.counter_records``) in the same
transaction, and ends on the receipt.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _

from accounts.models import AuditChannel, InsuredPerson, RegionPolicy
from portal import counter_records
from portal.counter import (
    CONSENT_ROWS,
    DocumentCheck,
    counter_staff_required,
    person_in_region,
    receipt_redirect,
)
from portal.models import CounterActionKind, DocumentOwner

from . import changes, common, eligibility, proposals
from .common import By, PoolingError
from .forms import CounterProposeForm, EndDateForm, LimitsForm, UnbindForm, fen_to_yuan
from .models import Binding, BindingStatus
from .relations import beneficiary_word, holder_word


def _by(request: HttpRequest, person: InsuredPerson) -> By:
    return By(person, request.user, AuditChannel.COUNTER)  # type: ignore[arg-type]


def _names(binding: Binding) -> dict[str, Any]:
    return {"holder": binding.holder.name, "beneficiary": binding.beneficiary.name}


def _yuan(fen: int | None) -> str | None:
    return None if fen is None else f"¥{fen_to_yuan(fen):,}"


def in_scope_elsewhere(holder: InsuredPerson, other: InsuredPerson) -> bool:
    """A relative insured outside the holder's region but inside its pooling scope (province-wide or wider)."""
    policy = RegionPolicy.objects.in_force(holder.region_id)
    return other.region_id != holder.region_id and eligibility._in_scope(
        policy.pooling_scope, holder.region_id, other.region_id)


@counter_staff_required
def propose(request: HttpRequest, pk: int) -> HttpResponse:
    """The person being helped is the holder; the relative is entered by ID number."""
    holder = person_in_region(request, pk)
    form = CounterProposeForm(request.POST or None, submit_label=_("Check"),
                              relationships=common.policy_for(holder).allowed_relationships)
    candidate = None
    if request.method == "POST" and form.is_valid():
        try:
            candidate = proposals.find_candidate(form.cleaned_data["id_number"], form.cleaned_data["name"])
        except PoolingError as error:
            form.add_error("name", error.message)
    docs = DocumentCheck(request, holder, candidate, initial=CONSENT_ROWS)
    answer = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        answer = proposals.check_candidate(holder, candidate, data["relationship"])
        if answer.ok and request.POST.get("confirm") == "1" and docs.is_valid():
            problems = docs.consent_problems() if data.get("record_consent") else []
            if problems:
                docs.problems.extend(problems)
            else:
                try:
                    with transaction.atomic():
                        binding = proposals.propose_binding(
                            holder, candidate, data["relationship"], _by(request, holder),
                            end_date=data.get("end_date"),
                            consent_documents=docs.codes if data.get("record_consent") else [],
                        )
                        active = binding.status == BindingStatus.ACTIVE
                        action = counter_records.record_action(
                            request.user, holder,  # type: ignore[arg-type]
                            CounterActionKind.PROPOSE_ACTIVE if active else CounterActionKind.PROPOSE,
                            relative=candidate, obj=binding, details=_names(binding), documents=docs.seen,
                        )
                except common.NotEligible as refused:
                    answer = refused.answer
                except PoolingError as error:
                    docs.problems.append(error.message)
                else:
                    if active:
                        messages.success(request, _("Pooling with %(name)s is active.") % {"name": binding.beneficiary.name})
                    else:
                        messages.success(request, _("Request sent to %(name)s.") % {"name": binding.beneficiary.name})
                    return receipt_redirect(action)
    return render(request, "counter/pooling_propose.html", {
        "form": form, "subject": holder, "answer": answer, "docs": docs,
    })


def _binding_of(request: HttpRequest, person_pk: int, binding_pk: int, *, holder_only: bool = False
                ) -> tuple[Binding, InsuredPerson]:
    """A binding of a person of the assistant's region (404 otherwise, like a missing one)."""
    person = person_in_region(request, person_pk)
    people = Q(holder=person) if holder_only else Q(holder=person) | Q(beneficiary=person)
    binding = get_object_or_404(Binding.objects.with_people().filter(people), pk=binding_pk)
    return binding, person


def _other(binding: Binding, person: InsuredPerson) -> InsuredPerson:
    return binding.beneficiary if binding.holder_id == person.pk else binding.holder


@counter_staff_required
def record_consent(request: HttpRequest, pk: int, binding_pk: int) -> HttpResponse:
    """Record the relative's consent on the spot, after checking documents.

    From the relative's own page; or from the holder's page when the relative is insured elsewhere
    in the holder's pooling scope (a counter of the holder's region may then record it).
    """
    binding, person = _binding_of(request, pk, binding_pk)
    as_holder = binding.holder_id == person.pk
    if as_holder and not in_scope_elsewhere(person, binding.beneficiary):
        messages.error(request, _("Consent is given by the relative. Open the relative's page to record it."))
        return redirect("counter:person", pk=pk)
    consenting = DocumentOwner.RELATIVE if as_holder else DocumentOwner.PERSON
    docs = DocumentCheck(request, person, _other(binding, person), initial=CONSENT_ROWS)
    if request.method == "POST" and docs.is_valid():
        problems = docs.consent_problems(consenting)
        if problems:
            docs.problems.extend(problems)
        else:
            try:
                with transaction.atomic():
                    proposals.consent_binding(binding, _by(request, binding.beneficiary), documents=docs.codes)
                    action = counter_records.record_action(
                        request.user, person, CounterActionKind.CONSENT,  # type: ignore[arg-type]
                        relative=_other(binding, person), obj=binding, details=_names(binding), documents=docs.seen,
                    )
            except PoolingError as error:
                docs.problems.append(error.message)
            else:
                messages.success(request, _("Consent recorded. Pooling is active."))
                return receipt_redirect(action)
    return render(request, "counter/pooling_consent.html", {
        "docs": docs, "binding": binding, "subject": person, "word": holder_word(binding),
    })


@counter_staff_required
def unbind(request: HttpRequest, pk: int, binding_pk: int) -> HttpResponse:
    binding, person = _binding_of(request, pk, binding_pk)
    form = UnbindForm(request.POST or None)
    docs = DocumentCheck(request, person, _other(binding, person))
    if request.method == "POST" and form.is_valid() & docs.is_valid():
        try:
            with transaction.atomic():
                changes.unbind(binding, _by(request, person), form.cleaned_data.get("note", ""))
                action = counter_records.record_action(
                    request.user, person, CounterActionKind.UNBIND,  # type: ignore[arg-type]
                    relative=_other(binding, person), obj=binding, details=_names(binding), documents=docs.seen,
                )
        except PoolingError as error:
            docs.problems.append(error.message)
        else:
            messages.success(request, _("Pooling has ended. It can be undone for a few minutes."))
            return receipt_redirect(action)
    is_holder = binding.holder_id == person.pk
    return render(request, "counter/pooling_unbind.html", {
        "form": form, "binding": binding, "subject": person, "docs": docs,
        "word": beneficiary_word(binding) if is_holder else holder_word(binding),
    })


@counter_staff_required
def limits(request: HttpRequest, pk: int, binding_pk: int) -> HttpResponse:
    binding, holder = _binding_of(request, pk, binding_pk, holder_only=True)
    initial = {"per_payment": fen_to_yuan(binding.per_payment_cap_fen), "monthly": fen_to_yuan(binding.monthly_cap_fen),
               "annual": fen_to_yuan(binding.annual_cap_fen)}
    form = LimitsForm(request.POST or None, initial=initial)
    docs = DocumentCheck(request, holder, binding.beneficiary)
    if request.method == "POST" and form.is_valid() & docs.is_valid():
        fen = form.fen()
        try:
            with transaction.atomic():
                changes.set_limits(binding, _by(request, holder), **fen)
                action = counter_records.record_action(
                    request.user, holder, CounterActionKind.LIMITS,  # type: ignore[arg-type]
                    relative=binding.beneficiary, obj=binding, documents=docs.seen,
                    details=_names(binding) | {"per_payment": _yuan(fen["per_payment_fen"]),
                                               "monthly": _yuan(fen["monthly_fen"]),
                                               "annual": _yuan(fen["annual_fen"])},
                )
        except PoolingError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Limits saved. They can be undone for a few minutes."))
            return receipt_redirect(action)
    return render(request, "counter/pooling_limits.html", {
        "form": form, "binding": binding, "subject": holder, "docs": docs, "word": beneficiary_word(binding),
        "policy": common.policy_for(binding.holder),
    })


@counter_staff_required
def end_date(request: HttpRequest, pk: int, binding_pk: int) -> HttpResponse:
    binding, holder = _binding_of(request, pk, binding_pk, holder_only=True)
    form = EndDateForm(request.POST or None, initial={"end_date": binding.end_date})
    docs = DocumentCheck(request, holder, binding.beneficiary)
    if request.method == "POST" and form.is_valid() & docs.is_valid():
        day = form.cleaned_data.get("end_date")
        try:
            with transaction.atomic():
                changes.set_end_date(binding, _by(request, holder), day)
                action = counter_records.record_action(
                    request.user, holder, CounterActionKind.END_DATE,  # type: ignore[arg-type]
                    relative=binding.beneficiary, obj=binding, documents=docs.seen,
                    details=_names(binding) | {"date": day.isoformat() if day else "-"},
                )
        except PoolingError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("End date saved."))
            return receipt_redirect(action)
    return render(request, "counter/pooling_end_date.html", {
        "form": form, "binding": binding, "subject": holder, "docs": docs, "word": beneficiary_word(binding),
    })


PAUSE_ACTIONS = {
    "pause": (changes.pause_binding, CounterActionKind.PAUSE, BindingStatus.ACTIVE,
              _("Pause payments for %(name)s"), _("Pause now")),
    "resume": (changes.resume_binding, CounterActionKind.RESUME, BindingStatus.PAUSED,
               _("Resume payments for %(name)s"), _("Resume now")),
}


@counter_staff_required
def pause_or_resume(request: HttpRequest, pk: int, binding_pk: int, what: str) -> HttpResponse:
    if what not in PAUSE_ACTIONS:
        raise Http404
    call, kind, status, title, button = PAUSE_ACTIONS[what]
    binding, holder = _binding_of(request, pk, binding_pk, holder_only=True)
    docs = DocumentCheck(request, holder, binding.beneficiary)
    if request.method == "POST" and docs.is_valid():
        try:
            with transaction.atomic():
                call(binding, _by(request, holder))
                action = counter_records.record_action(
                    request.user, holder, kind, relative=binding.beneficiary,  # type: ignore[arg-type]
                    obj=binding, details=_names(binding), documents=docs.seen,
                )
        except PoolingError as error:
            docs.problems.append(error.message)
        else:
            messages.success(request, str(kind.label))
            return receipt_redirect(action)
    return render(request, "counter/action.html", {
        "subject": holder, "docs": docs, "title": title % {"name": binding.beneficiary.name}, "button": button,
        "explanation": _("It takes effect at once. Both people are told.") if binding.status == status else
        _("This cannot be done now: the pooling is %(status)s.") % {"status": binding.get_status_display()},
    })


@counter_staff_required
def undo(request: HttpRequest, pk: int) -> HttpResponse:
    """Undo the person's last change (made at the counter or by themselves) while it can still be undone."""
    person = person_in_region(request, pk)
    change = changes.open_undo_for(person)
    if change is None:
        messages.error(request, _("There is nothing to undo."))
        return redirect("counter:person", pk=pk)
    docs = DocumentCheck(request, person)
    if request.method == "POST" and docs.is_valid():
        try:
            with transaction.atomic():
                changes.undo_change(change.pk, _by(request, person))
                action = counter_records.record_action(
                    request.user, person, CounterActionKind.UNDO, obj=change,  # type: ignore[arg-type]
                    details={"person": person.name}, documents=docs.seen,
                )
        except PoolingError as error:
            docs.problems.append(error.message)
        else:
            messages.success(request, _("Undone: everything is as it was before."))
            return receipt_redirect(action)
    return render(request, "counter/action.html", {
        "subject": person, "docs": docs, "title": _("Undo the last change of %(name)s") % {"name": person.name},
        "button": _("Undo"), "explanation": change.get_action_display(),
    })


@counter_staff_required
def order(request: HttpRequest, pk: int) -> HttpResponse:
    """The order in which the person's payment sources are used (own account, then relatives')."""
    from .dashboard import beneficiary_context

    person = person_in_region(request, pk)
    sources = beneficiary_context(person)["pooling_sources"]
    if not sources:
        messages.error(request, _("This person does not use anyone's account, so there is nothing to order."))
        return redirect("counter:person", pk=pk)
    docs = DocumentCheck(request, person)
    rows = [{"key": s["key"], "label": _("Own personal account") if s["own"] else
             _("Account of %(name)s") % {"name": s["binding"].holder.name}} for s in sources]
    error: Any = None
    if request.method == "POST":
        positions = {}
        for row in rows:
            try:
                positions[row["key"]] = int(request.POST.get(f"position-{row['key']}", ""))
            except ValueError:
                error = _("Please give every source a position.")
        if error is None and sorted(positions.values()) != list(range(1, len(rows) + 1)):
            error = _("Give each source a different position, from 1 to %(n)s.") % {"n": len(rows)}
        if error is None and docs.is_valid():
            keys = sorted(positions, key=positions.__getitem__)
            labels = {r["key"]: str(r["label"]) for r in rows}
            try:
                with transaction.atomic():
                    saved = changes.set_deduction_order(person, keys, _by(request, person))
                    action = counter_records.record_action(
                        request.user, person, CounterActionKind.ORDER, obj=saved,  # type: ignore[arg-type]
                        details={"person": person.name, "order": " → ".join(labels[k] for k in keys)},
                        documents=docs.seen,
                    )
            except PoolingError as failure:
                error = failure.message
            else:
                messages.success(request, _("Order saved."))
                return receipt_redirect(action)
    for position, row in enumerate(rows, start=1):
        row["position"] = request.POST.get(f"position-{row['key']}", position) if request.method == "POST" else position
    return render(request, "counter/pooling_order.html", {
        "subject": person, "docs": docs, "rows": rows, "error": error, "positions": range(1, len(rows) + 1),
    })

