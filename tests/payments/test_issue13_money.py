"""Money rules that hold in every case (issue 13 items 2-4): premiums, categories, the area."""

from __future__ import annotations

import datetime

import pytest
from django.utils import translation

from accounts.models import RegionPolicy
from payments import ledger
from payments.institutions import create_institution
from payments.premiums import PremiumError, pay_resident_premium, premium_year
from pooling.common import By, NotEligible
from pooling.models import BindingKind
from pooling.planning import plan_payment
from pooling.premium_only import add_premium_only
from tests.conftest import HAIKOU, make_person

from .conftest import Api, bind, credit, voucher_for
from .test_premiums import confirm_password

pytestmark = pytest.mark.django_db
NANJING = "320100"
ALL_BUT_INPATIENT = ["outpatient", "pharmacy_drug", "medical_device", "medical_consumable", "vaccine_class2",
                     "resident_premium"]


def haikou(**fields):
    return RegionPolicy.objects.create(region_id=HAIKOU, effective_from=datetime.date(2021, 1, 1), **fields)


# -- 2. premiums are the holder's own act ----------------------------------------------------------


def test_a_confirmation_page_comes_before_the_money_moves(client, holder, mother):
    haikou(resident_premium_fen=40_000)
    credit(holder, 100_000)
    bind(holder, mother)
    client.force_login(holder.user)
    confirm_password(client)  # paying asks for the password again first
    page = client.post("/payments/premiums/pay/", {"relative": mother.pk, "year": premium_year()})
    html = page.content.decode()
    assert "Confirm the premium payment" in html and "李秀英" in html and str(premium_year()) in html
    assert "¥400.00" in html and "¥600.00" in html  # amount and balance after
    assert 'name="confirm" value="yes"' in html
    assert ledger.balance_of(holder) == 100_000
    with translation.override("zh-hans"):
        client.cookies["django_language"] = "zh-hans"
        page = client.post("/payments/premiums/pay/", {"relative": mother.pk, "year": premium_year()})
    assert "确认缴费" in page.content.decode() and "缴费后余额" in page.content.decode()


def test_a_premium_is_neither_counted_against_nor_limited_by_the_relatives_caps(holder, mother):
    haikou(resident_premium_fen=40_000)
    credit(holder, 100_000)
    bind(holder, mother, monthly_cap_fen=30_000, annual_cap_fen=35_000, per_payment_cap_fen=30_000)
    pay_resident_premium(holder, mother, premium_year())  # ¥400 above every cap: still paid
    assert ledger.balance_of(holder) == 60_000
    assert ledger.spent_from(holder, mother) == 0
    plan = plan_payment(mother, "pharmacy_drug", 20_000)
    assert plan.paid_fen == 20_000  # the mother's pharmacy payments are untouched by the premium


def test_a_premium_follows_the_regions_categories(holder, mother):
    haikou(resident_premium_fen=40_000, allowed_categories=["outpatient", "pharmacy_drug"])
    credit(holder, 100_000)
    bind(holder, mother)
    with translation.override("en"), pytest.raises(PremiumError) as refused:
        pay_resident_premium(holder, mother, premium_year())
    assert "may not pay resident insurance premiums" in str(refused.value.message)
    with translation.override("zh-hans"):
        assert "不能缴纳城乡居民医保费" in str(refused.value.message)
    assert ledger.balance_of(holder) == 100_000


def test_a_premium_only_relative_whose_insurance_lapsed_can_be_paid_for(client, holder):
    haikou(resident_premium_fen=40_000)
    credit(holder, 100_000)
    father = make_person("张建国", birth="1946-01-15", sex="M", scheme="resident", status="suspended")
    binding = add_premium_only(holder, father, "parent", By(holder, holder.user, "web"))
    assert binding.kind == BindingKind.PREMIUM_ONLY and binding.status == "active"
    assert plan_payment(father, "pharmacy_drug", 10_000).paid_fen == 0  # no spending rights
    payment = pay_resident_premium(holder, father, premium_year())
    client.force_login(holder.user)
    receipt = client.get(f"/payments/premiums/{payment.pk}/").content.decode()
    assert "cover resumes when the bureau confirms" in receipt
    father.status = "active"
    father.save()
    assert "cover resumes" not in client.get(f"/payments/premiums/{payment.pk}/").content.decode()


def test_premium_only_follows_its_own_scope_not_the_pooling_scope(holder):
    haikou(premium_scope="national", pooling_scope="region", resident_premium_fen=40_000)
    RegionPolicy.objects.create(region_id=NANJING, effective_from=datetime.date(2021, 1, 1),
                                resident_premium_fen=38_000)
    credit(holder, 100_000)
    brother = make_person("张强", region=NANJING, birth="1978-01-01", sex="M", scheme="resident")
    add_premium_only(holder, brother, "sibling", By(holder, holder.user, "web"))
    pay_resident_premium(holder, brother, premium_year())
    assert ledger.balance_of(holder) == 62_000


def test_premium_only_refused_outside_the_premium_scope(holder):
    haikou(premium_scope="province")
    sister = make_person("张丽", region=NANJING, birth="1979-01-01", sex="F", scheme="resident")
    with pytest.raises(NotEligible) as refused:
        add_premium_only(holder, sister, "sibling", By(holder, holder.user, "web"))
    assert refused.value.answer.codes == ["outside_province"]


def test_the_dashboard_shows_premiums_apart_from_spending(client, holder, mother):
    haikou(resident_premium_fen=40_000)
    credit(holder, 100_000)
    bind(holder, mother)
    pay_resident_premium(holder, mother, premium_year())
    client.force_login(holder.user)
    html = client.get("/dashboard/").content.decode()
    assert "Premiums you paid this year (not spending): ¥400.00" in html


# -- 3. the region's categories govern pooled money only --------------------------------------------


def test_the_own_account_pays_a_category_the_region_excludes_for_pooling(hospital, holder):
    haikou(allowed_categories=ALL_BUT_INPATIENT)
    credit(holder, 50_000)
    response = hospital.settle(voucher_for(holder), 20_000, category="inpatient")
    assert response.status_code == 201, response.content
    assert response.json()["paid_fen"] == 20_000


def test_pooled_money_still_follows_the_regions_categories(hospital, holder, mother):
    haikou(allowed_categories=ALL_BUT_INPATIENT)
    credit(holder, 50_000)
    bind(holder, mother)
    body = hospital.settle(voucher_for(mother), 20_000, category="inpatient").json()
    assert body["paid_fen"] == 0 and ledger.balance_of(holder) == 50_000


# -- 4. pooled money outside the holder's province --------------------------------------------------


@pytest.fixture
def nanjing_hospital(db):
    institution, key = create_institution("H320", "南京鼓楼医院", "hospital", NANJING)
    return Api(institution, key)


def test_pooled_money_outside_the_province_is_refused_when_the_policy_says_so(nanjing_hospital, holder, mother):
    haikou(pooled_outside_province=False)
    credit(holder, 50_000)
    bind(holder, mother)
    response = nanjing_hospital.settle(voucher_for(mother), 20_000)
    assert response.status_code == 403
    body = response.json()
    assert body["error"] == "outside_area"
    assert "only inside their own province" in body["message"]
    assert ledger.balance_of(holder) == 50_000


def test_the_own_account_still_pays_outside_the_province(nanjing_hospital, holder):
    haikou(pooled_outside_province=False)
    credit(holder, 50_000)
    response = nanjing_hospital.settle(voucher_for(holder), 20_000)
    assert response.status_code == 201 and response.json()["paid_fen"] == 20_000


def test_pooled_money_outside_the_province_is_allowed_by_default(nanjing_hospital, holder, mother):
    credit(holder, 50_000)
    bind(holder, mother)
    response = nanjing_hospital.settle(voucher_for(mother), 20_000)
    assert response.status_code == 201 and response.json()["paid_fen"] == 20_000


def test_the_spending_page_lists_premiums_apart(client, holder, mother):
    haikou(resident_premium_fen=40_000)
    credit(holder, 100_000)
    bind(holder, mother)
    pay_resident_premium(holder, mother, premium_year())
    client.force_login(holder.user)
    html = client.get("/payments/spending/").content.decode()
    assert "Resident premiums I paid" in html and "not part of the spending above" in html
    assert "No payments yet." in html  # the premium is not a payment by the relative
