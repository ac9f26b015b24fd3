"""The elderly-assist counter in Debian's chromium: an assistant finds an elderly man by name and
birth date, binds his son with documents, sets a monthly cap and prints the receipt; pays the
son's resident premium from the father's account after a confirmation page (Back keeps what was
typed; a second confirmation from another tab pays nothing more).

Screenshots go to test-artifacts/screenshots/counter-*.png; the printed receipt (A4 PDF from the
print style sheet) to test-artifacts/counter-receipt.pdf and, rendered, counter-receipt-pdf-*.png.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from accounts.models import Office, Region, Role, User
from pooling.models import Binding, BindingStatus
from portal.models import CounterAction
from tests.conftest import HAIKOU, make_person
from tests.e2e.test_foundation_journey import (
    SHOTS,
    Watched,
    assert_accessible_basics,
    assert_age_friendly,
    assert_standard_targets,
)

from ..pooling.conftest import credit

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Counter-Desk-2026"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from tests.e2e.test_foundation_journey import CHROMIUM_ARGS

    playwright_sync = pytest.importorskip("playwright.sync_api")
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def window(chromium: Any) -> Iterator[Watched]:
    # English: Debian's chromium here has no CJK font, and the screenshots must be readable.
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.add_cookies([{"name": "django_language", "value": "en", "url": "http://localhost"}])
    yield Watched(context.new_page())
    context.close()


@pytest.fixture
def desk(transactional_db: Any) -> dict[str, Any]:
    from pooling.guide_data import seed_guides
    from pooling.models import Guide, GuideStep

    seed_guides(Guide, GuideStep, Region)  # the flush of a transactional test removed the migration's rows
    office = Office.objects.create(name="Haikou service hall, elderly-assist counter",
                                   region=Region.objects.get(pk=HAIKOU), address="1 Haifu Road, Haikou")
    assistant = User(username="HK0107", role=Role.COUNTER, office=office, first_name="陈", last_name="帮办")
    assistant.set_password(PASSWORD)
    assistant.save()
    father = make_person("Zhao Jianguo", birth="1942-04-08", sex="M", phone="13900000011")
    son = make_person("Zhao Ming", birth="1970-06-01", sex="M", scheme="resident", phone="13900000012")
    credit(father, 300_000)
    return {"assistant": assistant, "father": father, "son": son}


def shot(w: Watched, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    w.shot(f"counter-{name}")


def _log_in_with_code(page: Any) -> None:
    """Password, then the code of the assistant's authenticator (the second factor every staff log-in asks)."""
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user__username="HK0107").first() or TOTPDevice.objects.create(
        user=User.objects.get(username="HK0107"), name="authenticator", confirmed=True)
    page.fill("#id_username", "HK0107")
    page.fill("#id_password", PASSWORD)
    page.click("main [type=submit]")
    page.wait_for_url("**/accounts/second-factor/**")
    page.fill("#id_code", f"{totp(device.bin_key):06d}")
    page.click("main [type=submit]")


def test_an_assistant_binds_an_elderly_mans_son_with_documents_sets_a_cap_and_prints_the_receipt(
        live_server, window, desk):
    w, page, base = window, window.page, live_server.url
    father, son = desk["father"], desk["son"]
    page.goto(base + "/accounts/login/")
    _log_in_with_code(page)
    page.goto(base + "/counter/")
    assert_accessible_basics(w, "the counter's look-up page")
    shot(w, "1-lookup")

    # Found by name and birth date, with a reason.
    form = page.locator("#lookup-name")
    form.locator("#id_by_name-name").fill("zhao jianguo")
    form.locator("#id_by_name-birth_date").fill("1942-04-08")
    form.locator("#id_by_name-reason").select_option("in_person")
    form.locator("[type=submit]").click()
    page.wait_for_url(f"**/counter/person/{father.pk}/")
    body = page.inner_text("main")
    assert "Zhao Jianguo" in body and father.masked_id_number in body and father.id_number not in body
    assert "The person is at the counter and asks for help" in body
    shot(w, "2-person")

    # His son, present with his documents: consent recorded on the spot.
    page.click("text=Add a relative for this person")
    page.fill("#id_id_number", son.id_number)
    page.fill("#id_name", son.name)
    page.select_option("#id_relationship", "child")
    page.check("#id_record_consent")
    numbers = [father.id_number, son.id_number, "H46010012345678", "460100-0123-04"]
    for i, number in enumerate(numbers):
        page.fill(f"#id_doc-{i}-number", number)
    page.click("#counter-check")
    assert "can be added" in page.inner_text("#eligibility-answer")
    shot(w, "3-propose-checked")
    page.click("#counter-confirm")
    page.wait_for_url("**/receipt/*/")
    binding = Binding.objects.get()
    assert binding.status == BindingStatus.ACTIVE and binding.beneficiary == son
    assert "Family pooling set up with consent recorded" in page.inner_text("main")

    # A monthly cap of ¥500 from the person page.
    page.goto(base + f"/counter/person/{father.pk}/")
    page.click("#counter-pooling a[href$='/limits/']")
    page.fill("#id_monthly", "500")
    page.fill("#id_doc-0-number", father.id_number)
    shot(w, "4-limits")
    page.click("#counter-submit")
    page.wait_for_url("**/receipt/*/")
    assert Binding.objects.get().monthly_cap_fen == 50_000
    action = CounterAction.objects.get(kind="limits")

    receipt = page.inner_text("main")
    for text in (action.receipt_number, "Haikou service hall, elderly-assist counter", "HK0107", "Spending limits set",
                 "per month ¥500.00", "Signature of the citizen", "Next time on your phone", father.masked_id_number):
        assert text in receipt, text
    assert father.id_number not in page.content()
    assert page.is_visible("#print-receipt"), "the print button appears when JavaScript runs"
    assert_accessible_basics(w, "the receipt")
    shot(w, "5-receipt")
    assert not w.csp_violations and not w.errors, (w.csp_violations, w.errors)

    # Shown to the citizen on a phone in large text, in both languages: nothing sticks out sideways.
    receipt_url = page.url
    page.set_viewport_size({"width": 360, "height": 800})
    for language in ("zh-hans", "en"):
        page.context.add_cookies([{"name": "django_language", "value": language, "url": base},
                                  {"name": "age_friendly", "value": "1", "url": base}])
        page.goto(receipt_url)
        assert "age-friendly" in (page.get_attribute("body", "class") or "")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (
            f"the receipt scrolls sideways at 360px in large text ({language}): "
            f"{page.evaluate('document.documentElement.scrollWidth')}px wide")
        assert action.receipt_number in page.inner_text("main")
        shot(w, f"5b-receipt-large-phone-{language}")
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": base},
                              {"name": "age_friendly", "value": "0", "url": base}])
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(receipt_url)

    # What the printer gets: A4, large print, no navigation.
    page.emulate_media(media="print")
    assert not page.is_visible(".site-header") and not page.is_visible("#print-receipt")
    # At least 13 pt (17.3 px) on paper, where ordinary forms use 10 to 11 pt.
    assert page.evaluate("parseFloat(getComputedStyle(document.querySelector('.receipt')).fontSize)") >= 17
    shot(w, "6-receipt-print-media")
    pdf = SHOTS.parent / "counter-receipt.pdf"
    page.pdf(path=str(pdf), format="A4", prefer_css_page_size=True, print_background=False)
    assert pdf.stat().st_size > 5_000
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "70", str(pdf), str(SHOTS / "counter-receipt-pdf")], check=True)
        pages = sorted(SHOTS.glob("counter-receipt-pdf-*.png"))
        assert len(pages) == 1, "the receipt fits on one A4 page"


def test_an_assistant_checks_a_premium_payment_with_the_person_before_paying_it(live_server, window, desk):
    from payments import ledger
    from payments.models import PremiumPayment
    from payments.premiums import premium_amount, premium_year
    from portal.templatetags.portal_tags import format_fen
    from tests.pooling.conftest import make_binding

    w, page, base = window, window.page, live_server.url
    father, son = desk["father"], desk["son"]
    make_binding(father, son, "child")
    amount, year = premium_amount(son), premium_year()
    page.goto(base + "/accounts/login/")
    _log_in_with_code(page)
    page.goto(base + f"/counter/person/{father.pk}/")
    page.click("#counter-payments a:has-text('Pay on their behalf')")
    page.fill("#id_doc-0-number", father.id_number)
    page.click("#counter-submit")

    # The confirmation: who pays, for whom, what, how much, from which account, the balance after.
    page.wait_for_selector("[data-testid=premium-confirm]")
    facts = page.inner_text("[data-testid=premium-confirm]")
    for text in (f"Zhao Jianguo ({father.masked_id_number})", f"Zhao Ming ({son.masked_id_number}) · Child",
                 f"Urban-rural resident insurance premium for {year}", format_fen(amount),
                 "Medical-insurance personal account of Zhao Jianguo", "¥3,000.00",
                 format_fen(300_000 - amount)):
        assert text in facts, text
    assert father.id_number not in page.content() and son.id_number not in page.content()
    assert not PremiumPayment.objects.exists()
    assert_accessible_basics(w, "the premium confirmation")
    assert_standard_targets(w, "the premium confirmation")
    shot(w, "8-premium-confirm-en")

    # Back: the documents as typed; then on to the confirmation again.
    page.click("#counter-back")
    page.wait_for_selector("#counter-submit")
    assert page.input_value("#id_doc-0-number") == father.id_number and not PremiumPayment.objects.exists()
    page.click("#counter-submit")
    page.wait_for_selector("#counter-confirm")

    # The same confirmation open in a second tab, in Chinese (the default language of the site).
    w.page.context.add_cookies([{"name": "django_language", "value": "zh-hans", "url": base}])
    other = Watched(page.context.new_page())
    other.page.goto(base + f"/counter/person/{father.pk}/")
    other.page.click("#counter-payments a.btn-primary")
    other.page.fill("#id_doc-0-number", father.id_number)
    other.page.click("#counter-submit")
    other.page.wait_for_selector("#counter-confirm")
    zh = other.page.inner_text("main")
    for text in ("核对保费缴纳信息", "尚未缴费", f"{year} 年度城乡居民医保保费", "Zhao Jianguo的医保个人账户",
                 f"确认并缴纳 {format_fen(amount)}", "返回"):
        assert text in zh, text
    assert_accessible_basics(other, "the premium confirmation in Chinese")
    SHOTS.mkdir(parents=True, exist_ok=True)
    other.shot("counter-9-premium-confirm-zh")
    # In large text on a phone-sized window, after going back once (what was typed is kept).
    page.context.add_cookies([{"name": "age_friendly", "value": "1", "url": base}])
    other.page.set_viewport_size({"width": 390, "height": 844})
    other.page.click("#counter-back")
    other.page.click("#counter-submit")
    other.page.wait_for_selector("#counter-confirm")
    assert_age_friendly(other, "the premium confirmation in large text")
    assert_accessible_basics(other, "the premium confirmation in large text on a phone")
    other.shot("counter-9b-premium-confirm-zh-large-phone")
    other.page.set_viewport_size({"width": 1280, "height": 900})  # the counter's own screen again

    # Confirm: paid once, with a receipt.
    page.click("#counter-confirm")
    page.wait_for_url("**/receipt/*/")
    assert PremiumPayment.objects.get().amount_fen == amount
    assert ledger.balance_of(father) == 300_000 - amount
    shot(w, "10-premium-receipt")

    # Confirming again from the other tab pays nothing more and shows the first receipt.
    other.page.click("#counter-confirm")
    other.page.wait_for_url("**/receipt/*/")
    assert "该保费已缴纳" in other.page.inner_text("main")
    assert PremiumPayment.objects.count() == 1 and CounterAction.objects.filter(kind="premium").count() == 1
    assert ledger.balance_of(father) == 300_000 - amount
    other.shot("counter-11-premium-paid-twice-zh")
    for watched in (w, other):
        assert not watched.csp_violations and not watched.errors, (watched.csp_violations, watched.errors)
    other.page.close()


def test_without_javascript_the_receipt_says_how_to_print(chromium, live_server, desk):
    from tests.portal.counter_data import person_id

    context = chromium.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page = context.new_page()
    page.goto(live_server.url + "/accounts/login/")
    _log_in_with_code(page)
    father = desk["father"]
    page.goto(live_server.url + f"/counter/person/{father.pk}/voucher/")
    for name, value in person_id(father).items():
        if name.startswith("doc-0-"):
            field = page.locator(f"[name='{name}']")
            if name.endswith("present"):
                field.check()
            elif name.endswith("number"):
                field.fill(value)
            else:
                field.select_option(value)
    page.click("#counter-submit")
    assert not page.is_visible("#print-receipt")
    assert "Ctrl+P" in page.inner_text("main")
    assert len(page.inner_text("[data-testid=voucher-code]").replace(" ", "")) == 18
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "counter-7-voucher-no-js.png"), full_page=True)
    context.close()
