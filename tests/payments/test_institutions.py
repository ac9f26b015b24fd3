"""Institutions: `create_institution`, hashed keys shown once, rotation and revocation."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from payments.institutions import hash_key, revoke_api_key, rotate_api_key
from payments.models import Institution
from tests.conftest import login_staff

from .conftest import Api, credit, voucher_for

pytestmark = pytest.mark.django_db


def test_create_institution_prints_a_working_key_alone_on_the_last_line(holder):
    out = StringIO()
    call_command("create_institution", "--code", "H9", "--name", "测试医院", "--kind", "hospital", "--region", "460100",
                 stdout=out)
    key = out.getvalue().strip().splitlines()[-1]
    institution = Institution.objects.get(code="H9")
    assert key not in str(Institution.objects.values().get(pk=institution.pk))  # only a hash is stored
    assert institution.api_key_hash == hash_key(key)
    credit(holder, 1_000)
    assert Api(institution, key).settle(voucher_for(holder), 100).status_code == 201


@pytest.mark.parametrize(("args", "message"), [
    (["--kind", "clinic", "--region", "460100"], "kind"),
    (["--kind", "hospital", "--region", "999999"], "region"),
])
def test_create_institution_refuses_bad_input(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_institution", "--code", "X1", "--name", "N", *args, stdout=StringIO())
    assert not Institution.objects.filter(code="X1").exists()


def test_create_institution_refuses_a_duplicate_code(hospital):
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_institution", "--code", "H001", "--name", "N", "--kind", "hospital",
                     "--region", "460100", stdout=StringIO())


def test_create_institution_exits_non_zero_on_error():
    env = {**os.environ, "PORTAL_TESTING": "1", "DJANGO_DEBUG": "1"}
    result = subprocess.run(
        [sys.executable, "manage.py", "create_institution", "--code", "X", "--name", "N", "--kind", "spa",
         "--region", "460100"], capture_output=True, text=True, env=env, timeout=60,
    )
    assert result.returncode != 0
    assert "kind" in result.stderr and result.stdout == ""


def test_a_rotated_key_replaces_the_old_one(hospital, holder):
    credit(holder, 1_000)
    new_key = rotate_api_key(hospital.institution)
    assert hospital.settle(voucher_for(holder), 100).status_code == 401
    assert Api(hospital.institution, new_key).settle(voucher_for(holder), 100).status_code == 201


def test_a_revoked_key_stops_working(hospital, holder):
    credit(holder, 1_000)
    revoke_api_key(hospital.institution)
    assert hospital.settle(voucher_for(holder), 100).status_code == 401


def test_bureau_staff_rotate_and_revoke_keys_in_admin(client, bureau_clerk, hospital):
    login_staff(client, bureau_clerk)
    url = "/admin/payments/institution/"
    ask = client.post(url, {"action": "rotate_keys", "_selected_action": [hospital.institution.pk]})
    assert ask.status_code == 200 and 'name="confirm" value="yes"' in ask.content.decode()
    assert Institution.objects.get(pk=hospital.institution.pk).api_key_hash == hash_key(hospital.key)  # not yet
    response = client.post(url, {"action": "rotate_keys", "_selected_action": [hospital.institution.pk],
                                 "confirm": "yes"}, follow=True)
    html = response.content.decode()
    assert "will not be shown again" in html
    assert Institution.objects.get(pk=hospital.institution.pk).api_key_hash != hash_key(hospital.key)
    client.post(url, {"action": "revoke_keys", "_selected_action": [hospital.institution.pk]})
    assert Institution.objects.get(pk=hospital.institution.pk).api_key_hash is not None  # asked first
    client.post(url, {"action": "revoke_keys", "_selected_action": [hospital.institution.pk], "confirm": "yes"})
    assert Institution.objects.get(pk=hospital.institution.pk).api_key_hash is None


def test_bureau_staff_add_an_institution_and_see_its_key_once(client, bureau_clerk):
    login_staff(client, bureau_clerk)
    response = client.post("/admin/payments/institution/add/", {
        "code": "P77", "name": "药房", "kind": "pharmacy", "region": "460100", "active": "on",
    }, follow=True)
    assert "will not be shown again" in response.content.decode()
    assert Institution.objects.get(code="P77").api_key_hash
