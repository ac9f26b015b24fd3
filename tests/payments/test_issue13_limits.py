"""Caps per kind of care, the holder's reserve, refund notices, extending the e-voucher (issue 13 items 6, 9)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone, translation

from accounts.models import Notification, RegionPolicy
from payments import ledger
from payments.models import Voucher
from payments.vouchers import extend_voucher, issue_voucher
from pooling import changes
from pooling.common import By
from pooling.planning import LIMIT_CARE, LIMIT_POLICY_CARE, LIMIT_RESERVE, plan_payment
from tests.conftest import HAIKOU

from .conftest import bind, credit, voucher_for

pytestmark = pytest.mark.django_db


def haikou(**fields):
    return RegionPolicy.objects.create(region_id=HAIKOU, effective_from=datetime.date(2021, 1, 1), **fields)


# -- 9. caps per kind of care and reserves ---------------------------------------------------------


def test_the_regions_annual_cap_per_kind_of_care_applies_per_relative(hospital, pharmacy, holder, mother):
    haikou(pharmacy_cap_fen=50_000)
    credit(holder, 500_000)
    bind(holder, mother)
    assert pharmacy.settle(voucher_for(mother), 40_000, category="pharmacy_drug").json()["paid_fen"] == 40_000
    body = pharmacy.settle(voucher_for(mother), 40_000, category="pharmacy_drug").json()
    assert body["paid_fen"] == 10_000 and body["remaining_fen"] == 30_000
    assert hospital.settle(voucher_for(mother), 40_000, category="outpatient").json()["paid_fen"] == 40_000
    assert plan_payment(mother, "pharmacy_drug", 1_000).steps[0].limit_reason == LIMIT_POLICY_CARE


def test_the_holders_own_cap_per_kind_of_care(hospital, holder, mother):
    credit(holder, 500_000)
    binding = bind(holder, mother)
    changes.set_limits(binding, By(holder, holder.user, "web"), per_payment_fen=None, monthly_fen=None,
                       annual_fen=None, inpatient_fen=100_000)
    body = hospital.settle(voucher_for(mother), 150_000, category="inpatient").json()
    assert body["paid_fen"] == 100_000
    assert plan_payment(mother, "inpatient", 1_000).steps[0].limit_reason == LIMIT_CARE
    assert hospital.settle(voucher_for(mother), 1_000, category="outpatient").json()["paid_fen"] == 1_000


def test_the_regions_reserve_is_never_touched_by_pooled_payments(hospital, holder, mother):
    haikou(reserve_fen=200_000)  # Fujian: the balance minus ¥2,000
    credit(holder, 250_000)
    bind(holder, mother)
    body = hospital.settle(voucher_for(mother), 100_000).json()
    assert body["paid_fen"] == 50_000
    assert ledger.balance_of(holder) == 200_000
    assert plan_payment(mother, "outpatient", 1_000).steps[0].limit_reason == LIMIT_RESERVE
    # The holder's own payments may use all of it.
    assert hospital.settle(voucher_for(holder), 150_000).json()["paid_fen"] == 150_000


def test_the_holder_may_choose_a_larger_reserve(hospital, holder, mother):
    haikou(reserve_fen=10_000)
    credit(holder, 100_000)
    binding = bind(holder, mother)
    changes.set_limits(binding, By(holder, holder.user, "web"), per_payment_fen=None, monthly_fen=None,
                       annual_fen=None, reserve_fen=80_000)
    assert hospital.settle(voucher_for(mother), 50_000).json()["paid_fen"] == 20_000


def test_the_preview_applies_the_reserve(client, holder, mother):
    haikou(reserve_fen=90_000)
    credit(holder, 100_000)
    bind(holder, mother)
    client.force_login(mother.user)
    html = client.get("/dashboard/").content.decode()
    assert "¥100.00" in html  # the preview of ¥300 shows ¥100 from the holder


def test_the_limits_page_shows_the_regions_caps_and_reserve(client, holder, mother):
    haikou(outpatient_cap_fen=30_000, reserve_fen=200_000)
    binding = bind(holder, mother)
    client.force_login(holder.user)
    html = client.get(f"/pooling/relative/{binding.pk}/limits/").content.decode()
    assert "at most ¥300.00 a year for each relative's outpatient care" in html
    assert "keeps ¥2,000.00 of your balance" in html or "keeps ¥2000.00 of your balance" in html
    client.cookies["django_language"] = "zh-hans"
    with translation.override("zh-hans"):
        html = client.get(f"/pooling/relative/{binding.pk}/limits/").content.decode()
    assert "门诊" in html and "保留" in html


# -- 6. refund notice, voucher extension -----------------------------------------------------------


def test_a_refund_to_the_holders_account_is_told_to_the_holder(hospital, holder, mother):
    credit(holder, 100_000)
    bind(holder, mother)
    settlement = hospital.settle(voucher_for(mother), 30_000).json()
    response = hospital.refund(settlement["id"], 10_000)
    assert response.status_code == 201
    notice = Notification.objects.get(person=holder, kind="refund")
    assert "¥100.00" in notice.subject and "李秀英" in notice.body
    assert ledger.balance_of(holder) == 80_000


def test_extend_adds_five_minutes_to_the_current_expiry(holder):
    voucher, _code = issue_voucher(holder)
    before = Voucher.objects.get(pk=voucher.pk).expires_at
    extended = extend_voucher(holder, now=timezone.now())
    assert extended.expires_at == before + datetime.timedelta(minutes=5)


def test_the_binding_page_shows_the_holders_care_caps_and_reserve(client, holder, mother):
    binding = bind(holder, mother, inpatient_cap_fen=100_000, reserve_fen=50_000)
    client.force_login(holder.user)
    html = client.get(f"/pooling/relative/{binding.pk}/").content.decode()
    assert "Most per year for hospital stays" in html and "¥1,000.00" in html.replace("¥1000.00", "¥1,000.00")
    assert "Always keep in my account" in html and "¥500.00" in html
