"""A clerk who tightens a region's rules sees first whom it touches, and confirms."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts import scoping
from accounts.models import RegionPolicy
from pooling.models import Binding
from tests.conftest import HAIKOU, login_staff, make_bureau_staff, make_person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def form_data(policy: RegionPolicy, **changes):
    data = {
        "region": policy.region_id or "", "effective_from": policy.effective_from.isoformat(),
        "allowed_relationships": list(policy.allowed_relationships), "max_beneficiaries": policy.max_beneficiaries,
        "pooling_scope": policy.pooling_scope, "consent_days": policy.consent_days, "minor_age": policy.minor_age,
        "cooling_days": policy.cooling_days, "annual_cap_fen": "", "allowed_categories": list(policy.allowed_categories),
        "resident_premium_fen": "400.00", "undo_minutes": policy.undo_minutes, "reminder_days": policy.reminder_days,
        "marriage_age": policy.marriage_age, "premium_scope": policy.premium_scope,
        "pooled_outside_province": "on" if policy.pooled_outside_province else "",
        "confirmation_days": policy.confirmation_days, "outpatient_cap_fen": "", "pharmacy_cap_fen": "",
        "inpatient_cap_fen": "", "reserve_fen": "0.00", "notes": "", "_save": "Save",
    }
    data.update(changes)
    return data


@pytest.fixture
def clerk(db):
    return make_bureau_staff("hk", HAIKOU, scoping.CITY_ADMINISTRATOR)


@pytest.fixture
def big_family(holder):
    """张伟 has three relatives; another 海口 holder has one."""
    for name, rel in (("甲", "parent"), ("乙", "sibling"), ("丙", "child")):
        Binding.objects.create(holder=holder, beneficiary=make_person(name, birth="1950-01-01"),
                               relationship=rel, status="active")
    other = make_person("另一人", birth="1970-01-01")
    Binding.objects.create(holder=other, beneficiary=make_person("丁", birth="1940-01-01"), relationship="parent",
                           status="active")


def test_lowering_the_maximum_shows_who_is_over_it_and_saves_only_when_confirmed(en_client, clerk, big_family):
    policy = RegionPolicy.objects.create(region_id=HAIKOU, max_beneficiaries=6)
    login_staff(en_client, clerk)
    url = reverse("admin:accounts_regionpolicy_change", args=[policy.pk])
    data = form_data(policy, max_beneficiaries="2")
    preview = en_client.post(url, data)
    page = preview.content.decode()
    assert preview.status_code == 200 and 'id="policy-impact"' in page
    assert "Maximum lowered from 6 to 2 relatives: 1 account holders already have more" in page
    assert "<td>4</td><td>3</td>" in page  # 张伟 and his three relatives; three bindings
    policy.refresh_from_db()
    assert policy.max_beneficiaries == 6  # not saved yet
    en_client.post(url, {**data, "_confirm_tightening": "1"})
    policy.refresh_from_db()
    assert policy.max_beneficiaries == 2


def test_removing_a_relationship_counts_its_bindings(en_client, clerk, big_family):
    policy = RegionPolicy.objects.create(region_id=HAIKOU)
    login_staff(en_client, clerk)
    kept = [r for r in policy.allowed_relationships if r != "sibling"]
    page = en_client.post(reverse("admin:accounts_regionpolicy_change", args=[policy.pk]),
                       form_data(policy, allowed_relationships=kept)).content.decode()
    assert "No longer allowed: Brother or sister. 1 bindings of these kinds stay in force" in page


def test_a_loosening_change_saves_at_once(en_client, clerk, big_family):
    policy = RegionPolicy.objects.create(region_id=HAIKOU, max_beneficiaries=3)
    login_staff(en_client, clerk)
    response = en_client.post(reverse("admin:accounts_regionpolicy_change", args=[policy.pk]),
                           form_data(policy, max_beneficiaries="5"))
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.max_beneficiaries == 5


def test_a_new_regional_row_starts_from_the_values_in_force_above_it(en_client, clerk):
    RegionPolicy.objects.create(region_id="460000", max_beneficiaries=3, consent_days=12)
    login_staff(en_client, clerk)
    page = en_client.get(reverse("admin:accounts_regionpolicy_add")).content.decode()
    assert 'name="max_beneficiaries" value="3"' in page and 'name="consent_days" value="12"' in page
    assert f'value="{HAIKOU}"' in page
