"""Log-in by ID number, registered phone number, or (for staff) user name."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from .crypto import lookup_hash
from .idnumbers import normalize_id_number
from .models import InsuredPerson, User, normalize_phone


def find_user(identifier: str) -> User | None:
    identifier = (identifier or "").strip()
    if not identifier:
        return None
    as_id = normalize_id_number(identifier)
    if len(as_id) == 18 and as_id[:17].isdigit():
        person = InsuredPerson.objects.by_id_number(as_id)
        return User.objects.filter(person=person).first() if person else None
    phone = normalize_phone(identifier)
    if phone.isdigit() and len(phone) == 11:
        users = list(User.objects.filter(person__in=InsuredPerson.objects.by_phone(phone))[:2])
        # Several relatives may share one phone; then only the ID number is unambiguous.
        return users[0] if len(users) == 1 else None
    return User.objects.filter(username=identifier).exclude(role="citizen").first()


def users_sharing_phone(identifier: str) -> int:
    """How many log-ins an identifier matches if it is a phone number (0 when it is not one)."""
    phone = normalize_phone(identifier or "")
    if not (phone.isdigit() and len(phone) == 11):
        return 0
    return User.objects.filter(person__in=InsuredPerson.objects.by_phone(phone)).count()


def lockout_username(request: HttpRequest | None, credentials: dict[str, Any] | None = None) -> str:
    """The name django-axes counts failures under (AXES_USERNAME_CALLABLE).

    One person can type their identifier many ways (ID number with x or X, with spaces, phone
    with +86): all of them must count against the same account, or the lockout is easy to dodge.
    """
    raw = (credentials or {}).get("username")
    if raw is None and request is not None:
        raw = getattr(request, "POST", {}).get("username")
    raw = (raw or "").strip()
    user = find_user(raw)
    if user is not None:
        return user.username
    # Not a log-in: still count failures, but keep personal numbers out of axes' tables
    # (bureau staff read them in admin) by storing only a keyed hash.
    as_id = normalize_id_number(raw)
    if len(as_id) == 18 and as_id[:17].isdigit():
        return "id:" + lookup_hash(as_id)[:24]
    phone = normalize_phone(raw)
    if phone.isdigit() and len(phone) == 11:
        return "phone:" + lookup_hash(phone)[:24]
    return raw[:150]


class IdentifierBackend(ModelBackend):
    def authenticate(  # type: ignore[override]
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        if username is None or password is None:
            return None
        user = find_user(username)
        if user is None:
            User().set_password(password)  # same work as a real check, so timing tells nothing
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def get_user(self, user_id: Any) -> User | None:
        """The logged-in user of a request, with their registry record and its region in the same query
        (nearly every citizen page shows or checks them; three queries on every request otherwise)."""
        try:
            user = User._default_manager.select_related("person__region").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
