"""Pages that belong to no single app: home, dashboard, display mode, language."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from accounts.models import User

from .context_processors import AGE_FRIENDLY_COOKIE
from .dashboard import dashboard_context
from .pagecache import cached_page


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html")


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if user.role == "counter":
        return redirect("counter:home")
    if user.role == "bureau" or (user.is_staff and user.person_id is None):
        return redirect("admin:index")
    if user.person_id is None:
        return render(request, "portal/no_person.html")
    return _dashboard_page(request, user)


@cached_page("dashboard")
def _dashboard_page(request: HttpRequest, user: User) -> HttpResponse:
    return render(request, "portal/dashboard.html", dashboard_context(user))


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.META.get("HTTP_REFERER") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        target = "/"
    return target


@require_POST
def display_mode(request: HttpRequest) -> HttpResponse:
    """Switch the age-friendly mode on or off; remembered in a cookie and on the account."""
    on = request.POST.get("age_friendly") == "1"
    response = HttpResponseRedirect(_safe_next(request))
    response.set_cookie(
        AGE_FRIENDLY_COOKIE, "1" if on else "0", max_age=365 * 24 * 3600, samesite="Lax",
        secure=settings.HTTPS, httponly=True,
    )
    if request.user.is_authenticated:
        User.objects.filter(pk=request.user.pk).update(age_friendly=on)
    return response


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's set_language, also remembered on the account for messages."""
    response = django_set_language(request)
    language = request.POST.get("language")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        User.objects.filter(pk=request.user.pk).update(language=language)
    return response


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "403_csrf.html", status=403)
