"""Confirm with your password: a fresh proof, kept in the session for a few minutes, before
paying a premium or changing how the portal reaches you (PORTAL_REAUTH_SECONDS, default 5 min)."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

SESSION_KEY = "reauth_at"


def is_fresh(request: HttpRequest) -> bool:
    at = request.session.get(SESSION_KEY)
    return isinstance(at, (int, float)) and 0 <= time.time() - at < settings.REAUTH_SECONDS


def mark_fresh(request: HttpRequest) -> None:
    request.session[SESSION_KEY] = time.time()


def require(request: HttpRequest, back_to: str, message: str | None = None,
            cancel_to: str | None = None) -> HttpResponse | None:
    """None when the password was confirmed recently, else a redirect to the confirmation page.

    ``back_to``: a path of this site (with its query, so that a page comes back with the choices
    made on it) where the confirmation page returns; ``cancel_to``: where its Cancel link goes when
    that is not ``back_to`` (a page that itself asks for the password would ask again);
    ``message``: what to say, if not the default.
    """
    if is_fresh(request):
        return None
    if not is_safe_next(request, back_to):
        back_to = reverse("portal:dashboard")
    messages.info(request, message or _("For your safety, please confirm with your password first, then do it "
                                        "again."))
    query = {"next": back_to, **({"cancel": cancel_to} if cancel_to and is_safe_next(request, cancel_to) else {})}
    return redirect(f"{reverse('accounts:reauth')}?{urlencode(query)}")


def is_safe_next(request: HttpRequest, target: str) -> bool:
    """A place on this site to go back to: same host and scheme, never another site."""
    return bool(target) and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure())
