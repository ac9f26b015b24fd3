"""Staff confirm every log-in with a code from an authenticator app (django-otp TOTP)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditEvent
from tests.conftest import PASSWORD, login_staff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def code_of(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"


def forget_wrong_codes(device: TOTPDevice) -> None:
    """After a wrong code django-otp refuses the next try for a second; tests do not wait."""
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0, throttling_failure_timestamp=None)


def password_login(client, username: str) -> None:
    response = client.post(reverse("accounts:login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302


def test_a_clerk_without_an_authenticator_is_sent_to_enrol_and_sees_the_qr_code_once(en_client, bureau_clerk):
    password_login(en_client, "clerk")
    response = en_client.get("/admin/accounts/insuredperson/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:otp-enrol"))
    page = en_client.get(response["Location"]).content.decode()
    assert "Set up your second factor" in page and 'src="data:image/svg+xml' in page
    first = TOTPDevice.objects.get(user=bureau_clerk, confirmed=False)
    en_client.get(response["Location"])  # leaving and coming back makes a new secret
    second = TOTPDevice.objects.get(user=bureau_clerk, confirmed=False)
    assert second.key != first.key

    wrong = en_client.post(response["Location"], {"code": "000000" if code_of(second) != "000000" else "111111"})
    assert "This code is not right" in wrong.content.decode()
    forget_wrong_codes(second)
    done = en_client.post(response["Location"], {"code": code_of(second)})
    page = done.content.decode()
    assert "Your second factor is set up" in page
    codes = [t.token for t in StaticToken.objects.filter(device__user=bureau_clerk)]
    assert len(codes) == 10 and all(code in page for code in codes)
    assert 'href="/admin/accounts/insuredperson/"' in page
    assert en_client.get("/admin/accounts/insuredperson/").status_code == 200
    assert AuditEvent.objects.filter(action="staff.second_factor_enrolled", actor=bureau_clerk).exists()


def test_a_counter_assistant_with_an_authenticator_gives_a_code_after_the_password(en_client, counter_assistant):
    device = TOTPDevice.objects.create(user=counter_assistant, name="authenticator", confirmed=True)
    password_login(en_client, "counter1")
    response = en_client.get(reverse("counter:home"))
    assert response.status_code == 302
    step = response["Location"]
    assert step.startswith(reverse("accounts:otp-verify"))
    assert en_client.get(reverse("admin:index")).status_code == 302  # not /admin/ either

    wrong = en_client.post(step, {"code": "12345"})
    assert "This code is not right" in wrong.content.decode()
    assert en_client.get(reverse("counter:home")).status_code == 302
    assert AuditEvent.objects.filter(action="staff.second_factor_failed", actor=counter_assistant).exists()
    forget_wrong_codes(device)

    right = en_client.post(step, {"code": code_of(device)})
    assert right.status_code == 302 and right["Location"] == reverse("counter:home")
    assert en_client.get(reverse("counter:home")).status_code == 200
    assert AuditEvent.objects.filter(action="staff.second_factor_verified", actor=counter_assistant).exists()


def test_a_recovery_code_works_once_in_place_of_the_app(en_client, bureau_clerk):
    from accounts.second_factor import _new_recovery_codes

    login_staff(Client(), bureau_clerk)  # enrolled earlier; recovery codes made now:
    codes = _new_recovery_codes(bureau_clerk)
    client = en_client
    password_login(client, "clerk")
    step = client.get("/admin/")["Location"]
    response = client.post(step, {"code": codes[0]}, follow=True)
    assert response.redirect_chain[-1][0] == "/admin/"
    assert "9 codes are left" in response.content.decode()
    client.post(reverse("accounts:logout"))
    password_login(client, "clerk")
    again = client.post(step, {"code": codes[0]})
    assert "This code is not right" in again.content.decode()


def test_citizens_log_in_with_their_password_alone(en_client, holder):
    response = en_client.post(reverse("accounts:login"), {"username": holder.id_number, "password": PASSWORD})
    assert response["Location"] == reverse("portal:dashboard")
    assert en_client.get(reverse("portal:dashboard")).status_code == 200
    counter = en_client.get(reverse("counter:home"))
    assert counter.status_code == 403  # not a counter assistant: unchanged, no code step
    assert en_client.get(reverse("accounts:otp-enrol")).status_code == 302
    assert not TOTPDevice.objects.exists()


def test_an_administrator_resets_a_lost_second_factor_and_no_secret_is_shown_in_admin(client, bureau_clerk, counter_assistant):
    TOTPDevice.objects.create(user=counter_assistant, name="authenticator", confirmed=True)
    login_staff(client, bureau_clerk)
    index = client.get(reverse("admin:index")).content.decode()
    assert "/admin/otp_totp/" not in index and "/admin/otp_static/" not in index
    assert client.get("/admin/otp_totp/totpdevice/").status_code == 404
    client.post(reverse("admin:accounts_user_changelist"),
                {"action": "reset_second_factor", "_selected_action": [counter_assistant.pk]})
    assert not TOTPDevice.objects.filter(user=counter_assistant).exists()
    assert AuditEvent.objects.filter(action="staff.second_factor_reset", actor=bureau_clerk).exists()
