"""Bureau admin reads as a clerk expects: yuan, Chinese labels, filters that scale, no secrets."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts import scoping
from accounts.models import Notification, RegionPolicy
from pooling.models import Binding
from tests.conftest import HAIKOU, SANYA, login_staff, make_bureau_staff, make_person

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def nation(db):
    return make_bureau_staff("nation", None, scoping.NATIONAL_ADMINISTRATOR)


def test_policy_amounts_are_typed_and_listed_in_yuan(client, nation):
    login_staff(client, nation)
    form = client.get(reverse("admin:accounts_regionpolicy_add")).content.decode()
    assert "每位亲属年度限额（元）" in form
    response = client.post(reverse("admin:accounts_regionpolicy_add"), {
        "region": HAIKOU, "effective_from": "2026-01-01", "allowed_relationships": ["spouse", "parent"],
        "max_beneficiaries": "4", "pooling_scope": "region", "consent_days": "7", "minor_age": "16",
        "cooling_days": "0", "annual_cap_fen": "20000.00", "allowed_categories": ["outpatient"],
        "resident_premium_fen": "400", "undo_minutes": "10", "reminder_days": "7", "marriage_age": "20",
        "premium_scope": "region", "pooled_outside_province": "on", "confirmation_days": "30",
        "outpatient_cap_fen": "3000.00", "pharmacy_cap_fen": "", "inpatient_cap_fen": "", "reserve_fen": "2000.00",
        "notes": "", "_confirm_tightening": "1",  # fewer relationships than the national row: confirmed
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    policy = RegionPolicy.objects.get(region_id=HAIKOU)
    assert (policy.annual_cap_fen, policy.resident_premium_fen) == (2_000_000, 40_000)
    assert (policy.outpatient_cap_fen, policy.pharmacy_cap_fen, policy.reserve_fen) == (300_000, None, 200_000)
    assert "¥20,000.00" in client.get(reverse("admin:accounts_regionpolicy_changelist")).content.decode()
    change = client.get(reverse("admin:accounts_regionpolicy_change", args=[policy.pk])).content.decode()
    assert 'value="20000.00"' in change and 'value="400.00"' in change


def test_binding_limits_are_shown_in_yuan_and_no_answer_code_hash(client, nation, holder, mother):
    binding = Binding.objects.create(holder=holder, beneficiary=mother, relationship="parent", status="pending",
                                     monthly_cap_fen=50_000, answer_code_hash="f" * 64)
    login_staff(client, nation)
    page = client.get(reverse("admin:pooling_binding_change", args=[binding.pk])).content.decode()
    assert "¥500.00" in page and "50000" not in page
    assert "f" * 64 not in page
    assert 'name="version"' not in page and 'name="status_before_suspension"' not in page  # read-only, no inputs


def test_the_region_filter_is_a_text_box_that_finds_a_city_by_code_or_name(client, nation, holder, mother, outsider):
    haikou = Binding.objects.create(holder=holder, beneficiary=mother, relationship="parent", status="active")
    sanya = Binding.objects.create(holder=outsider, beneficiary=make_person("三亚人", region=SANYA),
                                   relationship="parent", status="active")
    login_staff(client, nation)
    url = reverse("admin:pooling_binding_changelist")
    page = client.get(url).content.decode()
    assert 'name="region"' in page and "?holder__region" not in page and len(page) < 100_000
    for term, shown, hidden in (("海口", haikou, sanya), ("460200", sanya, haikou), ("46", haikou, None)):
        page = client.get(url, {"region": term}).content.decode()
        assert reverse("admin:pooling_binding_change", args=[shown.pk]) in page
        if hidden:
            assert reverse("admin:pooling_binding_change", args=[hidden.pk]) not in page


def test_audit_columns_and_the_lockout_models_read_in_chinese(client, nation, holder, bureau_clerk):
    from accounts.models import audit

    audit("staff.lookup", channel="admin", actor=nation, on_behalf_of=holder, obj=holder)
    login_staff(client, nation)
    page = client.get(reverse("admin:accounts_auditevent_changelist")).content.decode()
    for chinese in ("时间", "操作人", "代办对象", "渠道", "对象类型"):
        assert chinese in page
    assert "On behalf of" not in page and "Object type" not in page
    login_staff(client, bureau_clerk)  # a superuser sees the lockout tables
    index = client.get(reverse("admin:index")).content.decode()
    assert "登录尝试" in index and "Access attempts" not in index


def test_a_notification_link_with_a_signed_token_is_not_shown(client, nation, holder):
    note = Notification.objects.create(person=holder, kind="pooling.request", subject="请求",
                                       body="...", link="/pooling/answer/SIGNED-TOKEN-abc/")
    login_staff(client, nation)
    page = client.get(reverse("admin:accounts_notification_change", args=[note.pk])).content.decode()
    assert "SIGNED-TOKEN" not in page
