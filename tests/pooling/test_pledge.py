"""办理须知 and the personal pledge (个人承诺书): read and confirmed before proposing, seen before consenting."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape

from accounts.models import AuditEvent
from pooling import common, proposals
from pooling.models import Binding, BindingStatus, PledgeText
from tests.conftest import login_staff

pytestmark = pytest.mark.django_db
S = BindingStatus


def propose_data(person):
    return {"id_number": person.id_number, "name": person.name, "relationship": "parent", "confirm": "1"}


def test_version_one_exists_in_both_languages_with_chinese_punctuation():
    zh, en = PledgeText.objects.current("zh-hans"), PledgeText.objects.current("en")
    assert (zh.version, zh.language, en.version, en.language) == (1, "zh-hans", 1, "en")
    assert "本人承诺：" in zh.pledge and "，" in zh.pledge and zh.pledge.endswith("。")
    assert "," not in zh.pledge and ":" not in zh.pledge
    assert len(zh.terms_lines) == len(en.terms_lines) == 5
    assert "I promise" in en.pledge


@pytest.mark.parametrize(("language", "terms", "pledge", "missing"), [
    ("en", "Terms of family pooling", "Personal pledge", "tick the pledge"),
    ("zh-hans", "办理须知", "个人承诺书", "勾选"),
])
def test_the_holder_must_tick_the_pledge_and_its_version_is_kept_and_shown(
    client, holder, mother, language, terms, pledge, missing,
):
    client.cookies["django_language"] = language
    client.force_login(holder.user)
    url = reverse("pooling:propose")
    page = client.post(url, propose_data(mother) | {"confirm": ""}).content.decode()
    assert terms in page and pledge in page and 'id="pledge-tick"' in page
    assert escape(PledgeText.objects.current(language).pledge) in page
    page = client.post(url, propose_data(mother)).content.decode()
    assert 'id="pledge-missing"' in page and missing in page and Binding.objects.count() == 0
    assert client.post(url, propose_data(mother) | {"pledge": "1"}).status_code == 302
    binding = Binding.objects.get()
    assert (binding.status, binding.pledge_version, binding.pledge_language) == (S.PENDING, 1, language)
    assert binding.pledged_at is not None
    assert AuditEvent.objects.filter(action="pooling.pledged", on_behalf_of=holder).exists()
    history = client.get(reverse("pooling:binding", args=[binding.pk])).content.decode()
    assert 'id="history-pledge"' in history
    assert ("version 1" in history) if language == "en" else ("第 1 版" in history)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_relative_sees_the_same_terms_and_the_version_is_kept(client, holder, mother, language):
    binding = proposals.propose_binding(holder, mother, "parent", common.By(holder, holder.user),
                                        pledge=PledgeText.objects.current("zh-hans"))
    client.cookies["django_language"] = language
    client.force_login(mother.user)
    url = reverse("pooling:answer", args=[binding.pk])
    page = client.get(url).content.decode()
    text = PledgeText.objects.current(language)
    assert 'id="pooling-terms"' in page and escape(text.terms_lines[0]) in page
    client.post(url, {"answer": "yes", "pledge_text": text.pk})
    binding.refresh_from_db()
    assert binding.status == S.ACTIVE
    assert (binding.consent_terms_version, binding.consent_terms_language) == (1, language)
    assert 'id="history-terms"' in client.get(reverse("pooling:binding", args=[binding.pk])).content.decode()


def test_bureau_staff_publish_a_new_version_that_applies_from_then_on(client, bureau_clerk, holder, mother):
    login_staff(client, bureau_clerk)
    add = reverse("admin:pooling_pledgetext_add")
    form = client.get(add, {"language": "zh-hans"}).content.decode()
    assert "本人承诺" in form  # starts from the latest text
    response = client.post(add, {"language": "zh-hans", "terms": "第一条。\n第二条。", "pledge": "本人承诺：新版。",
                                 "published": "on"})
    assert response.status_code == 302
    assert PledgeText.objects.current("zh-hans").version == 2
    assert PledgeText.objects.get(language="zh-hans", version=1).pledge != "本人承诺：新版。"  # old rows stay
    assert PledgeText.objects.current("en").version == 1
    binding = proposals.propose_binding(holder, mother, "parent", common.By(holder, holder.user),
                                        pledge=PledgeText.objects.current("zh-hans"))
    assert binding.pledge_version == 2
