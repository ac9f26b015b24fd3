"""Forms of the pooling pages. Each carries its crispy helper; amounts are typed in yuan."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.forms import IdNumberField, _helper
from accounts.models import PERSONAL_ACCOUNT_SCHEMES, Region, Relationship, Scheme, SpendingCategory


def yuan_to_fen(value: Decimal | None) -> int | None:
    return None if value is None else int((value * 100).to_integral_value())


def fen_to_yuan(value: int | None) -> Decimal | None:
    return None if value is None else (Decimal(value) / 100).quantize(Decimal("0.01"))


class YuanField(forms.DecimalField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("min_value", Decimal("0"))
        kwargs.setdefault("max_value", Decimal("10000000"))
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("max_digits", 10)
        super().__init__(**kwargs)
        self.error_messages["min_value"] = _("A limit cannot be below ¥0.")
        self.error_messages["invalid"] = _("Enter an amount in yuan, for example 500 or 120.50.")
        self.widget.attrs.update({"inputmode": "decimal"})


class ProposeForm(forms.Form):
    id_number = IdNumberField(label=_("Your relative's ID number"))
    name = forms.CharField(label=_("Your relative's name"), max_length=50, help_text=_("Exactly as on their ID card."))
    relationship = forms.ChoiceField(
        label=_("This person is my"), choices=[("", _("Choose…")), *Relationship.choices],
    )
    end_date = forms.DateField(
        label=_("End date (optional)"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty to share until you or your relative end it."),
    )

    def __init__(self, *args: Any, submit_label: Any = None, relationships: list[str] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper(submit_label or _("Check"))
        if relationships:  # only the relationships the holder's region allows
            allowed = set(relationships)
            self.fields["relationship"].choices = [  # type: ignore[attr-defined]
                ("", _("Choose…")), *[(code, label) for code, label in Relationship.choices if code in allowed]
            ]

    def clean_end_date(self) -> datetime.date | None:
        value = self.cleaned_data.get("end_date")
        if value is not None and value <= timezone.localdate():
            raise forms.ValidationError(_("The end date must be in the future."))
        return value


class AnswerCodeForm(forms.Form):
    id_number = IdNumberField(label=_("Your ID number"))
    code = forms.CharField(label=_("Code from the text message"), max_length=8, min_length=6,
                           help_text=_("6 digits."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Continue"))
        self.fields["code"].widget.attrs.update({"inputmode": "numeric", "autocomplete": "one-time-code"})


class CounterProposeForm(ProposeForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["id_number"].label = _("The relative's ID number")
        self.fields["name"].label = _("The relative's name")
        self.fields["relationship"].label = _("The relative is this person's")
        self.fields["end_date"].help_text = _("Leave empty to share until one of them ends it.")

    record_consent = forms.BooleanField(
        label=_("The relative is here (or has written authorisation): record their consent now"), required=False,
        help_text=_("Then pooling starts at once; record both ID cards, a medical insurance card and the proof of "
                    "the relationship below. Otherwise the relative is sent a request to answer."),
    )


class LimitsForm(forms.Form):
    per_payment = YuanField(label=_("Most per payment (¥)"), help_text=_("Empty: no limit per payment."))
    monthly = YuanField(label=_("Most per month (¥)"), help_text=_("Empty: no monthly limit."))
    annual = YuanField(label=_("Most per year (¥)"), help_text=_("Empty: no yearly limit (your region's limit still applies)."))
    outpatient = YuanField(label=_("Most per year for outpatient care (¥)"), help_text=_("Empty: no limit of this kind."))
    pharmacy = YuanField(label=_("Most per year for drugs at a pharmacy (¥)"),
                         help_text=_("Empty: no limit of this kind."))
    inpatient = YuanField(label=_("Most per year for hospital stays (¥)"), help_text=_("Empty: no limit of this kind."))
    reserve = YuanField(label=_("Always keep in my account (¥)"),
                        help_text=_("Payments for this relative never take your balance below this amount "
                                    "(your region's reserve still applies)."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Save limits"))

    def clean(self) -> dict[str, Any]:
        from .changes import limits_problem

        data = super().clean() or {}
        problem = limits_problem(yuan_to_fen(data.get("per_payment")), yuan_to_fen(data.get("monthly")),
                                 yuan_to_fen(data.get("annual")))
        if problem:
            raise forms.ValidationError(problem)
        return data

    def fen(self) -> dict[str, int | None]:
        return {
            "per_payment_fen": yuan_to_fen(self.cleaned_data.get("per_payment")),
            "monthly_fen": yuan_to_fen(self.cleaned_data.get("monthly")),
            "annual_fen": yuan_to_fen(self.cleaned_data.get("annual")),
            "outpatient_fen": yuan_to_fen(self.cleaned_data.get("outpatient")),
            "pharmacy_fen": yuan_to_fen(self.cleaned_data.get("pharmacy")),
            "inpatient_fen": yuan_to_fen(self.cleaned_data.get("inpatient")),
            "reserve_fen": yuan_to_fen(self.cleaned_data.get("reserve")),
        }


class EndDateForm(forms.Form):
    start_date = forms.DateField(
        label=_("Pooling starts on"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty to allow payments at once."),
    )
    end_date = forms.DateField(
        label=_("Pooling ends on"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty for no end date. You will both be reminded before it ends."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Save end date"))

    def clean_end_date(self) -> datetime.date | None:
        value = self.cleaned_data.get("end_date")
        if value is not None and value <= timezone.localdate():
            raise forms.ValidationError(_("The end date must be in the future."))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start_date"), data.get("end_date")
        if start is not None and end is not None and start > end:
            raise forms.ValidationError(_("The start date must be on or before the end date."))
        return data


class UnbindForm(forms.Form):
    note = forms.CharField(
        label=_("Reason (optional)"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The other person will see this."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("End pooling now"))
        self.helper.inputs[0].field_classes = "btn btn-danger btn-lg"


class PreviewForm(forms.Form):
    amount = forms.DecimalField(label=_("If I pay (¥)"), min_value=Decimal("0.01"), max_value=Decimal("1000000"),
                                decimal_places=2, initial=Decimal("300"))
    category = forms.ChoiceField(label=_("for"), choices=SpendingCategory.choices, initial="pharmacy_drug")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.add_input(Submit("preview", _("Show")))



class CheckerForm(forms.Form):
    """The public checker: facts typed by anyone, no log-in."""

    my_scheme = forms.ChoiceField(label=_("My insurance"), choices=Scheme.choices, initial=Scheme.EMPLOYEE)
    my_region = forms.CharField(label=_("Where I am insured (6-digit region code or city name)"), max_length=30)
    relationship = forms.ChoiceField(label=_("The relative is my"), choices=[("", _("Choose…")), *Relationship.choices])
    relative_insured = forms.ChoiceField(
        label=_("Is the relative insured?"), initial="yes", widget=forms.RadioSelect,
        choices=[("yes", _("Yes, insurance is active")), ("inactive", _("Yes, but it is suspended or stopped")),
                 ("no", _("No, or I don't know"))],
    )
    relative_scheme = forms.ChoiceField(label=_("The relative's insurance"), choices=Scheme.choices,
                                        initial=Scheme.RESIDENT, required=False)
    relative_region = forms.CharField(label=_("Where the relative is insured (region code or city name)"),
                                      max_length=30, required=False,
                                      help_text=_("Leave empty if it is the same place as you."))
    relative_age = forms.IntegerField(label=_("The relative's age"), min_value=0, max_value=130, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Check"))

    def _region(self, value: str) -> Region:
        value = (value or "").strip()
        qs = Region.objects.filter(current=True)
        region = qs.filter(code=value).first() if value.isdigit() else None
        if region is None and value and not value.isdigit():
            region = qs.filter(name=value).first() or qs.filter(name__startswith=value).order_by("code").first()
        if region is None:
            raise forms.ValidationError(
                _("We do not know this place. Enter the city name as on your insurance card (for example 海口市) "
                  "or the 6-digit region code."))
        return region

    def clean_my_region(self) -> Region:
        return self._region(self.cleaned_data["my_region"])

    def clean_relative_region(self) -> Region | None:
        value = self.cleaned_data.get("relative_region")
        return self._region(value) if value else None

    @property
    def has_account(self) -> bool:
        return self.cleaned_data.get("my_scheme") in PERSONAL_ACCOUNT_SCHEMES
