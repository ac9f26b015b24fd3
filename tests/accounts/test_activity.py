"""'Who saw or changed my information' and the authorisation record (授权记录), as citizens see them."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditChannel, AuditEvent, audit
from pooling import changes
from pooling.common import By, audit_binding
from pooling.models import Binding, BindingStatus
from tests.conftest import PASSWORD, login_staff

pytestmark = pytest.mark.django_db

CHROME_ON_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                     "Chrome/126.0.0.0 Safari/537.36")

TEXTS = {
    "en": {"title": "Who saw or changed my information", "staff": "海口市医保服务大厅适老化窗口, staff number counter1",
           "opened": "A counter opened your record", "browser": "Chrome on Windows", "signed_in": "You signed in",
           "record": "My authorisation record", "limits": "Family pooling limits set", "paused": "Family pooling paused",
           "consented": "Family pooling consented", "you": "You"},
    "zh-hans": {"title": "谁查看或更改了我的信息", "staff": "海口市医保服务大厅适老化窗口，工号 counter1",
                "opened": "服务窗口打开了您的记录", "browser": "Windows 上的 Chrome", "signed_in": "您登录了门户",
                "record": "我的授权记录", "limits": "设置了家庭共济限额", "paused": "暂停了家庭共济",
                "consented": "同意了家庭共济", "you": "您本人"},
}


def _client(language: str) -> Client:
    client = Client(HTTP_USER_AGENT=CHROME_ON_WINDOWS)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def _log_in(client: Client, person) -> None:
    response = client.post(reverse("accounts:login"), {"username": person.id_number, "password": PASSWORD})
    assert response.status_code == 302


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_counter_lookup_and_a_sign_in_appear_on_the_citizens_page(language, holder, outsider, counter_assistant):
    counter = Client()
    login_staff(counter, counter_assistant)
    assert counter.get(reverse("counter:person", kwargs={"pk": holder.pk})).status_code == 200  # the counter's own audit
    client = _client(language)
    _log_in(client, holder)
    page = client.get(reverse("accounts:activity")).content.decode()
    texts = TEXTS[language]
    assert texts["title"] in page
    assert texts["opened"] in page and texts["staff"] in page
    assert "帮办" not in page  # staff are shown by office and staff number, never by name
    assert texts["signed_in"] in page and texts["browser"] in page
    # The sign-in is recorded with a browser summary only: never the address or the full User-Agent.
    login = AuditEvent.objects.get(action="account.login", on_behalf_of=holder)
    assert login.after == {"browser": "Chrome", "system": "Windows"}
    assert "127.0.0.1" not in str(login.after) + login.note
    # Someone else's lookups are not shown.
    audit("counter.lookup", channel=AuditChannel.COUNTER, actor=counter_assistant, on_behalf_of=outsider, obj=outsider)
    assert client.get(reverse("accounts:activity")).content.decode().count(texts["opened"]) == 1


def test_the_page_shows_two_years_paginated_and_filters_by_kind(en_client, holder, counter_assistant):
    with time_machine.travel(timezone.now() - datetime.timedelta(days=3 * 365)):
        audit("counter.lookup", channel=AuditChannel.COUNTER, actor=counter_assistant, on_behalf_of=holder, obj=holder,
              note="three years ago")
    for i in range(30):
        audit("counter.lookup", channel=AuditChannel.COUNTER, actor=counter_assistant, on_behalf_of=holder, obj=holder,
              note=f"reason {i}")
    en_client.force_login(holder.user)
    first = en_client.get(reverse("accounts:activity")).content.decode()
    assert "reason 29" in first and "Page 1 of 2" in first
    second = en_client.get(reverse("accounts:activity"), {"page": 2}).content.decode()
    assert "reason 0" in second and "three years ago" not in second
    signins = en_client.get(reverse("accounts:activity"), {"kind": "signin"}).content.decode()
    assert "reason 1" not in signins and "You signed in" in signins


def test_the_csv_download_has_every_row_of_two_years(en_client, holder, counter_assistant):
    audit("counter.lookup", channel=AuditChannel.COUNTER, actor=counter_assistant, on_behalf_of=holder, obj=holder,
          note="helping with a premium")
    en_client.force_login(holder.user)
    response = en_client.get(reverse("accounts:activity"), {"format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0].startswith("Time,Kind,What,Who")
    assert any("A counter opened your record" in line and "staff number counter1" in line
               and "helping with a premium" in line for line in lines)
    assert any("You signed in" in line for line in lines)  # force_login is a sign-in too


def test_a_change_to_a_binding_by_the_holder_shows_on_the_relatives_page_with_masked_numbers(holder, mother):
    binding = Binding.objects.create(holder=holder, beneficiary=mother, relationship="parent",
                                     status=BindingStatus.ACTIVE, activated_at=timezone.now())
    changes.set_limits(binding, By(holder, holder.user), per_payment_fen=10_000, monthly_fen=None, annual_fen=None)
    client = _client("en")
    client.force_login(mother.user)
    page = client.get(reverse("accounts:activity")).content.decode()
    assert "Family pooling limits set" in page
    assert f"张*（{holder.masked_id_number}）" in page
    assert holder.id_number not in page


def _binding_with_history(holder, mother):
    binding = Binding.objects.create(holder=holder, beneficiary=mother, relationship="parent",
                                     status=BindingStatus.PENDING)
    audit_binding("proposed", binding, By(holder, holder.user))
    binding.status = BindingStatus.ACTIVE
    binding.activated_at = binding.consented_at = timezone.now()
    binding.save()
    audit_binding("consented", binding, By(mother, mother.user))
    changes.set_limits(binding, By(holder, holder.user), per_payment_fen=10_000, monthly_fen=50_000, annual_fen=None)
    changes.pause_binding(binding, By(holder, holder.user))
    changes.resume_binding(binding, By(holder, holder.user))
    return binding


def events_in(page: str) -> list[tuple[str, str]]:
    """(event type, label shown) of each row of the record's tables."""
    return re.findall(r'<tr class="event-(\w+)"><td>[^<]*</td><td>([^<]*)</td>', page)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_authorisation_record_for_holder_and_relative(language, holder, mother, outsider):
    _binding_with_history(holder, mother)
    ended = Binding.objects.create(holder=outsider, beneficiary=mother, relationship="child",
                                   status=BindingStatus.ENDED, ended_at=timezone.now())
    audit_binding("proposed", ended, By(outsider, outsider.user))
    texts = TEXTS[language]
    for person, sees in ((holder, 1), (mother, 2)):
        client = _client(language)
        client.force_login(person.user)
        page = client.get(reverse("pooling:record")).content.decode()
        assert texts["record"] in page
        assert page.count('data-testid="binding-record"') == sees
        shown = events_in(page)
        for kind, key in (("consented", "consented"), ("limits_set", "limits"), ("paused", "paused")):
            assert (kind, texts[key]) in shown
        if person == holder:  # every event of the binding, oldest first
            assert [kind for kind, _label in shown] == ["proposed", "consented", "limits_set", "paused", "resumed"]
        assert "100.00" in page and "500.00" in page  # the limits themselves
        assert 'href="/static/css/print.css"' in page and "style=" not in page
    # The relative filters by relative and by event type.
    client = _client(language)
    client.force_login(mother.user)
    only_holder = client.get(reverse("pooling:record"), {"relative": holder.pk}).content.decode()
    assert only_holder.count('data-testid="binding-record"') == 1 and outsider.masked_id_number not in only_holder.split(
        'data-testid="binding-record"')[1]
    paused = client.get(reverse("pooling:record"), {"event": "paused"}).content.decode()
    assert paused.count('data-testid="binding-record"') == 1
    assert events_in(paused) == [("paused", texts["paused"])]
    # A stranger's id in the filter is ignored (no other person's bindings leak).
    client.force_login(holder.user)
    page = client.get(reverse("pooling:record"), {"relative": outsider.pk}).content.decode()
    assert page.count('data-testid="binding-record"') == 1


def test_dashboard_and_settings_link_to_both_pages(en_client, holder):
    en_client.force_login(holder.user)
    for url in (reverse("portal:dashboard"), reverse("accounts:preferences")):
        page = en_client.get(url).content.decode()
        assert reverse("accounts:activity") in page and reverse("pooling:record") in page
        assert reverse("accounts:password-change") in page
