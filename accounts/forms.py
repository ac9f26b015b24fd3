"""Forms of sign-up, log-in, password reset and preferences. Each carries its crispy helper."""

from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.utils.translation import gettext_lazy as _

from .idnumbers import validate_id_number
from .models import User


def _helper(submit_label: Any, form_id: str = "", submit_id: str = "") -> FormHelper:
    """submit_id: the button's id where one page shows several of these forms (ids are unique)."""
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    helper.form_show_errors = True
    helper.render_unmentioned_fields = True
    if form_id:
        helper.form_id = form_id
    extra = {"css_id": submit_id} if submit_id else {}
    helper.add_input(Submit("submit", submit_label, css_class="btn-primary btn-lg", **extra))
    return helper


class IdNumberField(forms.CharField):
    """An ID number field: normalises case and separators, validates with clear messages."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("ID number"))
        kwargs.setdefault("max_length", 30)
        kwargs.setdefault("help_text", _("18 characters, as printed on the resident identity card."))
        super().__init__(**kwargs)
        self.widget.attrs.update({"autocomplete": "off", "inputmode": "text", "spellcheck": "false"})

    def clean(self, value: Any) -> str:
        value = super().clean(value)
        if not value:
            return value
        return validate_id_number(value).number


class SignupStartForm(forms.Form):
    id_number = IdNumberField()
    name = forms.CharField(label=_("Name"), max_length=50, help_text=_("Exactly as on the ID card."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Send me a code"))
        self.fields["name"].widget.attrs["autocomplete"] = "name"


class CodeAndPasswordForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the text message"), max_length=6, min_length=6,
        help_text=_("6 digits, sent to your registered phone."),
    )
    password1 = forms.CharField(
        label=_("New password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 8 characters; not only digits; not your name."),
    )
    password2 = forms.CharField(
        label=_("New password again"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def __init__(self, *args: Any, submit_label: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper(submit_label or _("Create my account"))
        self.fields["code"].widget.attrs.update({"inputmode": "numeric", "autocomplete": "one-time-code"})

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        if not code.isdigit():
            raise forms.ValidationError(_("The code has 6 digits."))
        return code

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords are not the same. Please type them again."))
        elif p1:
            try:
                password_validation.validate_password(p1)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label=_("ID number or phone number"), max_length=30,
        help_text=_("Your 18-character ID number, or the mobile number registered with your insurance. "
                    "If relatives share one phone, use your ID number."),
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    error_messages = {
        "invalid_login": _(
            "The ID number or phone number and password do not match. Check them and try again; "
            "after 5 failed tries, log-in is blocked for 15 minutes."
        ),
        "inactive": _("This account is disabled. Please contact your medical-insurance bureau."),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Log in"))
        self.fields["password"].label = _("Password")

    def get_invalid_login_error(self) -> forms.ValidationError:
        from .backends import users_sharing_phone

        if users_sharing_phone(self.cleaned_data.get("username", "")) > 1:
            return forms.ValidationError(
                _("Several people use this phone number, so we cannot tell who you are. "
                  "Please log in with your ID number instead."),
                code="shared_phone",
            )
        return super().get_invalid_login_error()


class ResetStartForm(forms.Form):
    id_number = IdNumberField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Send me a code"))


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["language", "notify_sms", "notify_email", "email"]
        labels = {
            "language": _("Language of the portal and of messages"),
            "notify_sms": _("Send me text messages"),
            "notify_email": _("Send me e-mails"),
            "email": _("E-mail address"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Save"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("notify_email") and not data.get("email"):
            self.add_error("email", _("Enter an e-mail address to receive e-mails, or untick e-mails."))
        return data


class PortalPasswordChangeForm(PasswordChangeForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Change my password"))
        self.fields["old_password"].label = _("Current password")
        self.fields["new_password1"].label = _("New password")
        self.fields["new_password1"].help_text = _("At least 8 characters; not only digits; not your name.")
        self.fields["new_password2"].label = _("New password again")


class ConfirmPasswordForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )
    next = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.helper = _helper(_("Confirm"))

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("The password is not correct. Please try again."))
        return password
