"""Rate limits (django-ratelimit on the Django cache: Redis in production, local memory otherwise).

Limits count POSTs, code sending and API calls, never plain page views. Each limit's rate comes
from settings (PORTAL_RATE_* environment variables); an empty rate switches that limit off.
A limited request gets a kind, translated page in the portal's layout (status 429 with
Retry-After), or, for the settlement API, JSON ``{"error": "rate_limited", ...}``.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django_ratelimit.core import get_usage

logger = logging.getLogger(__name__)


def hit(request: HttpRequest, group: str, key: str, rate: str | None = None) -> int | None:
    """Count one request in ``group`` for ``key``. Seconds to wait when over the rate, else None.

    ``key`` is any string (callers pass keyed hashes, never a personal number); ``rate`` is
    like "5/d" and defaults to ``settings.RATE_LIMITS[group]``.
    """
    rate = rate if rate is not None else settings.RATE_LIMITS.get(group, "")
    if not rate:
        return None
    try:
        usage = get_usage(request, group=f"portal.{group}", key=lambda _group, _request: key, rate=rate,
                          increment=True)
    except Exception as exc:  # the cache (Redis) is down: let the request through rather than fail it
        logger.warning("rate limit %s not counted: cache unavailable (%s)", group, type(exc).__name__)
        return None
    if usage and usage["should_limit"]:
        return max(1, int(usage.get("time_left") or 1))
    return None


def client_address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def wait_words(seconds: int) -> str:
    if seconds >= 3600:
        hours = (seconds + 3599) // 3600
        return _("about %(n)s hour(s)") % {"n": hours}
    minutes = max(1, (seconds + 59) // 60)
    return _("about %(n)s minute(s)") % {"n": minutes}


def too_many(request: HttpRequest, retry_after: int, message: Any = None) -> HttpResponse:
    """The portal's page for a limited request: what happened, how long to wait, what else to do."""
    response = render(request, "429.html", {
        "message": message or _("You have tried this many times in a short while."),
        "wait": wait_words(retry_after),
    }, status=429)
    response["Retry-After"] = str(retry_after)
    return response
