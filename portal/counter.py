"""The elderly-assist counter workspace: staff find a person in their region and act for them.

Every lookup is audited. Pooling and payments add their counter actions through
``<app>/counter_urls.py`` (namespace "counter") and person-page sections.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _

from accounts.forms import IdNumberField
from accounts.models import AuditChannel, InsuredPerson, User, audit

# Sections of the counter's person page: (template, context builder(request, person)).
person_sections: list[tuple[str, Callable[[HttpRequest, InsuredPerson], dict[str, Any]]]] = []


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


class FindPersonForm(forms.Form):
    id_number = IdNumberField(label=_("ID number of the person being helped"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from crispy_forms.helper import FormHelper
        from crispy_forms.layout import Submit

        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.add_input(Submit("submit", _("Find"), css_class="btn-primary btn-lg"))


@counter_staff_required
def home(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    assert user.office is not None
    form = FindPersonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        person = InsuredPerson.objects.by_id_number(form.cleaned_data["id_number"])
        audit("counter.search", channel=AuditChannel.COUNTER, actor=user, on_behalf_of=person,
              note="found" if person else "not found")
        if person is None:
            form.add_error("id_number", _("No insured person has this ID number. They may need to enrol first."))
        elif person.region_id != user.office.region_id:
            form.add_error("id_number", _("This person is insured in %(region)s. Only a counter of that region can help them.")
                           % {"region": person.region.full_name})
        else:
            return redirect("counter:person", pk=person.pk)
    return render(request, "counter/home.html", {"form": form, "office": user.office})


@counter_staff_required
def person_page(request: HttpRequest, pk: int) -> HttpResponse:
    person = person_in_region(request, pk)
    audit("counter.lookup", channel=AuditChannel.COUNTER, actor=request.user, on_behalf_of=person, obj=person)
    context: dict[str, Any] = {"subject": person, "sections": []}
    for template, build in person_sections:
        context.update(build(request, person))
        context["sections"].append(template)
    return render(request, "counter/person.html", context)
