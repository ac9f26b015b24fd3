"""Log-in by ID number, registered phone number, or (for staff) user name."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import connections, router
from django.db.models.query import get_related_populators
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
            pk = User._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        alias = router.db_for_read(User)
        query = _user_queries.get(alias)
        if query is None:
            query = _user_queries[alias] = _UserQuery(alias)
        user = query.get(pk)
        return user if user is not None and self.user_can_authenticate(user) else None


class _UserQuery:
    """``User.objects.select_related("person__region").get(pk=...)``, compiled once per process.

    Every logged-in request reads its user. Building and compiling that query (three tables,
    about eighty columns) took more CPU than everything else a kept page costs
    (portal/pagecache.py; bench/pages.py). The SQL, the column converters and the way rows
    become a user with their person and region are Django's own, taken from the compiler once;
    each request only sends the SQL with its id. tests/payments/test_page_costs.py compares the
    result with the ORM's."""

    def __init__(self, alias: str) -> None:
        queryset = User._default_manager.select_related("person__region").filter(pk=0)
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        if list(params) != [0]:  # (only the id is a parameter, or this way is wrong)
            raise ImproperlyConfigured(f"unexpected parameters of the user query: {params!r}")
        info = compiler.klass_info
        assert info is not None
        self.alias, self.sql, self.compiler = alias, sql, compiler
        self.start, self.end = info["select_fields"][0], info["select_fields"][-1] + 1
        self.init_list = [column[0].target.attname for column in compiler.select[self.start:self.end]]
        self.related = get_related_populators(info, compiler.select, alias)  # type: ignore[call-arg]  # (stubs of a later Django)

    def get(self, pk: Any) -> User | None:
        with connections[self.alias].cursor() as cursor:
            cursor.execute(self.sql, [pk])
            rows = cursor.fetchall()
        for row in self.compiler.results_iter([rows]):
            user = User.from_db(self.alias, self.init_list, row[self.start:self.end])
            for populator in self.related:
                populator.populate(row, user)
            return user
        return None


_user_queries: dict[str, _UserQuery] = {}
