"""plan_payment: deduction order, caps, balances and what is left for the patient to pay."""

from __future__ import annotations

import datetime
import json

import pytest
from django.utils import timezone

from accounts.models import RegionPolicy
from pooling.models import BindingStatus, DeductionOrder
from pooling.planning import plan_payment
from pooling.selectors import active_binding
from tests.conftest import HAIKOU, make_person

from .conftest import credit, make_binding, spend

pytestmark = pytest.mark.django_db


def _amounts(plan):
    return [(step.source, step.owner.name, step.amount_fen, step.limit_reason) for step in plan.steps]


def test_it_pays_from_the_holder_when_the_relative_has_no_account(holder, mother):
    make_binding(holder, mother, "parent")
    credit(holder, 50_000)
    plan = plan_payment(mother, "pharmacy_drug", 30_000)
    assert _amounts(plan) == [("pooled", "张伟", 30_000, "")]
    assert plan.paid_fen == 30_000 and plan.remaining_fen == 0
    assert plan.steps[0].relationship == "parent"


def test_it_uses_the_own_account_first_then_the_oldest_binding(holder):
    spouse = make_person("王丽", scheme="flexible", birth="1977-06-08")
    brother = make_person("张强", birth="1978-01-01")
    old = timezone.now() - datetime.timedelta(days=30)
    make_binding(brother, spouse, "parent_in_law", activated_at=timezone.now())
    make_binding(holder, spouse, "spouse", activated_at=old)
    credit(spouse, 12_000)
    credit(holder, 10_000)
    credit(brother, 50_000)
    plan = plan_payment(spouse, "pharmacy_drug", 30_000)
    assert _amounts(plan) == [
        ("own", "王丽", 12_000, "balance"),
        ("pooled", "张伟", 10_000, "balance"),
        ("pooled", "张强", 8_000, ""),
    ]
    assert plan.remaining_fen == 0


def test_it_leaves_the_rest_to_the_patient_and_shows_zero_steps(holder, mother):
    make_binding(holder, mother)
    plan = plan_payment(mother, "outpatient", 5_000)
    assert _amounts(plan) == [("pooled", "张伟", 0, "balance")]
    assert plan.remaining_fen == 5_000


def test_it_follows_the_beneficiarys_chosen_order(holder):
    spouse = make_person("王丽", scheme="flexible")
    binding = make_binding(holder, spouse, "spouse")
    credit(spouse, 10_000)
    credit(holder, 10_000)
    DeductionOrder.objects.create(person=spouse, sources=[f"binding:{binding.pk}", "own"])
    plan = plan_payment(spouse, "pharmacy_drug", 15_000)
    assert _amounts(plan) == [("pooled", "张伟", 10_000, "balance"), ("own", "王丽", 5_000, "")]


def test_it_skips_bindings_that_cannot_pay(holder, mother):
    father = make_person("张建国", birth="1946-01-15")
    sister = make_person("张敏", birth="1980-11-11")
    for person in (holder, father, sister):
        credit(person, 10_000)
    make_binding(father, mother, "spouse", status=BindingStatus.PAUSED)
    make_binding(sister, mother, "parent", end_date=timezone.localdate() - datetime.timedelta(days=1))
    other = make_person("李四", birth="1970-01-01")
    make_binding(other, mother, "child", status=BindingStatus.PENDING)
    make_binding(holder, mother, "parent")
    plan = plan_payment(mother, "pharmacy_drug", 3_000)
    assert _amounts(plan) == [("pooled", "张伟", 3_000, "")]


def test_it_skips_a_holder_whose_insurance_is_suspended(holder, mother):
    make_binding(holder, mother)
    credit(holder, 10_000)
    holder.status = "suspended"
    holder.save()
    assert plan_payment(mother, "pharmacy_drug", 3_000).steps == []


def test_it_applies_per_payment_monthly_and_annual_caps(holder, mother):
    binding = make_binding(holder, mother, per_payment_cap_fen=20_000, monthly_cap_fen=50_000, annual_cap_fen=80_000)
    credit(holder, 1_000_000)
    assert _amounts(plan_payment(mother, "pharmacy_drug", 30_000))[0][2:] == (20_000, "per_payment_cap")
    now = timezone.now()
    spend(holder, mother, 40_000, at=now)
    assert _amounts(plan_payment(mother, "pharmacy_drug", 15_000))[0][2:] == (10_000, "monthly_cap")
    last_month = timezone.localtime(now).replace(day=1) - datetime.timedelta(days=1)
    if last_month.year == timezone.localtime(now).year:
        spend(holder, mother, 35_000, at=last_month)
        # 75,000 spent this year: the annual cap leaves 5,000 while the monthly one leaves 10,000.
        assert _amounts(plan_payment(mother, "pharmacy_drug", 15_000))[0][2:] == (5_000, "annual_cap")
    binding.per_payment_cap_fen = binding.monthly_cap_fen = binding.annual_cap_fen = None
    binding.save()
    assert _amounts(plan_payment(mother, "pharmacy_drug", 15_000))[0][2:] == (15_000, "")


def test_it_reads_spending_for_that_relative_only(holder, mother):
    father = make_person("张建国", birth="1946-01-15", scheme="resident")
    make_binding(holder, mother, monthly_cap_fen=10_000)
    make_binding(holder, father)
    credit(holder, 100_000)
    spend(holder, father, 9_000)
    assert plan_payment(mother, "pharmacy_drug", 10_000).paid_fen == 10_000


def test_it_applies_the_regions_annual_cap(holder, mother):
    RegionPolicy.objects.create(region_id=HAIKOU, effective_from=datetime.date(2024, 1, 1), annual_cap_fen=500_000)
    make_binding(holder, mother)
    credit(holder, 1_000_000)
    spend(holder, mother, 480_000)
    step = plan_payment(mother, "inpatient", 50_000).steps[0]
    assert (step.amount_fen, step.limit_reason) == (20_000, "policy_annual_cap")


def test_it_refuses_categories_the_region_does_not_allow(holder, mother):
    RegionPolicy.objects.create(
        region_id=HAIKOU, effective_from=datetime.date(2024, 1, 1), allowed_categories=["outpatient", "inpatient"]
    )
    make_binding(holder, mother)
    credit(holder, 100_000)
    assert plan_payment(mother, "pharmacy_drug", 1_000).steps == []
    assert plan_payment(mother, "outpatient", 1_000).paid_fen == 1_000


def test_it_uses_the_given_balances_instead_of_the_ledger(holder, mother):
    make_binding(holder, mother)
    credit(holder, 100_000)
    plan = plan_payment(mother, "pharmacy_drug", 5_000, balances={holder.pk: 2_000})
    assert _amounts(plan) == [("pooled", "张伟", 2_000, "balance")]
    assert plan_payment(mother, "pharmacy_drug", 5_000, balances={}).paid_fen == 0


def test_it_marks_later_sources_not_needed_once_paid(holder):
    spouse = make_person("王丽", scheme="flexible")
    make_binding(holder, spouse, "spouse")
    credit(spouse, 10_000)
    credit(holder, 10_000)
    plan = plan_payment(spouse, "pharmacy_drug", 3_000)
    assert _amounts(plan) == [("own", "王丽", 3_000, ""), ("pooled", "张伟", 0, "not_needed")]


def test_it_exposes_the_active_binding_of_a_pair(holder, mother):
    assert active_binding(holder, mother) is None
    binding = make_binding(holder, mother, status=BindingStatus.PAUSED)
    assert active_binding(holder, mother) is None
    binding.status = BindingStatus.ACTIVE
    binding.save()
    assert active_binding(holder, mother) == binding
    assert active_binding(mother, holder) is None


def test_it_pays_only_from_the_accounts_whose_balances_it_was_given(holder, django_assert_num_queries):
    """The settlement passes the balances it read (or locked); a holder missing from them pays
    nothing, so the planner need not even read the bindings."""
    spouse = make_person("王丽", scheme="flexible")
    make_binding(holder, spouse, "spouse")
    credit(holder, 50_000)
    with django_assert_num_queries(0):
        plan = plan_payment(spouse, "pharmacy_drug", 30_000, balances={spouse.pk: 10_000})
    assert _amounts(plan) == [("own", "王丽", 10_000, "balance")]
    assert plan.remaining_fen == 20_000
    plan = plan_payment(spouse, "pharmacy_drug", 30_000, balances={spouse.pk: 10_000, holder.pk: 50_000})
    assert _amounts(plan) == [("own", "王丽", 10_000, "balance"), ("pooled", "张伟", 20_000, "")]


def _read_with_sql(person):
    """The sources as the settlement reads them beside the e-voucher (pooling.planning.SOURCES_SQL)."""
    from django.db import connection

    from pooling.planning import SOURCES_SQL, read_sources

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {SOURCES_SQL.format(person='%s')}", [person.pk, person.pk])
        (value,) = cursor.fetchone()
    return read_sources(value if isinstance(value, dict) else json.loads(value))


def test_sources_read_in_one_sql_query_plan_exactly_like_the_orm_reads(require_postgres, holder, django_assert_num_queries):
    """The settlement reads bindings and the chosen order with the voucher, in its own query:
    every filter and the order must come out as when the planner reads them itself."""
    spouse = make_person("王丽", scheme="flexible", birth="1977-06-08")
    father = make_person("张建国", birth="1946-01-15")
    sister = make_person("张敏", birth="1980-11-11")
    brother = make_person("张强", birth="1978-01-01")
    dead = make_person("赵六", birth="1940-02-02")
    old = timezone.now() - datetime.timedelta(days=30)
    for person in (spouse, holder, father, sister, brother, dead):
        credit(person, 10_000)
    make_binding(holder, spouse, "spouse", activated_at=old, per_payment_cap_fen=4_000)
    make_binding(father, spouse, "parent_in_law", status=BindingStatus.PAUSED)
    make_binding(sister, spouse, "parent_in_law", end_date=timezone.localdate() - datetime.timedelta(days=1))
    newest = make_binding(brother, spouse, "parent_in_law", activated_at=timezone.now(),
                          end_date=timezone.localdate() + datetime.timedelta(days=3))
    make_binding(dead, spouse, "parent_in_law", activated_at=old)
    dead.died_on = timezone.localdate() - datetime.timedelta(days=2)
    dead.save()

    from_orm = plan_payment(spouse, "pharmacy_drug", 25_000)
    read = _read_with_sql(spouse)
    with django_assert_num_queries(0):  # (the region's policy is cached by now)
        from_sql = plan_payment(spouse, "pharmacy_drug", 25_000, balances={p.pk: 10_000 for p in (spouse, holder, brother)},
                                sources_read=read)
    expected = [("own", "王丽", 10_000, "balance"), ("pooled", "张伟", 4_000, "per_payment_cap"),
                ("pooled", "张强", 10_000, "balance")]
    assert _amounts(from_sql) == _amounts(from_orm) == expected

    DeductionOrder.objects.create(person=spouse, sources=[f"binding:{newest.pk}", "own"])
    read = _read_with_sql(spouse)
    assert _amounts(plan_payment(spouse, "pharmacy_drug", 12_000, sources_read=read)) == _amounts(
        plan_payment(spouse, "pharmacy_drug", 12_000)
    ) == [("pooled", "张强", 10_000, "balance"), ("own", "王丽", 2_000, ""), ("pooled", "张伟", 0, "not_needed")]
    # A holder read this way still loads what was not read, on access.
    assert read.bindings[0].holder.birth_date is not None


def test_it_says_which_steps_depend_on_spending_so_far(holder, mother):
    """Such steps must be planned under the paying account's lock (payments.fastpath)."""
    father = make_person("张建国", birth="1946-01-15")
    credit(holder, 100_000)
    credit(father, 100_000)
    make_binding(holder, mother, per_payment_cap_fen=1_000)
    assert [s.spending_capped for s in plan_payment(mother, "pharmacy_drug", 3_000).steps] == [False]
    make_binding(father, mother, "spouse", monthly_cap_fen=50_000)
    assert [s.spending_capped for s in plan_payment(mother, "pharmacy_drug", 3_000).steps] == [False, True]
    RegionPolicy.objects.create(region_id=HAIKOU, effective_from=datetime.date(2024, 1, 1), annual_cap_fen=500_000)
    assert [s.spending_capped for s in plan_payment(mother, "pharmacy_drug", 3_000).steps] == [True, True]
