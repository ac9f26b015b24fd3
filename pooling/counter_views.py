"""Counter pages: an assistant sets up pooling for a person of their region, documents checked."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _

from accounts.models import AuditChannel
from portal.counter import counter_staff_required, person_in_region

from . import changes, common, proposals
from .common import By, PoolingError
from .forms import CounterProposeForm, DocumentsForm, UnbindForm
from .models import Binding, BindingStatus
from .relations import beneficiary_word, holder_word


@counter_staff_required
def propose(request: HttpRequest, pk: int) -> HttpResponse:
    """The person being helped is the holder; the relative is entered by ID number."""
    holder = person_in_region(request, pk)
    form = CounterProposeForm(request.POST or None, submit_label=_("Check"))
    answer = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            candidate = proposals.find_candidate(data["id_number"], data["name"])
        except PoolingError as error:
            form.add_error("name", error.message)
        else:
            answer = proposals.check_candidate(holder, candidate, data["relationship"])
            if answer.ok and request.POST.get("confirm") == "1":
                by = By(holder, request.user, AuditChannel.COUNTER)  # type: ignore[arg-type]
                try:
                    binding = proposals.propose_binding(
                        holder, candidate, data["relationship"], by, end_date=data.get("end_date"),
                        consent_documents=data.get("documents") or [],
                    )
                except common.NotEligible as refused:
                    answer = refused.answer
                except PoolingError as error:
                    form.add_error("documents", error.message)
                else:
                    if binding.status == BindingStatus.ACTIVE:
                        messages.success(request, _("Pooling with %(name)s is active.") % {"name": binding.beneficiary.name})
                    else:
                        messages.success(request, _("Request sent to %(name)s.") % {"name": binding.beneficiary.name})
                    return redirect("counter:person", pk=holder.pk)
    return render(request, "counter/pooling_propose.html", {"form": form, "subject": holder, "answer": answer})


def _binding_of(request: HttpRequest, person_pk: int, binding_pk: int) -> tuple[Binding, object]:
    person = person_in_region(request, person_pk)
    binding = get_object_or_404(
        Binding.objects.with_people().filter(Q(holder=person) | Q(beneficiary=person)), pk=binding_pk
    )
    return binding, person


@counter_staff_required
def record_consent(request: HttpRequest, pk: int, binding_pk: int) -> HttpResponse:
    """The relative is present: record their consent on the spot after checking documents."""
    binding, person = _binding_of(request, pk, binding_pk)
    if binding.beneficiary_id != person.pk:  # type: ignore[attr-defined]
        messages.error(request, _("Consent is given by the relative. Open the relative's page to record it."))
        return redirect("counter:person", pk=pk)
    form = DocumentsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        by = By(binding.beneficiary, request.user, AuditChannel.COUNTER)  # type: ignore[arg-type]
        try:
            proposals.consent_binding(binding, by, documents=form.cleaned_data["documents"])
        except PoolingError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Consent recorded. Pooling is active."))
            return redirect("counter:person", pk=pk)
    return render(request, "counter/pooling_consent.html", {
        "form": form, "binding": binding, "subject": person, "word": holder_word(binding),
    })


@counter_staff_required
def unbind(request: HttpRequest, pk: int, binding_pk: int) -> HttpResponse:
    binding, person = _binding_of(request, pk, binding_pk)
    form = UnbindForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        by = By(person, request.user, AuditChannel.COUNTER)  # type: ignore[arg-type]
        try:
            changes.unbind(binding, by, form.cleaned_data.get("note", ""))
        except PoolingError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Pooling has ended."))
            return redirect("counter:person", pk=pk)
    is_holder = binding.holder_id == person.pk  # type: ignore[attr-defined]
    return render(request, "counter/pooling_unbind.html", {
        "form": form, "binding": binding, "subject": person,
        "word": beneficiary_word(binding) if is_holder else holder_word(binding),
    })
