"""Bureau staff see and change only their own region's rows; a foreign id answers like a missing one."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts import scoping
from accounts.models import Office, RegionPolicy
from payments.models import Institution
from pooling.models import Binding
from tests.conftest import CHANGSHA, HAIKOU, SANYA, login_staff, make_bureau_staff, make_person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def world(holder, mother, outsider):
    """Rows in 海口, 三亚 (both Hainan) and 长沙 (Hunan)."""
    sanya_relative = make_person("王大山", region=SANYA, birth="1960-01-01", sex="M")
    changsha = make_person("刘洋", region=CHANGSHA, birth="1970-01-01", sex="M")
    return {
        "haikou_person": holder,
        "sanya_person": outsider,
        "changsha_person": changsha,
        "haikou_binding": Binding.objects.create(holder=holder, beneficiary=mother, relationship="parent",
                                                 status="active", flagged_for_review=True),
        "sanya_binding": Binding.objects.create(holder=outsider, beneficiary=sanya_relative, relationship="parent",
                                                status="active", flagged_for_review=True),
        "haikou_policy": RegionPolicy.objects.create(region_id=HAIKOU, max_beneficiaries=4),
        "sanya_policy": RegionPolicy.objects.create(region_id=SANYA, max_beneficiaries=3),
        "haikou_institution": Institution.objects.create(code="HK-1", name="海口药房", kind="pharmacy", region_id=HAIKOU),
        "sanya_institution": Institution.objects.create(code="SY-1", name="三亚药房", kind="pharmacy", region_id=SANYA),
    }


def changelist(client, model: str) -> str:
    response = client.get(reverse(f"admin:{model}_changelist"))
    assert response.status_code == 200
    return response.content.decode()


def test_the_staff_groups_exist_at_every_level():
    names = set(Group.objects.values_list("name", flat=True))
    assert {scoping.CITY_ADMINISTRATOR, scoping.CITY_VIEWER, scoping.PROVINCE_ADMINISTRATOR,
            scoping.PROVINCE_VIEWER, scoping.NATIONAL_ADMINISTRATOR, scoping.NATIONAL_VIEWER} <= names
    viewer = Group.objects.get(name=scoping.CITY_VIEWER)
    assert viewer.permissions.filter(codename="view_binding").exists()
    assert not viewer.permissions.filter(codename__startswith="change_").exists()
    assert Group.objects.get(name=scoping.CITY_ADMINISTRATOR).permissions.filter(codename="change_regionpolicy").exists()


def test_syncing_the_groups_again_keeps_the_apps_whole():
    """Run with the project's own registry (as a test or a shell would), the sync must not leave
    the apps without their models module: Django would then skip their permissions for good."""
    from django.apps import apps

    from portal.staff_groups import sync_staff_groups

    sync_staff_groups(apps)
    assert all(config.models_module is not None for config in apps.get_app_configs() if config.label in {
        "accounts", "pooling", "payments", "statements", "auth"})
    assert Group.objects.get(name=scoping.CITY_VIEWER).permissions.filter(codename="view_monthlystatement").exists()


def test_a_haikou_clerk_sees_only_haikou_rows(client, world):
    clerk = make_bureau_staff("hk", HAIKOU, scoping.CITY_ADMINISTRATOR)
    login_staff(client, clerk)
    people = changelist(client, "accounts_insuredperson")
    assert world["haikou_person"].masked_name in people
    assert world["sanya_person"].masked_name not in people and world["changsha_person"].masked_name not in people
    bindings = changelist(client, "pooling_binding")
    assert reverse("admin:pooling_binding_change", args=[world["haikou_binding"].pk]) in bindings
    assert reverse("admin:pooling_binding_change", args=[world["sanya_binding"].pk]) not in bindings
    institutions = changelist(client, "payments_institution")
    assert "海口药房" in institutions and "三亚药房" not in institutions
    policies = changelist(client, "accounts_regionpolicy")
    assert reverse("admin:accounts_regionpolicy_change", args=[world["haikou_policy"].pk]) in policies
    assert reverse("admin:accounts_regionpolicy_change", args=[world["sanya_policy"].pk]) not in policies
    offices = changelist(client, "accounts_office")
    assert "海口市医疗保障局" in offices


@pytest.mark.parametrize("model,key", [
    ("accounts_insuredperson", "sanya_person"), ("pooling_binding", "sanya_binding"),
    ("accounts_regionpolicy", "sanya_policy"), ("payments_institution", "sanya_institution"),
])
def test_a_foreign_id_answers_exactly_like_a_missing_one(client, world, model, key):
    login_staff(client, make_bureau_staff("hk", HAIKOU, scoping.CITY_ADMINISTRATOR))
    foreign = client.get(reverse(f"admin:{model}_change", args=[world[key].pk]))
    missing = client.get(reverse(f"admin:{model}_change", args=[987654]))
    assert (foreign.status_code, foreign.get("Location")) == (missing.status_code, missing.get("Location"))
    assert foreign.status_code == 302 and foreign["Location"] == reverse("admin:index")
    history = client.get(reverse(f"admin:{model}_history", args=[world[key].pk]))
    assert history.status_code == client.get(reverse(f"admin:{model}_history", args=[987654])).status_code


def test_an_action_on_a_foreign_binding_changes_nothing(client, world):
    login_staff(client, make_bureau_staff("hk", HAIKOU, scoping.CITY_ADMINISTRATOR))
    foreign = world["sanya_binding"]
    client.post(reverse("admin:pooling_binding_changelist"),
                {"action": "mark_reviewed", "_selected_action": [foreign.pk, world["haikou_binding"].pk]})
    foreign.refresh_from_db()
    world["haikou_binding"].refresh_from_db()
    assert foreign.flagged_for_review and not world["haikou_binding"].flagged_for_review


def test_a_haikou_clerk_cannot_make_a_policy_or_office_for_another_region(en_client, world):
    login_staff(en_client, make_bureau_staff("hk", HAIKOU, scoping.CITY_ADMINISTRATOR))
    response = en_client.post(reverse("admin:accounts_office_add"), {"name": "三亚窗口", "region": SANYA})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    national = en_client.post(reverse("admin:accounts_office_add"), {"name": "无地区", "region": ""})
    assert national.status_code == 200
    assert not Office.objects.filter(name__in=["三亚窗口", "无地区"]).exists()
    ok = en_client.post(reverse("admin:accounts_office_add"), {"name": "海口新窗口", "region": HAIKOU})
    assert ok.status_code == 302 and Office.objects.filter(name="海口新窗口").exists()


def test_a_province_clerk_sees_the_province_and_a_national_administrator_everything(client, world):
    login_staff(client, make_bureau_staff("hn", "460000", scoping.PROVINCE_VIEWER))
    people = changelist(client, "accounts_insuredperson")
    assert world["haikou_person"].masked_name in people and world["sanya_person"].masked_name in people
    assert world["changsha_person"].masked_name not in people
    # A viewer reads but cannot change.
    response = client.post(reverse("admin:accounts_regionpolicy_change", args=[world["haikou_policy"].pk]), {})
    assert response.status_code == 403

    login_staff(client, make_bureau_staff("nation", None, scoping.NATIONAL_ADMINISTRATOR))
    people = changelist(client, "accounts_insuredperson")
    assert all(world[k].masked_name in people for k in ("haikou_person", "sanya_person", "changsha_person"))


def test_staff_without_a_region_or_national_group_see_nothing(client, world):
    from accounts.models import Role, User

    lost = User.objects.create_user("lost", password="x", role=Role.BUREAU, is_staff=True)
    lost.groups.add(Group.objects.get(name=scoping.CITY_VIEWER))
    login_staff(client, lost)
    people = changelist(client, "accounts_insuredperson")
    assert world["haikou_person"].masked_name not in people
