"""A second factor for every staff log-in: TOTP through django-otp, recovery codes as a static device.

Bureau staff and counter assistants confirm their log-in with a 6-digit code from an
authenticator app before /admin/ or /counter/ open. A staff user without a confirmed device is
sent to enrolment (QR code shown once, then ten recovery codes shown once); one with a device is
sent to the code step. Citizens' log-ins are unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import AuditChannel, Role, User, audit

PROTECTED_PREFIXES = ("/admin/", "/counter/")
# Pages under the protected prefixes that an unverified user must still reach.
EXEMPT_PATHS = ("/admin/login/", "/admin/logout/")
RECOVERY_CODE_COUNT = 10
ENROL_SESSION_KEY = "otp_enrol_device"


def is_staff_user(user: Any) -> bool:
    """Bureau staff and counter assistants: everyone who works in /admin/ or /counter/."""
    return bool(
        getattr(user, "is_authenticated", False)
        and (user.is_staff or getattr(user, "role", Role.CITIZEN) in (Role.COUNTER, Role.BUREAU))
    )


def has_confirmed_device(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def default_next(user: User) -> str:
    return reverse("counter:home") if getattr(user, "role", "") == Role.COUNTER and not user.is_staff else reverse("admin:index")


class StaffSecondFactorMiddleware:
    """Sends a staff user who has not confirmed this log-in with a code to enrol or verify.

    Runs after django-otp's OTPMiddleware, which gives ``request.user.is_verified()``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path.startswith(PROTECTED_PREFIXES) and not path.startswith(EXEMPT_PATHS):
            user = request.user
            if is_staff_user(user) and not user.is_verified():  # type: ignore[union-attr]
                step = "accounts:otp-verify" if has_confirmed_device(user) else "accounts:otp-enrol"  # type: ignore[arg-type]
                return redirect(f"{reverse(step)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)


# -- services -------------------------------------------------------------------------------------


def start_enrolment(user: User) -> TOTPDevice:
    """A fresh, unconfirmed authenticator for the user; earlier unconfirmed ones are dropped.

    The secret leaves the server only in the QR code of the page that calls this: a new visit
    makes a new secret, so a QR code seen once cannot be used later.
    """
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)


def confirm_enrolment(request: HttpRequest, device: TOTPDevice, token: str) -> list[str] | None:
    """Confirm the authenticator with its first code; returns the new recovery codes, or None.

    On success this log-in counts as verified, earlier devices of the user are replaced, and
    ten single-use recovery codes are made (shown once by the caller).
    """
    if not device.verify_token(token):
        return None
    user = device.user
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _new_recovery_codes(user)
        audit("staff.second_factor_enrolled", channel=_channel(user), actor=user)
    otp_login(request, device)
    return codes


def _new_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    static = StaticDevice.objects.create(user=user, name="recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=static, token=code) for code in codes])
    return codes


def verify_log_in(request: HttpRequest, user: User, token: str) -> Any:
    """Check a code from the authenticator (or a recovery code) and mark this log-in verified.

    Returns the device that matched, or None. django-otp slows down repeated wrong codes.
    """
    token = "".join((token or "").split())
    device: Any = None
    if token:
        # Each device checks its own codes and slows down its own wrong guesses.
        candidates = [*TOTPDevice.objects.filter(user=user, confirmed=True),
                      *StaticDevice.objects.filter(user=user, confirmed=True)]
        device = next((d for d in candidates if d.verify_token(token)), None)
    if device is None:
        audit("staff.second_factor_failed", channel=_channel(user), actor=user)
        return None
    otp_login(request, device)
    audit("staff.second_factor_verified", channel=_channel(user), actor=user,
          note="recovery code" if isinstance(device, StaticDevice) else "authenticator")
    return device


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user).count()


def reset_second_factor(user: User, actor: Any) -> None:
    """Remove a staff user's devices (lost phone): their next log-in enrols again."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        audit("staff.second_factor_reset", channel=AuditChannel.ADMIN, actor=actor, obj=user)


def _channel(user: User) -> str:
    return AuditChannel.COUNTER if getattr(user, "role", "") == Role.COUNTER else AuditChannel.ADMIN
