"""Moves, dates, the young person's deadline, limits that contradict, the national list (issue 13 items 5-7)."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.utils import timezone, translation

from accounts.models import LEGAL_CLOSE_RELATIVES, Notification, RegionPolicy
from accounts.registry import import_registry, registry_rows_for
from pooling import changes, lifecycle, tasks
from pooling.common import By, PoolingError
from pooling.models import Binding, BindingStatus, EndReason
from pooling.planning import plan_payment
from tests.conftest import CHANGSHA, HAIKOU, SANYA, make_person

from .conftest import credit, make_binding

pytestmark = pytest.mark.django_db
S = BindingStatus


def web(person):
    return By(person, getattr(person, "user", None), "web")


def _import(*people):
    result = import_registry(registry_rows_for(people))
    assert result.ok, result.errors


# -- 5. moves -----------------------------------------------------------------------------------


def test_a_move_inside_the_policys_scope_keeps_the_binding(holder, mother):
    RegionPolicy.objects.create(region_id="460000", effective_from=datetime.date(2021, 1, 1), pooling_scope="province")
    binding = make_binding(holder, mother)
    holder.region_id = SANYA  # 海口 -> 三亚 under a Hainan-wide policy
    _import(holder)
    binding.refresh_from_db()
    assert binding.status == S.ACTIVE
    mother.region_id = SANYA
    _import(mother)
    binding.refresh_from_db()
    assert binding.status == S.ACTIVE


def test_a_move_outside_the_scope_ends_the_binding_with_a_notice(holder, mother):
    RegionPolicy.objects.create(region_id="460000", effective_from=datetime.date(2021, 1, 1), pooling_scope="province")
    binding = make_binding(holder, mother)
    holder.region_id = CHANGSHA
    _import(holder)
    binding.refresh_from_db()
    assert (binding.status, binding.end_reason) == (S.ENDED, EndReason.HOLDER_LEFT_REGION)
    assert Notification.objects.filter(person=mother, kind="pooling.ended").exists()


# -- 6. dates, the young person's deadline, contradicting limits --------------------------------------


def test_payments_only_inside_the_start_and_end_dates(holder, mother):
    credit(holder, 100_000)
    binding = make_binding(holder, mother)
    today = timezone.localdate()
    changes.set_end_date(binding, web(holder), today + datetime.timedelta(days=30),
                         start_date=today + datetime.timedelta(days=10))
    assert plan_payment(mother, "pharmacy_drug", 1_000).paid_fen == 0  # not started yet
    later = timezone.now() + datetime.timedelta(days=12)
    assert plan_payment(mother, "pharmacy_drug", 1_000, at=later).paid_fen == 1_000
    with pytest.raises(PoolingError) as refused:
        changes.set_end_date(binding, web(holder), today + datetime.timedelta(days=5),
                             start_date=today + datetime.timedelta(days=10))
    assert refused.value.code == "start_after_end"


def test_the_binding_page_sets_a_start_date(client, holder, mother):
    binding = make_binding(holder, mother)
    client.force_login(holder.user)
    today = timezone.localdate()
    client.post(f"/pooling/relative/{binding.pk}/end-date/", {
        "start_date": (today + datetime.timedelta(days=3)).isoformat(),
        "end_date": (today + datetime.timedelta(days=60)).isoformat()})
    binding.refresh_from_db()
    assert binding.start_date == today + datetime.timedelta(days=3)


def test_a_young_person_who_never_confirms_is_reminded_then_the_binding_ends(holder):
    RegionPolicy.objects.create(region_id=HAIKOU, effective_from=datetime.date(2021, 1, 1), confirmation_days=30,
                                reminder_days=7)
    son = make_person("张小明", birth="2010-01-01", sex="M", scheme="resident")
    start = datetime.datetime(2026, 3, 1, 10, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        binding = make_binding(holder, son, "child", auto_activated=True)
        assert lifecycle.ask_minor_to_confirm(binding.pk)
    with time_machine.travel(start + datetime.timedelta(days=10), tick=False):
        assert tasks.minor_confirmation_deadlines_task() == 0  # too early to remind
    with time_machine.travel(start + datetime.timedelta(days=25), tick=False):
        assert tasks.minor_confirmation_deadlines_task() == 1
        assert tasks.minor_confirmation_deadlines_task() == 0  # once
    assert Notification.objects.filter(person=son, kind="pooling.confirm_reminder").exists()
    assert Notification.objects.filter(person=holder, kind="pooling.confirm_reminder").exists()
    with time_machine.travel(start + datetime.timedelta(days=31), tick=False):
        assert tasks.minor_confirmation_deadlines_task() == 1
    binding.refresh_from_db()
    assert (binding.status, binding.end_reason) == (S.ENDED, EndReason.MINOR_NO_ANSWER)
    assert Notification.objects.filter(person=son, kind="pooling.ended").exists()
    assert Notification.objects.filter(person=holder, kind="pooling.ended").exists()


def test_limits_that_contradict_each_other_are_refused_with_the_reason(holder, mother):
    binding = make_binding(holder, mother)
    with translation.override("en"), pytest.raises(PoolingError) as refused:
        changes.set_limits(binding, web(holder), per_payment_fen=50_000, monthly_fen=30_000, annual_fen=None)
    assert refused.value.code == "limits_contradict"
    assert "The limit per payment (¥500.00) is above the limit per month (¥300.00)" in str(refused.value.message)
    with translation.override("zh-hans"), pytest.raises(PoolingError) as refused:
        changes.set_limits(binding, web(holder), per_payment_fen=None, monthly_fen=30_000, annual_fen=20_000)
    assert "每月限额（¥300.00）高于每年限额（¥200.00）" in str(refused.value.message)
    binding.refresh_from_db()
    assert binding.per_payment_cap_fen is None and binding.monthly_cap_fen is None


def test_the_limits_page_explains_contradicting_limits(client, holder, mother):
    binding = make_binding(holder, mother)
    client.force_login(holder.user)
    client.cookies["django_language"] = "en"
    page = client.post(f"/pooling/relative/{binding.pk}/limits/", {"per_payment": "500", "monthly": "300"})
    assert page.status_code == 200
    assert "is above the limit per month" in page.content.decode()


# -- 7. the national list --------------------------------------------------------------------------


def test_the_national_default_is_the_legal_list_of_close_relatives():
    national = RegionPolicy.national_default()
    assert sorted(national.allowed_relationships) == sorted(LEGAL_CLOSE_RELATIVES)
    assert "parent_in_law" not in national.allowed_relationships
    assert sorted(LEGAL_CLOSE_RELATIVES) == sorted(
        ["spouse", "parent", "child", "sibling", "grandparent", "grandchild"])


def test_a_region_that_adds_spouses_parents_keeps_them(holder):
    from pooling.proposals import check_candidate

    father_in_law = make_person("王建国", birth="1950-01-01", sex="M", scheme="resident")
    assert "relationship_not_allowed" in check_candidate(holder, father_in_law, "parent_in_law").codes
    RegionPolicy.objects.create(region_id=HAIKOU, effective_from=datetime.date(2021, 1, 1),
                                allowed_relationships=[*LEGAL_CLOSE_RELATIVES, "parent_in_law"])
    assert check_candidate(holder, father_in_law, "parent_in_law").ok


def test_the_data_migration_changes_only_the_national_row():
    from importlib import import_module

    from django.apps import apps

    migration = import_module("accounts.migrations.0006_issue13_rules")
    national = RegionPolicy.national_default()
    national.allowed_relationships = [*LEGAL_CLOSE_RELATIVES, "parent_in_law"]
    national.save()
    regional = RegionPolicy.objects.create(region_id=SANYA, effective_from=datetime.date(2021, 1, 1),
                                           allowed_relationships=["spouse", "parent_in_law"])
    migration.national_default_is_the_legal_list(apps, None)
    national.refresh_from_db()
    regional.refresh_from_db()
    assert "parent_in_law" not in national.allowed_relationships
    assert regional.allowed_relationships == ["spouse", "parent_in_law"]
    assert Binding.objects.count() == 0
