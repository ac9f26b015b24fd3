"""Thin views: parse, call one service, render."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from portal import ratelimits

from . import activity as activity_rows
from . import reauth, services
from .crypto import lookup_hash
from .forms import (
    CodeAndPasswordForm,
    ConfirmPasswordForm,
    LoginForm,
    PortalPasswordChangeForm,
    PreferencesForm,
    ResetStartForm,
    SignupStartForm,
)
from .models import CodePurpose, InsuredPerson, Notification, User

SIGNUP_KEY = "signup_pending"
RESET_KEY = "reset_pending"


# -- Sign-up and password reset: the same answer whatever the case -----------------------------
#
# Whether the ID number is unknown, the name wrong, the person already has an account or a code
# really went out, the start page answers with the same redirect after the same minimum time,
# and the next page, its resend button and its wrong-code messages behave identically. The
# session remembers the person only when a code really went out.


def _pad(started: float) -> None:
    remaining = settings.ENUMERATION_FLOOR_SECONDS - (time.monotonic() - started)
    if remaining > 0:
        time.sleep(remaining)


def _limited(request: HttpRequest, id_hash: str) -> HttpResponse | None:
    """The code limits: per client address, and per ID number typed (known or not) per day."""
    wait = ratelimits.hit(request, "code_per_ip", ratelimits.client_address(request))
    if wait is not None:
        return ratelimits.too_many(request, wait, _("Many codes have been asked for from this connection."))
    wait = ratelimits.hit(request, "code_per_id", id_hash)
    if wait is not None:
        return ratelimits.too_many(request, wait, _(
            "Codes for this ID number have been asked for too many times today. Please try again later, "
            "or visit an elderly-assist counter with your ID card."))
    return None


def _start_pending(request: HttpRequest, key: str, id_hash: str, person: InsuredPerson | None) -> None:
    request.session[key] = {"person": person.pk if person else 0, "id": id_hash, "sent": time.time(), "tries": 0}


def _pending(request: HttpRequest, key: str) -> dict[str, Any] | None:
    pending = request.session.get(key)
    return pending if isinstance(pending, dict) else None


def _pending_person(pending: dict[str, Any]) -> InsuredPerson | None:
    return InsuredPerson.objects.filter(pk=pending.get("person") or 0).first()


def _not_this_code(request: HttpRequest, key: str, pending: dict[str, Any]) -> services.AccountError:
    """What a wrong code gets when no code went out: the same messages as for a real code."""
    pending["tries"] = int(pending.get("tries", 0)) + 1
    request.session[key] = pending
    if pending["tries"] > settings.OTP_MAX_ATTEMPTS:
        return services.AccountError("too_many_attempts", _("Too many wrong codes. Please ask for a new one."))
    return services.AccountError(
        "wrong_code", _("That code is not correct. Please check the text message and try again.")
    )


def signup(request: HttpRequest) -> HttpResponse:
    form = SignupStartForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        started = time.monotonic()
        id_hash = lookup_hash(form.cleaned_data["id_number"])
        limited = _limited(request, id_hash)
        if limited is not None:
            return limited
        person = services.request_signup_code(form.cleaned_data["id_number"], form.cleaned_data["name"])
        _start_pending(request, SIGNUP_KEY, id_hash, person)
        _pad(started)
        return redirect("accounts:signup-verify")
    return render(request, "accounts/signup.html", {"form": form})


def _verify(request: HttpRequest, key: str, start_url: str, submit_label: Any, title: Any, resend_url: str,
            complete: Any, on_done: Any) -> HttpResponse:
    pending = _pending(request, key)
    if pending is None:
        messages.info(request, _("Please start by entering your ID number."))
        return redirect(start_url)
    person = _pending_person(pending)
    form = CodeAndPasswordForm(request.POST or None, submit_label=submit_label)
    if request.method == "POST" and form.is_valid():
        try:
            if person is None:
                raise _not_this_code(request, key, pending)
            result = complete(person, form.cleaned_data["code"], form.cleaned_data["password1"])
        except services.AccountError as exc:
            message = exc.message
            if exc.code in ("no_code", "daily_limit"):  # as if a code had gone out
                message = _not_this_code(request, key, pending).message
            form.add_error("code" if exc.code.endswith("code") or exc.code.endswith("attempts") else None, message)
        except ValidationError as exc:
            form.add_error("password1", exc)
        else:
            del request.session[key]
            return on_done(result)
    return render(request, "accounts/code_and_password.html", {
        "form": form, "title": title, "resend_url": resend_url,
    })


def signup_verify(request: HttpRequest) -> HttpResponse:
    def done(user: User) -> HttpResponse:
        auth_login(request, user, backend="accounts.backends.IdentifierBackend")
        messages.success(request, _("Welcome, %(name)s. Your account is ready.") % {
            "name": user.person.name if user.person is not None else user.get_username()})
        return redirect("portal:dashboard")

    return _verify(request, SIGNUP_KEY, "accounts:signup", None, _("Check your phone"), "accounts:signup-resend",
                   services.complete_signup, done)


@require_POST
def signup_resend(request: HttpRequest) -> HttpResponse:
    return _resend(request, SIGNUP_KEY, CodePurpose.SIGNUP, "accounts:signup-verify", "accounts:signup")


@require_POST
def reset_resend(request: HttpRequest) -> HttpResponse:
    return _resend(request, RESET_KEY, CodePurpose.PASSWORD_RESET, "accounts:reset-verify", "accounts:reset")


def _resend(request: HttpRequest, key: str, purpose: str, verify_url: str, start_url: str) -> HttpResponse:
    pending = _pending(request, key)
    if pending is None:
        return redirect(start_url)
    started = time.monotonic()
    if time.time() - float(pending.get("sent", 0)) < settings.OTP_RESEND_SECONDS:
        messages.warning(request, _("A code was sent less than a minute ago. Please wait a moment before asking for another."))
        return redirect(verify_url)
    limited = _limited(request, str(pending.get("id", "")))
    if limited is not None:
        return limited
    person = _pending_person(pending)
    if person is not None:
        try:
            services.send_one_time_code(person, purpose)
        except services.AccountError:
            pass  # today's limit: answered as if sent
    pending.update(sent=time.time(), tries=0)
    request.session[key] = pending
    _pad(started)
    messages.success(request, _("If these details match our records, a new code has been sent to the phone number "
                                "registered with your insurance."))
    return redirect(verify_url)


def password_reset(request: HttpRequest) -> HttpResponse:
    form = ResetStartForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        started = time.monotonic()
        id_hash = lookup_hash(form.cleaned_data["id_number"])
        limited = _limited(request, id_hash)
        if limited is not None:
            return limited
        person = services.request_password_reset(form.cleaned_data["id_number"])
        _start_pending(request, RESET_KEY, id_hash, person)
        _pad(started)
        return redirect("accounts:reset-verify")
    return render(request, "accounts/password_reset.html", {"form": form})


def password_reset_verify(request: HttpRequest) -> HttpResponse:
    def done(_user: User) -> HttpResponse:
        messages.success(request, _("Your password has been changed. Please log in with it."))
        return redirect("accounts:login")

    return _verify(request, RESET_KEY, "accounts:reset", _("Set my new password"), _("Choose a new password"),
                   "accounts:reset-resend", services.reset_password, done)


class LogoutView(auth_views.LogoutView):
    """Log out (POST only) and say so, so that nobody wonders whether it worked."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        messages.info(request, _("You have logged out."))
        return response


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        wait = ratelimits.hit(request, "login_per_ip", ratelimits.client_address(request))
        if wait is not None:
            return ratelimits.too_many(request, wait, _("Many log-ins have been tried from this connection."))
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        reauth.mark_fresh(self.request)  # the password was just typed
        return response

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if self.request.GET.get("expired") == "1":
            from django.conf import settings

            minutes = max(1, round(settings.SESSION_COOKIE_AGE / 60))
            context["expired_message"] = ngettext(
                "You were logged out after %(minutes)d minute without activity, to keep your account safe. "
                "Log in to continue: you will come back to the page you were on.",
                "You were logged out after %(minutes)d minutes without activity, to keep your account safe. "
                "Log in to continue: you will come back to the page you were on.",
                minutes,
            ) % {"minutes": minutes}
        return context


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    channels_before = (user.notify_sms, user.notify_email, user.email)  # (validating fills the instance)
    form = PreferencesForm(request.POST or None, instance=user)
    if request.method == "POST" and form.is_valid():
        channels_after = (form.cleaned_data["notify_sms"], form.cleaned_data["notify_email"], form.cleaned_data["email"])
        if channels_after != channels_before:
            confirm = reauth.require(request, reverse("accounts:preferences"))
            if confirm is not None:
                return confirm
        services.update_preferences(
            user,
            language=form.cleaned_data["language"],
            notify_sms=form.cleaned_data["notify_sms"],
            notify_email=form.cleaned_data["notify_email"],
            email=form.cleaned_data["email"],
        )
        # The confirmation is in the language just chosen (the page after the redirect is in it).
        with translation.override(user.language or translation.get_language()):
            messages.success(request, _("Your preferences have been saved."))
        response = redirect("accounts:preferences")
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, user.language, max_age=365 * 24 * 3600,
                            samesite="Lax", secure=settings.LANGUAGE_COOKIE_SECURE, httponly=True)
        return response
    return render(request, "accounts/preferences.html", {"form": form})


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if user.person_id is None:
        return redirect("portal:dashboard")
    notifications = Notification.objects.filter(person_id=user.person_id).exclude(kind="one_time_code")
    page = Paginator(notifications, 20).get_page(request.GET.get("page"))
    return render(request, "accounts/inbox.html", {"page": page})


@login_required
@require_POST
def inbox_read(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    notification = get_object_or_404(Notification, pk=pk, person_id=user.person_id)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    target = notification.link
    if target and _is_local_path(request, target):
        return HttpResponseRedirect(target)
    return redirect("accounts:inbox")


@login_required
@require_POST
def inbox_read_all(request: HttpRequest) -> HttpResponse:
    """Mark every message of the person as read (a plain form, no script needed)."""
    user: User = request.user  # type: ignore[assignment]
    if user.person_id is not None:
        Notification.objects.filter(person_id=user.person_id, read_at__isnull=True).update(read_at=timezone.now())
        messages.success(request, _("All messages are marked as read."))
    return redirect("accounts:inbox")


def _is_local_path(request: HttpRequest, target: str) -> bool:
    """A path on this site ("/..."), never another host, a scheme, or a view name to reverse."""
    return (
        target.startswith("/")
        and not target.startswith(("//", "/\\"))
        and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    )


@require_POST
def extend_session(request: HttpRequest) -> HttpResponse:
    """Any request renews the session (SESSION_SAVE_EVERY_REQUEST); this one just says so."""
    request.session.modified = True
    if "application/json" in request.headers.get("Accept", ""):
        # The page's script asks without reloading, so nothing typed on the page is lost.
        from django.conf import settings
        from django.http import JsonResponse

        if not request.user.is_authenticated:
            return JsonResponse({"ok": False}, status=401)
        return JsonResponse({"ok": True, "seconds": settings.SESSION_COOKIE_AGE})
    if request.user.is_authenticated:
        messages.success(request, _("You are still logged in."))
    target = request.POST.get("next", "")
    return HttpResponseRedirect(target if _is_local_path(request, target) else "/")


@login_required
def activity(request: HttpRequest) -> HttpResponse:
    """Who saw or changed my information (two years): staff look-ups, changes, sign-ins; CSV."""
    user: User = request.user  # type: ignore[assignment]
    person = user.person if user.person_id else None
    if person is None:
        return redirect("portal:dashboard")
    kind = request.GET.get("kind", "")
    kind = kind if kind in activity_rows.KINDS else ""
    events = activity_rows.events_for(person, kind)
    if request.GET.get("format") == "csv":
        lines = activity_rows.rows_of(events.iterator(), person)
        response = HttpResponse(activity_rows.to_csv(lines), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="activity-{timezone.localdate():%Y%m%d}.csv"'
        return response
    page = Paginator(events, 25).get_page(request.GET.get("page"))
    rows = activity_rows.rows_of(page.object_list, person)
    return render(request, "accounts/activity.html", {
        "page": page, "rows": rows, "kind": kind, "kinds": list(activity_rows.KINDS.items()),
        "query": f"kind={kind}" if kind else "", "years": activity_rows.HISTORY_DAYS // 365,
    })


class PasswordChangeView(auth_views.PasswordChangeView):
    """A logged-in citizen changes their password (the current one first), in the portal's layout."""

    form_class = PortalPasswordChangeForm
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:preferences")

    def form_valid(self, form: PortalPasswordChangeForm) -> HttpResponse:  # type: ignore[override]
        user = services.change_password(form.user, form.cleaned_data["new_password1"])
        update_session_auth_hash(self.request, user)
        reauth.mark_fresh(self.request)
        messages.success(self.request, _("Your password has been changed."))
        return redirect(self.get_success_url())


@login_required
def confirm_password(request: HttpRequest) -> HttpResponse:
    """Confirm with your password (valid a few minutes), then go back to what you were doing."""
    user: User = request.user  # type: ignore[assignment]
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not reauth.is_safe_next(request, target):
        target = reverse("portal:dashboard")
    cancel = request.GET.get("cancel", "")
    cancel = cancel if reauth.is_safe_next(request, cancel) else target
    form = ConfirmPasswordForm(user, request.POST or None, initial={"next": target})
    if request.method == "POST":
        wait = ratelimits.hit(request, "reauth_per_user", f"user:{user.pk}")
        if wait is not None:
            return ratelimits.too_many(request, wait, _("The password was tried too many times."))
        if form.is_valid():
            reauth.mark_fresh(request)
            return redirect(target)
    return render(request, "accounts/confirm_password.html", {
        "form": form, "next": target, "cancel": cancel, "minutes": settings.REAUTH_SECONDS // 60,
    })
