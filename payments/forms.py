"""Forms of the payments pages. Each carries its crispy helper (accounts.forms._helper)."""

from __future__ import annotations

import datetime
import re
from functools import lru_cache
from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import SpendingCategory

from .consumption import Filters


class SpendingFilterForm(forms.Form):
    """GET filters of the consumption pages; invalid values are ignored with a message."""

    person = forms.TypedChoiceField(label=_("Relative"), required=False, coerce=int, empty_value=None)
    category = forms.ChoiceField(label=_("What it paid for"), required=False)
    institution = forms.TypedChoiceField(label=_("Hospital or pharmacy"), required=False, coerce=int, empty_value=None)
    month = forms.CharField(label=_("Month"), required=False, max_length=7,
                            help_text=_("For example 2026-03. Leave empty for all months."))

    def __init__(self, *args: Any, people: list[Any], institutions: list[Any], person_label: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        everyone = [("", _("Everyone"))]
        fields: dict[str, Any] = self.fields  # ChoiceFields: their choices are set here
        fields["person"].choices = everyone + [(p.pk, p.name) for p in people]
        if person_label:
            self.fields["person"].label = person_label
        fields["category"].choices = [("", _("Everything"))] + [
            c for c in SpendingCategory.choices if c[0] != SpendingCategory.RESIDENT_PREMIUM
        ]
        fields["institution"].choices = [("", _("All"))] + [(i.pk, i.name) for i in institutions]
        self.fields["month"].widget.attrs.update({"placeholder": "2026-03", "inputmode": "numeric"})
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.add_input(Submit("filter", _("Show"), css_class="btn-primary"))

    def clean_month(self) -> datetime.date | None:
        value = (self.cleaned_data.get("month") or "").strip()
        if not value:
            return None
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value):
            raise forms.ValidationError(_("Write the month as year-month, for example 2026-03."))
        return datetime.date(int(value[:4]), int(value[5:]), 1)

    def filters(self) -> Filters:
        if not self.is_bound or not self.is_valid():
            return Filters()
        data = self.cleaned_data
        return Filters(data.get("person"), data.get("category") or "", data.get("institution"), data.get("month"))


def unbound_filter_form_html(people: list[Any], institutions: list[Any], person_label: Any = None) -> str:
    """The filter form's fields as ``{% crispy form %}`` renders them before anything is chosen.

    The consumption pages open with this form unbound, and crispy took as long to render it as
    the rest of the page's content: an unbound form's HTML depends only on its choices, its
    label and the language, so it is rendered once per process for each of them."""
    from django.utils.translation import get_language

    key = (get_language(), str(person_label) if person_label else None,
           tuple((p.pk, p.name) for p in people), tuple((i.pk, i.name) for i in institutions))
    return _unbound_html(*key, person_label)


@lru_cache(maxsize=512)
def _unbound_html(_language: str, _label: str | None, people: tuple[tuple[int, str], ...],
                  institutions: tuple[tuple[int, str], ...], person_label: Any) -> str:
    from django.template.loader import render_to_string
    from django.utils.safestring import mark_safe

    from .consumption import Choice

    form = SpendingFilterForm(None, people=[Choice(*p) for p in people],
                              institutions=[Choice(*i) for i in institutions], person_label=person_label)
    return mark_safe(render_to_string("payments/_filter_form_fields.html", {"form": form}))  # noqa: S308 (rendered by crispy)


class PremiumForm(forms.Form):
    relative = forms.IntegerField(widget=forms.HiddenInput)
    year = forms.IntegerField(widget=forms.HiddenInput)
