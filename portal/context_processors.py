from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

AGE_FRIENDLY_COOKIE = "age_friendly"


def is_age_friendly(request: HttpRequest) -> bool:
    cookie = request.COOKIES.get(AGE_FRIENDLY_COOKIE)
    if cookie is not None:
        return cookie == "1"
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and getattr(user, "age_friendly", False))


def policy_for_request(request: HttpRequest) -> Any:
    """The region policy in force for the visitor: their own region's, else the national default.

    Pages show its figures (days to answer, minutes to undo, the consent age, the maximum) instead
    of numbers written into the text; read only when a page uses ``rules`` (cached per process)."""
    from django.utils import timezone

    from accounts.policies import policy_in_force

    user = getattr(request, "user", None)
    person = getattr(user, "person", None) if user is not None and user.is_authenticated else None
    return policy_in_force(person.region_id if person is not None else None, timezone.localdate())


# Apps add public navigation links here in AppConfig.ready: (url name, lazy label).
NAV_LINKS: list[tuple[str, Any]] = []


def portal(request: HttpRequest) -> dict[str, Any]:
    from django.urls import reverse

    return {
        "rules": SimpleLazyObject(lambda: policy_for_request(request)),
        "nav_links": [{"url": reverse(name), "label": label} for name, label in NAV_LINKS],
        "age_friendly": is_age_friendly(request),
        "session_seconds": settings.SESSION_COOKIE_AGE,
        "session_warning_seconds": settings.SESSION_WARNING_SECONDS,
        "session_minutes": max(1, round(settings.SESSION_COOKIE_AGE / 60)),
    }
