"""An undo is checked again at the moment of undoing: maximum, eligibility, statuses (issue 13 item 1)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import translation

from accounts.models import RegionPolicy
from pooling import changes, proposals
from pooling.common import By, PoolingError
from pooling.models import Binding, BindingStatus
from tests.conftest import HAIKOU, make_person

from .conftest import make_binding

pytestmark = pytest.mark.django_db
S = BindingStatus


def web(person):
    return By(person, getattr(person, "user", None), "web")


def relatives(n):
    return [make_person(f"亲属{i}", birth="1950-01-01", scheme="resident") for i in range(n)]


def test_an_undone_unbind_never_exceeds_the_maximum(holder):
    RegionPolicy.objects.create(region_id=HAIKOU, effective_from=datetime.date(2024, 1, 1), max_beneficiaries=4)
    first, *others = relatives(5)
    bindings = [make_binding(holder, r) for r in [first, *others[:3]]]
    _b, change = changes.unbind(bindings[0], web(holder))
    proposals.propose_binding(holder, others[3], "parent", web(holder))  # the freed slot is taken (pending)
    with translation.override("en"), pytest.raises(PoolingError) as refused:
        changes.undo_change(change.pk, web(holder))
    assert refused.value.code == "undo_refused"
    assert "you already have 4 relatives" in str(refused.value.message)
    assert "at most 4" in str(refused.value.message)
    assert Binding.objects.live().for_holder(holder).count() == 4
    bindings[0].refresh_from_db()
    assert bindings[0].status == S.ENDED


def test_the_refusal_reads_in_chinese(holder):
    RegionPolicy.objects.create(region_id=HAIKOU, effective_from=datetime.date(2024, 1, 1), max_beneficiaries=1)
    first, second = relatives(2)
    binding = make_binding(holder, first)
    _b, change = changes.unbind(binding, web(holder))
    make_binding(holder, second)
    with translation.override("zh-hans"), pytest.raises(PoolingError) as refused:
        changes.undo_change(change.pk, web(holder))
    assert "最多允许 1 名" in str(refused.value.message)


def test_an_undone_unbind_rechecks_the_relatives_insurance(holder, mother):
    binding = make_binding(holder, mother)
    _b, change = changes.unbind(binding, web(holder))
    mother.status = "terminated"
    mother.save()
    with translation.override("en"), pytest.raises(PoolingError) as refused:
        changes.undo_change(change.pk, web(holder))
    assert "their insurance is not active" in str(refused.value.message)
    binding.refresh_from_db()
    assert binding.status == S.ENDED


def test_an_undone_unbind_rechecks_the_region_rules(holder, mother):
    binding = make_binding(holder, mother)
    _b, change = changes.unbind(binding, web(holder))
    RegionPolicy.objects.create(region_id=HAIKOU, effective_from=datetime.date(2024, 1, 1),
                                allowed_relationships=["spouse", "child"])
    with translation.override("en"), pytest.raises(PoolingError) as refused:
        changes.undo_change(change.pk, web(holder))
    assert "allowed only for" in str(refused.value.message)


def test_an_undone_pause_rechecks_the_holders_insurance(holder, mother):
    binding = make_binding(holder, mother)
    _b, change = changes.pause_binding(binding, web(holder))
    holder.status = "suspended"
    holder.save()
    with translation.override("en"), pytest.raises(PoolingError) as refused:
        changes.undo_change(change.pk, web(holder))
    assert "your own employee insurance is not active" in str(refused.value.message)
    binding.refresh_from_db()
    assert binding.status == S.PAUSED


def test_an_undo_within_the_maximum_still_works(holder):
    RegionPolicy.objects.create(region_id=HAIKOU, effective_from=datetime.date(2024, 1, 1), max_beneficiaries=2)
    first, second = relatives(2)
    binding = make_binding(holder, first)
    make_binding(holder, second)
    _b, change = changes.unbind(binding, web(holder))
    changes.undo_change(change.pk, web(holder))
    binding.refresh_from_db()
    assert binding.status == S.ACTIVE
