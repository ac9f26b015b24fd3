"""The e-voucher page, its QR image, extending it, and `issue_voucher`."""

from __future__ import annotations

import datetime
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from payments.models import Voucher
from tests.conftest import make_id

from .conftest import credit

pytestmark = pytest.mark.django_db


def login(client, person):
    client.force_login(person.user)


def digits_on(page) -> str:
    match = re.search(r'data-testid="voucher-digits">([\d ]+)<', page.content.decode())
    assert match, "no voucher digits on the page"
    digits = match.group(1).replace(" ", "")
    assert len(digits) == 18
    return digits


def test_it_shows_a_code_as_qr_and_digits_with_its_expiry(client, holder):
    login(client, holder)
    page = client.get("/payments/voucher/")
    assert page.status_code == 200
    code = digits_on(page)
    html = page.content.decode()
    assert "valid for 5 minutes" in html and "used for one payment only" in html
    assert 'style="' not in html
    voucher = Voucher.objects.get(person=holder)
    assert voucher.code == code
    qr = client.get(f"/payments/voucher/{voucher.pk}/qr.svg")
    assert qr.status_code == 200 and qr["Content-Type"] == "image/svg+xml"
    assert b"<svg" in qr.content and b"style=" not in qr.content
    assert "no-store" in qr["Cache-Control"]


def test_it_shows_the_same_code_until_it_expires(client, holder):
    login(client, holder)
    first = digits_on(client.get("/payments/voucher/"))
    assert digits_on(client.get("/payments/voucher/")) == first
    Voucher.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert digits_on(client.get("/payments/voucher/")) != first


def test_extending_keeps_the_code_and_gives_five_more_minutes(client, holder):
    login(client, holder)
    code = digits_on(client.get("/payments/voucher/"))
    Voucher.objects.update(expires_at=timezone.now() + datetime.timedelta(seconds=30))
    response = client.post("/payments/voucher/extend/", follow=True)
    assert digits_on(response) == code
    assert Voucher.objects.get(person=holder, revoked_at__isnull=True).expires_at > timezone.now() + datetime.timedelta(minutes=4)
    assert "another 5 minutes" in response.content.decode()


def test_nobody_sees_another_persons_qr_code(client, holder, outsider):
    login(client, holder)
    client.get("/payments/voucher/")
    voucher = Voucher.objects.get(person=holder)
    client.logout()
    login(client, outsider)
    assert client.get(f"/payments/voucher/{voucher.pk}/qr.svg").status_code == 404


def test_the_pages_need_a_log_in(client):
    assert client.get("/payments/voucher/").status_code == 302


def test_issue_voucher_prints_the_code_alone_on_the_last_line(hospital, holder):
    credit(holder, 5_000)
    out = StringIO()
    call_command("issue_voucher", holder.id_number, stdout=out)
    code = out.getvalue().strip().splitlines()[-1]
    assert re.fullmatch(r"\d{18}", code)
    assert hospital.settle(code, 1_000).status_code == 201


def test_issue_voucher_explains_a_bad_id_number(db):
    with pytest.raises(CommandError, match="18 characters"):
        call_command("issue_voucher", "12345")
    with pytest.raises(CommandError, match="No insured person"):
        call_command("issue_voucher", make_id())
