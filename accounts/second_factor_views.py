"""The staff second-factor pages: enrol an authenticator app, then a code after every password."""

from __future__ import annotations

from urllib.parse import urlencode

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import second_factor
from .forms import _helper
from .models import User


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"), max_length=20,
        help_text=gettext_lazy("The 6 digits your authenticator app shows now, or one of your recovery codes."),
    )

    def __init__(self, *args: object, submit_label: object = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.helper = _helper(submit_label or gettext_lazy("Continue"))
        self.fields["code"].widget.attrs.update({"autocomplete": "one-time-code", "inputmode": "numeric"})


def _next(request: HttpRequest, user: User) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return second_factor.default_next(user)


def _staff_only(request: HttpRequest) -> HttpResponse | None:
    if not second_factor.is_staff_user(request.user):
        return redirect("portal:dashboard")
    return None


@login_required
def enrol(request: HttpRequest) -> HttpResponse:
    """Show a new secret once as a QR code; the first right code confirms it."""
    user: User = request.user  # type: ignore[assignment]
    if (refusal := _staff_only(request)) is not None:
        return refusal
    target = _next(request, user)
    if second_factor.has_confirmed_device(user):
        return redirect(f"{reverse('accounts:otp-verify')}?{urlencode({'next': target})}")
    form = CodeForm(request.POST or None, submit_label=gettext_lazy("Confirm"))
    device = None
    if request.method == "POST":
        device = TOTPDevice.objects.filter(
            pk=request.session.get(second_factor.ENROL_SESSION_KEY) or 0, user=user, confirmed=False
        ).first()
        if device is None:
            messages.warning(request, _("That QR code is no longer valid. Scan the new one below."))
        elif form.is_valid():
            codes = second_factor.confirm_enrolment(request, device, form.cleaned_data["code"])
            if codes is not None:
                request.session.pop(second_factor.ENROL_SESSION_KEY, None)
                return render(request, "accounts/second_factor_recovery.html", {"codes": codes, "next": target})
            form.add_error("code", _("This code is not right. Check the phone's clock and enter the code shown now."))
    if device is None:
        device = second_factor.start_enrolment(user)
        request.session[second_factor.ENROL_SESSION_KEY] = device.pk
    qr = segno.make(device.config_url, error="m")
    return render(request, "accounts/second_factor_enrol.html", {
        "form": form, "next": target, "qr": qr.svg_data_uri(scale=5, border=2),
    })


@login_required
def verify(request: HttpRequest) -> HttpResponse:
    """The code step after the password."""
    user: User = request.user  # type: ignore[assignment]
    if (refusal := _staff_only(request)) is not None:
        return refusal
    target = _next(request, user)
    if not second_factor.has_confirmed_device(user):
        return redirect(f"{reverse('accounts:otp-enrol')}?{urlencode({'next': target})}")
    if user.is_verified():  # type: ignore[attr-defined]
        return redirect(target)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = second_factor.verify_log_in(request, user, form.cleaned_data["code"])
        if device is not None:
            if not isinstance(device, TOTPDevice):
                left = second_factor.recovery_codes_left(user)
                messages.warning(request, ngettext(
                    "You used a recovery code. %(n)d code is left; ask an administrator to reset your second factor soon.",
                    "You used a recovery code. %(n)d codes are left; ask an administrator to reset your second factor soon.",
                    left) % {"n": left})
            return redirect(target)
        form.add_error("code", _("This code is not right. Enter the code your app shows now; after several wrong codes, wait a moment before trying again."))
    return render(request, "accounts/second_factor_verify.html", {"form": form, "next": target})
