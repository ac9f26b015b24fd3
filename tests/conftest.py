"""Shared fixtures: personas, factories, and guards for real services.

Personas (ID numbers are valid and made with ``make_id``):
- ``holder``: 张伟 (Zhang Wei), employee scheme in 海口 460100, born 1975, with a portal log-in
- ``mother``: 李秀英 (Li Xiuying), his mother, resident scheme in 海口, born 1948, with a log-in
- ``outsider``: 王芳 (Wang Fang), unrelated, employee scheme in 三亚 460200, with a log-in
- ``counter_assistant``: staff at the 海口 elderly-assist counter
- ``bureau_clerk``: bureau staff (Django admin)

Staff confirm every log-in with a second factor before /admin/ and /counter/ open: tests log
them in with ``login_staff(client, user)`` (password and code already given).
"""

from __future__ import annotations

import datetime
import itertools
import os
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.utils import translation

from accounts import channels
from accounts.idnumbers import make_id_number
from accounts.models import InsuredPerson, Office, Region, Role, User

HAIKOU = "460100"
SANYA = "460200"
CHANGSHA = "430100"
PASSWORD = "Correct-Horse-42"

# Debian's chromium drives the browser journeys (never a downloaded browser). Set
# PORTAL_TEST_CHROMIUM to another path to try the suite as on a machine without it.
CHROMIUM = os.environ.get("PORTAL_TEST_CHROMIUM", "/usr/bin/chromium")
BROWSER_MISSING = (
    f"browser journeys skipped: Debian's chromium is not installed at {CHROMIUM}; "
    "install it with `apt-get install chromium poppler-utils` (make test does this when run as root)"
)

_sequence = itertools.count(101)


def make_id(region: str = HAIKOU, birth: datetime.date | str = "1980-01-01", sex: str | None = None) -> str:
    """A valid ID number; odd sequence = male, even = female."""
    if isinstance(birth, str):
        birth = datetime.date.fromisoformat(birth)
    seq = next(_sequence)
    if sex == "M" and seq % 2 == 0:
        seq = next(_sequence)
    if sex == "F" and seq % 2 == 1:
        seq = next(_sequence)
    return make_id_number(region, birth, seq % 1000)


def make_person(
    name: str = "测试",
    *,
    region: str = HAIKOU,
    birth: datetime.date | str = "1980-01-01",
    scheme: str = "employee",
    status: str = "active",
    phone: str | None = None,
    sex: str | None = None,
    id_number: str | None = None,
) -> InsuredPerson:
    number = id_number or make_id(region, birth, sex)
    from accounts.idnumbers import validate_id_number

    facts = validate_id_number(number)
    person = InsuredPerson(
        name=name, scheme=scheme, status=status, region_id=region, birth_date=facts.birth_date, sex=facts.sex
    )
    person.id_number = number
    person.phone = phone if phone is not None else f"139{next(_sequence) % 100000000:08d}"
    person.save()
    return person


def make_citizen(person: InsuredPerson, password: str = PASSWORD, **extra: Any) -> User:
    user = User(username=f"p{person.pk}", role=Role.CITIZEN, person=person, first_name=person.name, **extra)
    user.set_password(password)
    user.save()
    return user


@pytest.fixture(autouse=True)
def _reference_data(request: pytest.FixtureRequest) -> None:
    """Division codes and the national policy, also after a transactional test flushed them."""
    marker = request.node.get_closest_marker("django_db")
    names = request.fixturenames
    if "transactional_db" in names or (marker and marker.kwargs.get("transaction")):
        request.getfixturevalue("transactional_db")
    elif "db" in names or marker:
        request.getfixturevalue("db")
    else:
        return
    from accounts.regions import ensure_reference_data

    ensure_reference_data()
    # The terms and pledge (a data migration) too, once a transactional test flushed them.
    from importlib import import_module

    from django.apps import apps

    from pooling.models import PledgeText

    if not PledgeText.objects.exists():
        import_module("pooling.migrations.0013_pledge_version_one").add_version_one(apps, None)


@pytest.fixture(autouse=True)
def _fresh_policy_cache() -> Any:
    """Policies are cached per process for a few seconds; each test starts with none cached."""
    from accounts.policies import forget_policies

    forget_policies()
    yield
    forget_policies()


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    """Rate-limit counters live in the cache: each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _no_kept_pages() -> Any:
    """Pages kept by portal/pagecache.py live in this process's memory: each test starts with none."""
    from portal.pagecache import store

    store.clear()
    yield
    store.clear()


@pytest.fixture(autouse=True)
def _clean_outbox() -> Any:
    channels.outbox.clear()
    yield
    channels.outbox.clear()


@pytest.fixture
def sent_messages() -> list[channels.SentMessage]:
    """Messages handed to the SMS/e-mail senders during the test."""
    return channels.outbox


@pytest.fixture
def holder(db: Any) -> InsuredPerson:
    person = make_person("张伟", birth="1975-03-12", sex="M", phone="13800000001")
    make_citizen(person)
    return person


@pytest.fixture
def mother(db: Any) -> InsuredPerson:
    person = make_person("李秀英", birth="1948-09-30", sex="F", scheme="resident", phone="13800000002")
    make_citizen(person)
    return person


@pytest.fixture
def outsider(db: Any) -> InsuredPerson:
    person = make_person("王芳", region=SANYA, birth="1990-05-05", sex="F", phone="13800000003")
    make_citizen(person)
    return person


@pytest.fixture
def counter_assistant(db: Any) -> User:
    office = Office.objects.create(name="海口市医保服务大厅适老化窗口", region=Region.objects.get(pk=HAIKOU))
    user = User(username="counter1", role=Role.COUNTER, office=office, first_name="陈", last_name="帮办")
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def bureau_clerk(db: Any) -> User:
    return User.objects.create_superuser("clerk", "clerk@example.com", PASSWORD, role=Role.BUREAU)


def make_bureau_staff(username: str, region: str | None, group: str) -> User:
    """A bureau clerk of a region's bureau (its office), or national staff (region None), in a staff group."""
    from django.contrib.auth.models import Group

    office = None
    if region is not None:
        office = Office.objects.create(name=f"{Region.objects.get(pk=region).name}医疗保障局", region_id=region)
    user = User(username=username, role=Role.BUREAU, office=office, is_staff=True)
    user.set_password(PASSWORD)
    user.save()
    user.groups.add(Group.objects.get(name=group))
    return user


def login_staff(client: Any, user: User) -> Any:
    """Log a staff user in as after the password and the authenticator code.

    Gives the user a confirmed authenticator (if they have none) and marks this session as
    verified with it, as ``accounts:otp-verify`` does after a right code.
    """
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need(condition: bool, what: str) -> None:
    """Skip locally when a real service is missing; in CI, fail instead."""
    if condition:
        return
    if _in_ci():
        pytest.fail(f"{what} is required in CI but is not available")
    pytest.skip(f"{what} not available")


@pytest.fixture
def require_postgres(db: Any) -> None:
    need(connection.vendor == "postgresql", "PostgreSQL (set DATABASE_URL)")


@pytest.fixture
def require_redis() -> str:
    url = os.environ.get("REDIS_URL", "")
    ok = False
    if url:
        try:
            import redis

            redis.Redis.from_url(url, socket_connect_timeout=2).ping()
            ok = True
        except Exception:
            ok = False
    need(ok, "Redis (set REDIS_URL)")
    return url


# -- English for assertions on messages ----------------------------------------------------------
# The default language is Simplified Chinese; tests that read English text ask for it.


@pytest.fixture
def english() -> Any:
    with translation.override("en"):
        yield


@pytest.fixture
def en_client(client: Any) -> Any:
    """A browser that chose English (language cookie), as a citizen would with the switch."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without chromium the browser journeys are skipped with one reason; in CI they fail."""
    if Path(CHROMIUM).exists() or _in_ci():
        return
    skip = pytest.mark.skip(reason=BROWSER_MISSING)
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not Path(CHROMIUM).exists() and not _in_ci():
        terminalreporter.write_line(BROWSER_MISSING)
