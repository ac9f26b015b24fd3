"""Sign-up and password reset tell nobody whether an ID number has a record or an account;
codes, log-ins, the public checker and the settlement API are rate-limited with a kind answer."""

from __future__ import annotations

import datetime
import re
import time

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.idnumbers import make_id_number
from accounts.models import OneTimeCode
from accounts.services import AccountError, send_one_time_code
from tests.conftest import make_person

pytestmark = pytest.mark.django_db

TEXTS = {
    "en": {
        "sent": "If these details match our records, a 6-digit code has been sent to the phone number registered "
                "with your insurance.",
        "wait": "Please wait a little",
        "today": "Codes for this ID number have been asked for too many times today.",
    },
    "zh-hans": {
        "sent": "如果您填写的信息与我们的记录一致，6 位验证码已发送到您参保登记的手机号码。",
        "wait": "请稍候再试",
        "today": "这个身份证号码今天申请验证码的次数太多了。",
    },
}


def _client(language: str) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def _without_tokens(page: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)


@pytest.fixture
def newcomer():
    return make_person("黄志强", birth="1960-08-18", sex="M", phone="13900000011")


def _start(client, capture, url, data):
    """Post, timing the answer only (texts are handed to the worker after the commit, not awaited)."""
    with capture(execute=True):
        started = time.monotonic()
        response = client.post(reverse(url), data)
        took = time.monotonic() - started
    return response, took


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_sign_up_answers_the_same_for_an_unknown_id_a_wrong_name_and_an_existing_account(
    language, newcomer, holder, mother, sent_messages, django_capture_on_commit_callbacks, settings
):
    settings.ENUMERATION_FLOOR_SECONDS = 0.4
    # Warm up every path once (first requests compile templates and load modules) with other people.
    other = make_person("黄志勇", birth="1961-08-18", sex="M", phone="13900000012")
    for data in ({"id_number": make_id_number("460100", datetime.date(1971, 1, 1), 996), "name": "路人"},
                 {"id_number": other.id_number, "name": "黄志"},
                 {"id_number": mother.id_number, "name": mother.name},
                 {"id_number": other.id_number, "name": other.name}):
        _start(_client(language), django_capture_on_commit_callbacks, "accounts:signup", data)
    OneTimeCode.objects.all().delete()
    sent_messages.clear()
    unknown = make_id_number("460100", datetime.date(1970, 1, 1), 999)
    cases = {
        "unknown id": {"id_number": unknown, "name": "路人"},
        "wrong name": {"id_number": newcomer.id_number, "name": "黄志刚"},
        "existing account": {"id_number": holder.id_number, "name": holder.name},
        "real sign-up": {"id_number": newcomer.id_number, "name": newcomer.name},
    }
    answers, pages, durations, texts = {}, {}, {}, {}
    for case, data in cases.items():
        client = _client(language)
        before = len(sent_messages)
        response, durations[case] = _start(client, django_capture_on_commit_callbacks, "accounts:signup", data)
        answers[case] = (response.status_code, response["Location"])
        pages[case] = _without_tokens(client.get(response["Location"]).content.decode())
        texts[case] = sent_messages[before:]
    assert len(set(answers.values())) == 1
    assert answers["unknown id"] == (302, reverse("accounts:signup-verify"))
    assert len(set(pages.values())) == 1, "the next step page differs between cases"
    assert TEXTS[language]["sent"] in pages["unknown id"]
    # About the same time: every answer waits for the same floor.
    assert min(durations.values()) >= 0.4
    assert max(durations.values()) - min(durations.values()) < 0.25, durations
    # What really went out: nothing, nothing, a notice (no code), a code.
    assert texts["unknown id"] == [] and texts["wrong name"] == []
    assert [m.address for m in texts["existing account"]] == [holder.phone]
    assert not re.search(r"\b\d{6}\b", texts["existing account"][0].body)
    assert [m.address for m in texts["real sign-up"]] == [newcomer.phone]
    assert re.search(r"\b\d{6}\b", texts["real sign-up"][0].body)
    assert list(OneTimeCode.objects.values_list("person_id", flat=True)) == [newcomer.pk]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_password_reset_answers_the_same_whether_or_not_there_is_an_account(
    language, newcomer, holder, sent_messages, django_capture_on_commit_callbacks
):
    unknown = make_id_number("460100", datetime.date(1970, 1, 1), 998)
    cases = {"unknown id": unknown, "no account": newcomer.id_number, "account": holder.id_number}
    answers, pages, texts = {}, {}, {}
    for case, number in cases.items():
        client = _client(language)
        before = len(sent_messages)
        response, _ = _start(client, django_capture_on_commit_callbacks, "accounts:reset", {"id_number": number})
        answers[case] = (response.status_code, response["Location"])
        page = client.get(response["Location"]).content.decode()
        pages[case] = _without_tokens(page)
        texts[case] = sent_messages[before:]
        # A wrong code gets the same words in every case.
        wrong = client.post(reverse("accounts:reset-verify"),
                            {"code": "000000", "password1": "Quiet-River-2026", "password2": "Quiet-River-2026"})
        pages[case + " wrong"] = wrong.status_code
    assert len(set(answers.values())) == 1 and answers["account"] == (302, reverse("accounts:reset-verify"))
    assert pages["unknown id"] == pages["no account"] == pages["account"]
    assert TEXTS[language]["sent"] in pages["account"]
    assert texts["unknown id"] == [] and texts["no account"] == []
    assert [m.address for m in texts["account"]] == [holder.phone]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_at_most_five_codes_a_day_for_one_id_number_then_a_kind_429(
    language, newcomer, sent_messages, django_capture_on_commit_callbacks
):
    assert settings.OTP_PER_DAY == 5
    now = timezone.now()
    client = _client(language)
    data = {"id_number": newcomer.id_number, "name": newcomer.name}
    for i in range(5):
        with time_machine.travel(now + datetime.timedelta(seconds=61 * i)):
            response, _ = _start(client, django_capture_on_commit_callbacks, "accounts:signup", data)
            assert response.status_code == 302
    assert len(sent_messages) == 5
    with time_machine.travel(now + datetime.timedelta(seconds=61 * 5)):
        response, _ = _start(client, django_capture_on_commit_callbacks, "accounts:signup", data)
        assert response.status_code == 429
        assert int(response["Retry-After"]) > 0
        page = response.content.decode()
        assert TEXTS[language]["wait"] in page and TEXTS[language]["today"] in page
        assert 'id="main"' in page or "<nav" in page  # the portal's layout, not a bare error
    assert len(sent_messages) == 5
    # An unknown ID number is limited the same way, so the limit tells nothing either.
    unknown = {"id_number": make_id_number("460100", datetime.date(1970, 1, 1), 997), "name": "路人"}
    statuses = [_start(client, django_capture_on_commit_callbacks, "accounts:signup", unknown)[0].status_code
                for _ in range(6)]
    assert statuses == [302] * 5 + [429]


def test_one_phone_gets_at_most_five_texts_a_day_whoever_asks(newcomer, sent_messages, django_capture_on_commit_callbacks):
    wife = make_person("黄丽", birth="1962-02-02", sex="F", phone=newcomer.phone)
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(5):
            with time_machine.travel(now + datetime.timedelta(seconds=61 * i)):
                send_one_time_code(newcomer if i % 2 else wife, "signup")
    with time_machine.travel(now + datetime.timedelta(seconds=400)), pytest.raises(AccountError) as refused:
        send_one_time_code(wife, "signup")
    assert refused.value.code == "daily_limit"
    assert len(sent_messages) == 5
    with time_machine.travel(now + datetime.timedelta(days=1, seconds=400)):
        send_one_time_code(wife, "signup")  # a new day


def test_log_in_attempts_from_one_address_are_limited(holder, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_per_ip": "3/h"}
    client = _client("en")
    statuses = [client.post(reverse("accounts:login"), {"username": f"x{i}", "password": "x"}).status_code
                for i in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert client.get(reverse("accounts:login")).status_code == 200  # viewing the page is never limited


def test_the_public_checker_is_limited_per_address_but_not_its_empty_page(db, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "checker_per_ip": "2/h"}
    client = _client("en")
    question = {"relationship": "parent", "my_scheme": "employee", "my_region": "460100", "relative_insured": "yes"}
    statuses = [client.get(reverse("pooling:checker"), question).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert client.get(reverse("pooling:checker")).status_code == 200


def test_the_settlement_api_answers_429_rate_limited_with_retry_after(db, settings):
    from django.db import transaction

    from payments.institutions import create_institution

    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "api_per_institution": "2/h"}
    with transaction.atomic():
        _institution, key = create_institution("H009", "测试医院", "hospital", "460100")
        _other, other_key = create_institution("H010", "另一家医院", "hospital", "460100")
    client = Client()
    headers = {"Authorization": f"Bearer {key}"}
    statuses = [client.get("/api/v1/settlements/999999", headers=headers).status_code for _ in range(3)]
    assert statuses == [404, 404, 429]
    response = client.get("/api/v1/settlements/999999", headers=headers)
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    body = response.json()
    assert body["error"] == "rate_limited" and body["message"]
    # Another institution is not affected.
    assert client.get("/api/v1/settlements/999999", headers={"Authorization": f"Bearer {other_key}"}).status_code == 404


def test_with_the_cache_down_requests_go_through_rather_than_fail(holder, monkeypatch):
    from django.core.cache import cache

    def broken(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(cache, "add", broken)
    monkeypatch.setattr(cache, "incr", broken)
    response = _client("en").post(reverse("accounts:login"), {"username": holder.id_number, "password": "Correct-Horse-42"})
    assert response.status_code == 302
