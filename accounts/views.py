"""Thin views: parse, call one service, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import services
from .forms import CodeAndPasswordForm, LoginForm, PreferencesForm, ResetStartForm, SignupStartForm
from .models import CodePurpose, InsuredPerson, Notification, User

SIGNUP_KEY = "signup_person"
RESET_KEY = "reset_person"


def _pending_person(request: HttpRequest, key: str) -> InsuredPerson | None:
    person_id = request.session.get(key)
    return InsuredPerson.objects.filter(pk=person_id).first() if person_id else None


def signup(request: HttpRequest) -> HttpResponse:
    form = SignupStartForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            person = services.find_claimable_person(form.cleaned_data["id_number"], form.cleaned_data["name"])
            services.send_one_time_code(person, CodePurpose.SIGNUP)
        except services.AccountError as exc:
            if exc.code != "too_soon":
                form.add_error(None, exc.message)
                return render(request, "accounts/signup.html", {"form": form})
            # A code went out a moment ago (the person came back to this page): use that one.
            messages.info(request, exc.message)
        request.session[SIGNUP_KEY] = person.pk
        return redirect("accounts:signup-verify")
    return render(request, "accounts/signup.html", {"form": form})


def signup_verify(request: HttpRequest) -> HttpResponse:
    person = _pending_person(request, SIGNUP_KEY)
    if person is None:
        messages.info(request, _("Please start by entering your ID number and name."))
        return redirect("accounts:signup")
    form = CodeAndPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.complete_signup(person, form.cleaned_data["code"], form.cleaned_data["password1"])
        except services.AccountError as exc:
            form.add_error("code" if exc.code.endswith("code") else None, exc.message)
        except ValidationError as exc:
            form.add_error("password1", exc)
        else:
            del request.session[SIGNUP_KEY]
            auth_login(request, user, backend="accounts.backends.IdentifierBackend")
            messages.success(request, _("Welcome, %(name)s. Your account is ready.") % {"name": person.name})
            return redirect("portal:dashboard")
    return render(request, "accounts/code_and_password.html", {
        "form": form, "person": person, "title": _("Check your phone"), "resend_url": "accounts:signup-resend",
    })


@require_POST
def signup_resend(request: HttpRequest) -> HttpResponse:
    return _resend(request, SIGNUP_KEY, CodePurpose.SIGNUP, "accounts:signup-verify", "accounts:signup")


@require_POST
def reset_resend(request: HttpRequest) -> HttpResponse:
    return _resend(request, RESET_KEY, CodePurpose.PASSWORD_RESET, "accounts:reset-verify", "accounts:reset")


def _resend(request: HttpRequest, key: str, purpose: str, verify_url: str, start_url: str) -> HttpResponse:
    person = _pending_person(request, key)
    if person is None:
        return redirect(start_url)
    try:
        services.send_one_time_code(person, purpose)
    except services.AccountError as exc:
        messages.warning(request, exc.message)
    else:
        messages.success(request, _("A new code has been sent to %(phone)s.") % {"phone": person.masked_phone})
    return redirect(verify_url)


def password_reset(request: HttpRequest) -> HttpResponse:
    form = ResetStartForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        person = InsuredPerson.objects.by_id_number(form.cleaned_data["id_number"])
        if person is None or not User.objects.filter(person=person).exists():
            form.add_error("id_number", _("There is no portal account for this ID number. You can sign up instead."))
        elif not person.phone:
            form.add_error(None, _("No phone number is registered for this person. Please visit a counter."))
        else:
            try:
                services.send_one_time_code(person, CodePurpose.PASSWORD_RESET)
            except services.AccountError as exc:
                if exc.code != "too_soon":
                    raise
                messages.info(request, exc.message)  # the code sent a moment ago still works
            request.session[RESET_KEY] = person.pk
            return redirect("accounts:reset-verify")
    return render(request, "accounts/password_reset.html", {"form": form})


def password_reset_verify(request: HttpRequest) -> HttpResponse:
    person = _pending_person(request, RESET_KEY)
    if person is None:
        return redirect("accounts:reset")
    form = CodeAndPasswordForm(request.POST or None, submit_label=_("Set my new password"))
    if request.method == "POST" and form.is_valid():
        try:
            services.reset_password(person, form.cleaned_data["code"], form.cleaned_data["password1"])
        except services.AccountError as exc:
            form.add_error("code", exc.message)
        except ValidationError as exc:
            form.add_error("password1", exc)
        else:
            del request.session[RESET_KEY]
            messages.success(request, _("Your password has been changed. Please log in with it."))
            return redirect("accounts:login")
    return render(request, "accounts/code_and_password.html", {
        "form": form, "person": person, "title": _("Choose a new password"), "resend_url": "accounts:reset-resend",
    })


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


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = PreferencesForm(request.POST or None, instance=user)
    if request.method == "POST" and form.is_valid():
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
        from django.conf import settings

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
    if request.user.is_authenticated:
        messages.success(request, _("You are still logged in."))
    target = request.POST.get("next", "")
    return HttpResponseRedirect(target if _is_local_path(request, target) else "/")
