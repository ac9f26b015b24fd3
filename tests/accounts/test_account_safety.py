"""Account safety: changing the password, and confirming with it before paying a premium or
changing how the portal reaches you."""

from __future__ import annotations

import datetime
import html
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from payments.models import PremiumPayment
from payments.premiums import premium_year
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW = "Quiet-River-2026"

TEXTS = {
    "en": {"change": "Change my password", "changed": "Your password has been changed.",
           "wrong_old": "Your old password was entered incorrectly.", "confirm": "Confirm with your password",
           "first": "For your safety, please confirm with your password first, then do it again.",
           "wrong": "The password is not correct. Please try again.",
           "back_to_payment": "For your safety, please confirm with your password first. Then you come back to this "
                              "payment."},
    "zh-hans": {"change": "修改密码", "changed": "您的密码已修改。", "wrong_old": "旧密码", "confirm": "输入密码确认",
                "first": "为了您的安全，请先输入密码确认，然后再操作一次。", "wrong": "密码不正确，请重试。",
                "back_to_payment": "为了您的安全，请先输入密码确认，随后回到本次缴费。"},
}


def _client(language: str) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_citizen_changes_their_password(language, holder):
    client = _client(language)
    client.force_login(holder.user)
    texts = TEXTS[language]
    page = client.get(reverse("accounts:password-change")).content.decode()
    assert texts["change"] in page and 'name="old_password"' in page
    wrong = client.post(reverse("accounts:password-change"),
                        {"old_password": "not-it", "new_password1": NEW, "new_password2": NEW})
    assert wrong.status_code == 200 and texts["wrong_old"] in wrong.content.decode()
    response = client.post(reverse("accounts:password-change"),
                           {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:preferences")
    assert texts["changed"] in client.get(response["Location"]).content.decode()
    assert client.get(reverse("portal:dashboard")).status_code == 200  # still logged in
    holder.user.refresh_from_db()
    assert holder.user.check_password(NEW) and not holder.user.check_password(PASSWORD)
    assert AuditEvent.objects.filter(action="account.password_changed", on_behalf_of=holder).exists()


def test_the_password_change_page_needs_a_log_in(client, db):
    response = client.get(reverse("accounts:password-change"))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


@pytest.fixture
def premium_ready(holder, mother):
    from accounts.models import RegionPolicy
    from tests.payments.conftest import bind, credit

    RegionPolicy.objects.create(region_id="460100", effective_from=datetime.date(2021, 1, 1), resident_premium_fen=38_000)
    credit(holder, 100_000)
    bind(holder, mother, "parent")


def _payment_page(relative, year) -> str:
    return f"{reverse('payments:premium-pay')}?{urlencode({'relative': relative.pk, 'year': year})}"


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_paying_a_premium_asks_for_the_password_first(language, holder, mother, premium_ready):
    client = _client(language)
    client.force_login(holder.user)
    texts = TEXTS[language]
    pay = {"relative": mother.pk, "year": premium_year()}
    response = client.post(reverse("payments:premium-pay"), pay)
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:reauth"))
    assert not PremiumPayment.objects.exists()
    page = client.get(response["Location"]).content.decode()
    assert texts["confirm"] in page and texts["back_to_payment"] in page
    wrong = client.post(reverse("accounts:reauth"), {"password": "not-it", "next": reverse("payments:premiums")})
    assert texts["wrong"] in wrong.content.decode()
    assert client.post(reverse("payments:premium-pay"), pay)["Location"].startswith(reverse("accounts:reauth"))
    confirmed = client.post(reverse("accounts:reauth"), {"password": PASSWORD, "next": reverse("payments:premiums")})
    assert confirmed.status_code == 302 and confirmed["Location"] == reverse("payments:premiums")
    preview = client.post(reverse("payments:premium-pay"), pay)
    assert preview.status_code == 200 and not PremiumPayment.objects.exists()  # what will happen, then confirm
    response = client.post(reverse("payments:premium-pay"), {**pay, "confirm": "yes"})
    assert response.status_code == 302 and "/payments/premiums/" in response["Location"]
    assert PremiumPayment.objects.filter(payer=holder, relative=mother).count() == 1
    # Five minutes later the confirmation has lapsed.
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=settings.REAUTH_SECONDS + 1)):
        assert client.post(reverse("payments:premium-pay"), pay)["Location"].startswith(reverse("accounts:reauth"))


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_after_the_password_the_citizen_is_back_on_the_payment_they_were_making(language, holder, mother,
                                                                               premium_ready):
    from tests.conftest import make_person
    from tests.payments.conftest import bind

    father = make_person("张建华", birth="1946-02-03", sex="M", scheme="resident")
    bind(holder, father, "parent")
    client = _client(language)
    client.force_login(holder.user)  # not a password log-in: the password is asked for
    year = premium_year()
    here = _payment_page(father, year)  # the second relative of the list, not the first

    response = client.post(reverse("payments:premium-pay"), {"relative": father.pk, "year": year})
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == reverse("accounts:reauth") and parse_qs(location.query)["next"] == [here]
    page = client.get(response["Location"]).content.decode()
    assert TEXTS[language]["back_to_payment"] in page
    assert f'name="next" value="{html.escape(here)}"' in page
    # Cancel leaves the payment (the payment page would only ask for the password again).
    assert f'<a href="{reverse("payments:premiums")}">' in page
    confirmed = client.post(reverse("accounts:reauth"), {"password": PASSWORD, "next": here})
    assert confirmed.status_code == 302 and confirmed["Location"] == here

    # The same payment, with its choices: the relative, the year, the amount.
    payment_page = client.get(confirmed["Location"])
    assert payment_page.status_code == 200 and not PremiumPayment.objects.exists()
    content = payment_page.content.decode()
    assert "张建华" in content and father.masked_id_number in content and "李秀英" not in content
    assert f'data-testid="confirm-year">{year}<' in content and "¥380.00" in content
    assert f'name="relative" value="{father.pk}"' in content and f'name="year" value="{year}"' in content
    response = client.post(reverse("payments:premium-pay"), {"relative": father.pk, "year": year, "confirm": "yes"})
    paid = PremiumPayment.objects.get()
    assert (paid.relative, paid.year) == (father, year)
    assert response["Location"] == reverse("payments:premium-receipt", args=[paid.pk])
    # Confirmed twice (a double click): paid once, and the receipt again.
    again = client.post(reverse("payments:premium-pay"), {"relative": father.pk, "year": year, "confirm": "yes"})
    assert again["Location"] == reverse("payments:premium-receipt", args=[paid.pk])
    assert PremiumPayment.objects.count() == 1


def test_a_lapsed_confirmation_returns_to_the_payment_page_not_the_list(holder, mother, premium_ready):
    client = _client("en")
    client.force_login(holder.user)
    year = premium_year()
    client.post(reverse("accounts:reauth"), {"password": PASSWORD})
    assert client.get(_payment_page(mother, year)).status_code == 200  # the page with what will happen
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=settings.REAUTH_SECONDS + 1)):
        response = client.post(reverse("payments:premium-pay"), {"relative": mother.pk, "year": year, "confirm": "yes"})
    assert parse_qs(urlsplit(response["Location"]).query)["next"] == [_payment_page(mother, year)]
    assert not PremiumPayment.objects.exists()


def test_the_payment_page_names_only_relatives_on_the_citizens_list(holder, mother, outsider, premium_ready):
    client = _client("en")
    client.force_login(holder.user)
    client.post(reverse("accounts:reauth"), {"password": PASSWORD})
    response = client.get(_payment_page(outsider, premium_year()), follow=True)
    assert response.redirect_chain[-1][0] == reverse("payments:premiums")
    assert outsider.name not in response.content.decode() and outsider.masked_id_number not in response.content.decode()


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/payments/", "/\\evil.example/",
                                    "javascript:alert(1)", "http://testserver.evil.example/"])
def test_the_password_page_goes_back_only_to_this_site(holder, target):
    client = _client("en")
    client.force_login(holder.user)
    page = client.get(reverse("accounts:reauth"), {"next": target}).content.decode()
    dashboard = reverse("portal:dashboard")
    assert f'name="next" value="{dashboard}"' in page  # where the form goes back to
    assert f'<a href="{dashboard}">Cancel</a>' in page
    cancel = client.get(reverse("accounts:reauth"), {"next": "/payments/premiums/", "cancel": target}).content.decode()
    assert '<a href="/payments/premiums/">Cancel</a>' in cancel  # a foreign cancel link is not used either
    response = client.post(reverse("accounts:reauth"), {"password": PASSWORD, "next": target})
    assert response.status_code == 302 and response["Location"] == reverse("portal:dashboard")


def test_a_confirmation_cannot_send_people_to_another_site(holder):
    client = _client("en")
    client.force_login(holder.user)
    response = client.post(reverse("accounts:reauth"), {"password": PASSWORD, "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == reverse("portal:dashboard")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_changing_notification_channels_asks_for_the_password_but_the_language_does_not(language, holder):
    client = _client(language)
    client.force_login(holder.user)
    user = holder.user
    response = client.post(reverse("accounts:preferences"), {"language": language, "notify_sms": "on"})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:preferences")  # nothing changed
    response = client.post(reverse("accounts:preferences"),
                           {"language": language, "notify_email": "on", "email": "zhang@example.com"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:reauth"))
    user.refresh_from_db()
    assert (user.notify_sms, user.notify_email, user.email) == (True, False, "")
    assert TEXTS[language]["first"] in client.get(response["Location"]).content.decode()
    client.post(reverse("accounts:reauth"), {"password": PASSWORD})
    response = client.post(reverse("accounts:preferences"),
                           {"language": language, "notify_email": "on", "email": "zhang@example.com"})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:preferences")
    user.refresh_from_db()
    assert (user.notify_sms, user.notify_email, user.email) == (False, True, "zhang@example.com")


def test_a_password_log_in_counts_as_a_fresh_confirmation(holder):
    client = _client("en")
    client.post(reverse("accounts:login"), {"username": holder.id_number, "password": PASSWORD})
    response = client.post(reverse("accounts:preferences"), {"language": "en"})  # SMS off
    assert response["Location"] == reverse("accounts:preferences")
    holder.user.refresh_from_db()
    assert holder.user.notify_sms is False


def test_password_guesses_on_the_confirmation_page_are_limited(holder, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "reauth_per_user": "2/h"}
    client = _client("en")
    client.force_login(holder.user)
    statuses = [client.post(reverse("accounts:reauth"), {"password": "guess"}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
