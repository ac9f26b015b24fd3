"""Issue 14 item 5: pages and messages that fit the person (views, both languages)."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse

from accounts.models import InsuredPerson, Notification, RegionPolicy
from pooling import changes, proposals
from pooling.common import By
from tests.conftest import HAIKOU, make_person

from .conftest import credit, make_binding

pytestmark = pytest.mark.django_db


def login(client, person, language="en"):
    client.cookies["django_language"] = language
    client.force_login(person.user)
    return client


# -- the inbox ------------------------------------------------------------------------------------


def test_the_header_counts_unread_messages_and_mark_all_read_clears_them(client, holder, mother):
    binding = make_binding(holder, mother)
    changes.pause_binding(binding, By(holder, holder.user))
    changes.resume_binding(binding, By(holder, holder.user))
    html = login(client, mother).get(reverse("portal:dashboard")).content.decode()
    assert "2 unread" in html
    zh = login(client, mother, "zh-hans").get(reverse("accounts:inbox")).content.decode()
    assert "2 条未读" in zh and "您有 2 条未读消息。" in zh and "全部标为已读" in zh
    response = client.post(reverse("accounts:inbox-read-all"), follow=True)
    assert "全部消息已标为已读。" in response.content.decode()
    assert "未读" not in response.content.decode().split("<main", 1)[-1].split("</main>")[0]
    assert not Notification.objects.filter(person=mother, read_at__isnull=True).exists()
    assert client.get(reverse("accounts:inbox-read-all")).status_code == 405  # POST only


def test_inbox_messages_show_a_plain_link_not_the_signed_address(client, holder, mother):
    proposals.propose_binding(holder, mother, "parent", By(holder, holder.user))
    html = login(client, mother).get(reverse("accounts:inbox")).content.decode()
    request = Notification.objects.get(person=mother, kind="pooling.request").body
    url = re.search(r"https?://\S+?(?=[ ,，。])", request).group(0)
    assert url not in html.replace("&amp;", "&").split('href="')[0]  # never as text
    assert ">open this link</a>" in html
    zh = login(client, mother, "zh-hans").get(reverse("accounts:inbox")).content.decode()
    assert ">打开此链接</a>" in zh


# -- messages that fit the person ----------------------------------------------------------------


def test_a_relative_without_a_log_in_is_not_told_to_log_in(holder):
    father = make_person("张建国", birth="1946-01-02", sex="M", scheme="resident")
    proposals.propose_binding(holder, father, "parent", By(holder, holder.user))
    body = Notification.objects.get(person=father, kind="pooling.request").body
    assert "登录" not in body
    assert "12393" in body and "医保服务窗口" in body


def test_a_relative_with_a_log_in_may_log_in(holder, mother):
    proposals.propose_binding(holder, mother, "parent", By(holder, holder.user))
    assert "登录" in Notification.objects.get(person=mother, kind="pooling.request").body


def test_a_resident_relative_is_never_told_to_pay_from_their_own_account_first(holder, mother):
    binding = proposals.propose_binding(holder, mother, "parent", By(holder, holder.user))
    proposals.consent_binding(binding, By(mother, mother.user))
    texts = " ".join(Notification.objects.filter(person=mother).values_list("body", flat=True))
    assert "您已同意使用张伟" in texts
    assert "先使用您自己的账户" not in texts


def test_preferences_saved_in_the_language_just_chosen(client, holder):
    login(client, holder, "zh-hans")
    response = client.post(reverse("accounts:preferences"), {"language": "en", "notify_sms": "on", "email": ""},
                           follow=True)
    html = response.content.decode()
    assert "Your preferences have been saved." in html


# -- pages that say what cannot be done ------------------------------------------------------------


def test_a_suspended_holder_sees_why_at_once(client, holder):
    InsuredPerson.objects.filter(pk=holder.pk).update(status="suspended")
    holder.refresh_from_db()
    html = login(client, holder).get(reverse("portal:dashboard")).content.decode()
    assert "Your own insurance is not active at the moment" in html
    assert "You can add" not in html and reverse("pooling:propose") not in html
    page = client.get(reverse("pooling:propose")).content.decode()
    assert "You cannot add a relative at the moment:" in page
    assert 'name="id_number"' not in page
    zh = login(client, holder, "zh-hans").get(reverse("pooling:propose")).content.decode()
    assert "您目前不能添加亲属：" in zh


def test_the_relationship_list_has_only_what_the_region_allows(client, holder):
    RegionPolicy.objects.create(region_id=HAIKOU, effective_from=datetime.date(2024, 1, 1),
                                allowed_relationships=["spouse", "parent", "child"])
    html = login(client, holder).get(reverse("pooling:propose")).content.decode()
    select = re.search(r'<select name="relationship".*?</select>', html, re.S).group(0)
    assert re.findall(r'value="(\w+)"', select) == ["spouse", "parent", "child"]


def test_the_order_page_for_a_holder_with_only_his_own_account(client, holder):
    credit(holder, 320_000)
    html = login(client, holder).get(reverse("pooling:order")).content.decode()
    assert "No account can pay for you" not in html
    assert "Only your own personal account pays for you (balance ¥3,200.00)" in html
    zh = login(client, holder, "zh-hans").get(reverse("pooling:order")).content.decode()
    assert "目前只有您自己的个人账户为您支付（余额 ¥3,200.00）" in zh


def test_the_order_page_for_a_resident_relative(client, holder, mother):
    credit(holder, 10_000)
    make_binding(holder, mother)
    html = login(client, mother).get(reverse("pooling:order")).content.decode()
    assert "has no personal account of its own" in html
    assert "My own personal account" not in html


def test_the_limits_page_promises_the_undo_button_the_next_page_shows(client, holder, mother):
    binding = make_binding(holder, mother)
    login(client, holder)
    page = client.get(reverse("pooling:limits", args=[binding.pk])).content.decode()
    assert "the next page shows an “Undo” button" in page
    response = client.post(reverse("pooling:limits", args=[binding.pk]),
                           {"per_payment": "", "monthly": "500", "annual": ""}, follow=True)
    html = response.content.decode()
    assert 'id="undo-banner"' in html and ">Undo</button>" in html
    assert 'data-expires="' in html and "js/undo.js" in html


def test_an_expired_undo_offer_is_gone(client, holder, mother):
    binding = make_binding(holder, mother)
    _b, change = changes.pause_binding(binding, By(holder, holder.user))
    type(change).objects.filter(pk=change.pk).update(expires_at=change.expires_at - datetime.timedelta(hours=1))
    html = login(client, holder).get(reverse("pooling:binding", args=[binding.pk])).content.decode()
    assert 'id="undo-banner"' not in html


def test_ended_pooling_uses_chinese_punctuation(client, holder, mother):
    binding = make_binding(holder, mother)
    changes.unbind(binding, By(holder, holder.user))
    html = login(client, holder, "zh-hans").get(reverse("portal:dashboard")).content.decode()
    line = re.search(r"<li>李秀英（您的母亲）[^<]*</li>", html)
    assert line is not None, html[html.find("李秀英"):html.find("李秀英") + 200]
    assert "：" in line.group(0) and "，20" in line.group(0) and ", " not in line.group(0)
