from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

AGE_FRIENDLY_COOKIE = "age_friendly"


def is_age_friendly(request: HttpRequest) -> bool:
    cookie = request.COOKIES.get(AGE_FRIENDLY_COOKIE)
    if cookie is not None:
        return cookie == "1"
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and getattr(user, "age_friendly", False))


# Apps add public navigation links here in AppConfig.ready: (url name, lazy label).
NAV_LINKS: list[tuple[str, Any]] = []


def portal(request: HttpRequest) -> dict[str, Any]:
    from django.urls import reverse

    return {
        "nav_links": [{"url": reverse(name), "label": label} for name, label in NAV_LINKS],
        "age_friendly": is_age_friendly(request),
        "session_seconds": settings.SESSION_COOKIE_AGE,
        "session_warning_seconds": settings.SESSION_WARNING_SECONDS,
    }
