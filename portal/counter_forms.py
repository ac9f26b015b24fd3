"""Forms of the counter workspace: look-ups with a reason, documents seen, phone change, sign-up help."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.forms import IdNumberField, _helper

from .counter_records import SeenDocument
from .models import DocumentKind, DocumentOwner


class LookupReason:
    """Why an assistant looks a person up: chosen from a short list, kept in the audit trail."""

    CHOICES = [
        ("", _("Choose…")),
        ("in_person", _("The person is at the counter and asks for help")),
        ("relative_present", _("A relative is at the counter with written authorisation")),
        ("phone_change", _("To change the registered phone")),
        ("signup", _("To help with sign-up")),
        ("follow_up", _("Follow-up of an earlier visit")),
    ]


def _reason_field() -> forms.ChoiceField:
    return forms.ChoiceField(label=_("Reason for the look-up"), choices=LookupReason.CHOICES,
                             help_text=_("Every look-up is recorded with this reason."))


class FindByIdForm(forms.Form):
    method = "id"
    id_number = IdNumberField(label=_("ID number of the person being helped"))
    reason = _reason_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "by_id")
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Find"), submit_id="submit-by_id")


class FindByNameForm(forms.Form):
    method = "name"
    name = forms.CharField(label=_("Name, exactly as on the ID card"), max_length=50)
    birth_date = forms.DateField(label=_("Birth date"), widget=forms.DateInput(attrs={"type": "date"}),
                                 help_text=_("For example 1948-09-30."))
    reason = _reason_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "by_name")
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Find"), submit_id="submit-by_name")

    def clean_birth_date(self) -> datetime.date:
        value = self.cleaned_data["birth_date"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("The birth date cannot be in the future."))
        return value


class FindByPhoneForm(forms.Form):
    method = "phone"
    phone = forms.CharField(label=_("Registered phone number"), max_length=20,
                            widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}))
    reason = _reason_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "by_phone")
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Find"), submit_id="submit-by_phone")

    def clean_phone(self) -> str:
        from accounts.models import normalize_phone

        phone = normalize_phone(self.cleaned_data["phone"])
        if len(phone) != 11 or not phone.isdigit():
            raise forms.ValidationError(_("Please enter an 11-digit mobile number, for example 13812345678."))
        return phone


class DocumentRowForm(forms.Form):
    kind = forms.ChoiceField(label=_("Document"), required=False,
                             choices=[("", _("(none)")), *DocumentKind.choices])
    owner = forms.ChoiceField(label=_("Whose"), choices=DocumentOwner.choices, initial=DocumentOwner.PERSON)
    number = forms.CharField(label=_("Number"), max_length=40, required=False,
                             widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}))
    present = forms.BooleanField(label=_("Owner present"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, css in (("kind", "form-select"), ("owner", "form-select"), ("number", "form-control"),
                          ("present", "form-check-input")):
            self.fields[name].widget.attrs.update({"class": css, "aria-label": str(self.fields[name].label)})

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        number = "".join((data.get("number") or "").split())
        data["number"] = number
        if number and not data.get("kind"):
            self.add_error("kind", _("Please choose which document this number is from."))
        return data


class BaseDocumentFormSet(forms.BaseFormSet):
    def seen(self) -> list[SeenDocument]:
        docs = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", {})
            if data.get("kind") and data.get("number"):
                from accounts.idnumbers import normalize_id_number

                number = data["number"]
                if data["kind"] == DocumentKind.ID_CARD:
                    number = normalize_id_number(number)
                docs.append(SeenDocument(data["kind"], data["owner"], number, bool(data.get("present"))))
        return docs


DocumentFormSet = forms.formset_factory(DocumentRowForm, formset=BaseDocumentFormSet, extra=2, max_num=10,
                                        validate_max=True)


def documents_formset(data: Any = None, *, initial: list[dict[str, Any]] | None = None) -> Any:
    """Rows to fill in; rows left without a number are ignored (the first rows are suggestions)."""
    return DocumentFormSet(data, prefix="doc", initial=initial or [])


class PhoneChangeForm(forms.Form):
    id_number = IdNumberField(label=_("ID number as read from the ID card shown"),
                              help_text=_("Check the card's photo against the person first."))
    present = forms.BooleanField(label=_("The person is present with the ID card"), required=True)
    new_phone = forms.CharField(label=_("New mobile number"), max_length=20,
                                widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Change the phone"))


class SignupHelpForm(forms.Form):
    present = forms.BooleanField(label=_("The person is present and I have checked their ID card"), required=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Send the code to the registered phone"))
