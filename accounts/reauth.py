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
from django.utils.translation import gettext as _

SESSION_KEY = "reauth_at"


def is_fresh(request: HttpRequest) -> bool:
    at = request.session.get(SESSION_KEY)
    return isinstance(at, (int, float)) and 0 <= time.time() - at < settings.REAUTH_SECONDS


def mark_fresh(request: HttpRequest) -> None:
    request.session[SESSION_KEY] = time.time()


def require(request: HttpRequest, back_to: str) -> HttpResponse | None:
    """None when the password was confirmed recently, else a redirect to the confirmation page."""
    if is_fresh(request):
        return None
    messages.info(request, _("For your safety, please confirm with your password first, then do it again."))
    return redirect(f"{reverse('accounts:reauth')}?{urlencode({'next': back_to})}")
