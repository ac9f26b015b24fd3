"""Bureau staff in Debian's chromium: a clerk enrols an authenticator and logs in with it; a clerk
lowers a region's maximum and sees whom it touches; a reviewer rejects a flagged binding and both
people read why in their inbox; the overview's charts of a region with data.

Screenshots go to test-artifacts/screenshots/staff-*.png.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from accounts import scoping
from accounts.models import Region, RegionPolicy
from pooling.models import Binding, BindingStatus
from tests.conftest import HAIKOU, PASSWORD, SANYA, make_bureau_staff, make_citizen, make_person
from tests.e2e.test_foundation_journey import SHOTS, Watched, assert_accessible_basics

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from tests.e2e.test_foundation_journey import CHROMIUM_ARGS

    playwright_sync = pytest.importorskip("playwright.sync_api")
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def new_window(chromium: Any, language: str = "en") -> Watched:
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.add_cookies([{"name": "django_language", "value": language, "url": "http://localhost"}])
    w = Watched(context.new_page())
    w.missing = []  # type: ignore[attr-defined]
    w.page.on("response", lambda r: r.status == 404 and w.missing.append(r.url))  # type: ignore[attr-defined]
    return w


def clean(w: Watched) -> None:
    """No CSP violation, no script error, nothing missing."""
    assert not w.csp_violations
    assert not w.missing, w.missing  # type: ignore[attr-defined]
    assert not [e for e in w.errors if "404" not in e], w.errors


@pytest.fixture(autouse=True)
def _staff_groups(transactional_db: Any) -> None:
    """The staff groups (the flush of a transactional test removed the migration's rows)."""
    from django.apps import apps

    from portal.staff_groups import sync_staff_groups

    sync_staff_groups(apps)


@pytest.fixture
def window(chromium: Any) -> Iterator[Watched]:
    w = new_window(chromium)
    yield w
    w.page.context.close()


def shot(w: Watched, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    w.shot(f"staff-{name}")


def code_of(user: Any, ahead: int = 0) -> str:
    """What the clerk's authenticator app shows (``ahead`` steps later)."""
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user).order_by("-id").first()
    assert device is not None
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=ahead):06d}"


def password_step(page: Any, base: str, username: str, next_url: str = "/admin/") -> None:
    page.goto(f"{base}/accounts/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main [type=submit]")


def log_in(page: Any, base: str, user: Any, next_url: str = "/admin/") -> None:
    """Password, then the code of an authenticator the clerk already has."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    password_step(page, base, user.username, next_url)
    page.wait_for_url("**/accounts/second-factor/**")
    page.fill("#id_code", code_of(user))
    page.click("main [type=submit]")


def test_a_clerk_enrols_an_authenticator_and_logs_in_with_it(live_server, chromium, window):
    w, page, base = window, window.page, live_server.url
    clerk = make_bureau_staff("hk-clerk", HAIKOU, scoping.CITY_ADMINISTRATOR)
    password_step(page, base, "hk-clerk")
    page.wait_for_url("**/accounts/second-factor/enrol/**")
    assert page.locator("img[src^='data:image/svg+xml']").count() == 1  # the QR code, shown once
    assert_accessible_basics(w, "the enrolment page")
    shot(w, "1-totp-enrol")
    # The phone scanned the QR code: its app now shows the code of the secret.
    page.fill("#id_code", code_of(clerk))
    page.click("main [type=submit]")
    body = page.inner_text("main")
    assert "recovery" in body.lower()
    shot(w, "2-totp-recovery-codes")

    # Next day, a new browser: password, then the app's code, and /admin/ opens.
    later = new_window(chromium)
    try:
        password_step(later.page, base, "hk-clerk")
        later.page.wait_for_url("**/accounts/second-factor/**")
        assert "enrol" not in later.page.url
        later.page.fill("#id_code", "000000" if code_of(clerk, 1) != "000000" else "111111")
        later.page.click("main [type=submit]")
        assert "This code is not right" in later.page.inner_text("main")
        later.page.wait_for_timeout(2_500)  # after a wrong code the next one is checked a moment later
        later.page.fill("#id_code", code_of(clerk, 1))  # the next code (the first one was used)
        later.page.click("main [type=submit]")
        later.page.wait_for_url(f"{base}/admin/")
        assert "bureau administration" in later.page.inner_text("body")
        shot(later, "3-totp-logged-in")
        clean(later)
    finally:
        later.page.context.close()


def test_a_clerk_lowers_a_regions_maximum_and_sees_the_preview(live_server, window):
    w, page, base = window, window.page, live_server.url
    clerk = make_bureau_staff("hk-policy", HAIKOU, scoping.CITY_ADMINISTRATOR)
    holder = make_person("张伟", birth="1975-03-12", sex="M")
    for name, rel in (("甲", "parent"), ("乙", "sibling"), ("丙", "child")):
        Binding.objects.create(holder=holder, beneficiary=make_person(name, birth="1950-01-01"),
                               relationship=rel, status="active")
    policy = RegionPolicy.objects.create(region=Region.objects.get(pk=HAIKOU), max_beneficiaries=6)
    log_in(page, base, clerk, f"/admin/accounts/regionpolicy/{policy.pk}/change/")
    page.wait_for_url(f"**/admin/accounts/regionpolicy/{policy.pk}/change/")
    page.fill("#id_max_beneficiaries", "2")
    page.click("input[name=_save]")
    page.wait_for_selector("#policy-impact")
    impact = page.inner_text("#policy-impact")
    assert "Maximum lowered from 6 to 2 relatives" in impact
    policy.refresh_from_db()
    assert policy.max_beneficiaries == 6  # nothing saved before the confirmation
    shot(w, "4-policy-preview")
    page.click("text=Save the stricter rules")
    page.wait_for_url("**/admin/accounts/regionpolicy/")
    policy.refresh_from_db()
    assert policy.max_beneficiaries == 2
    shot(w, "5-policy-saved")
    clean(w)


def test_a_reviewer_rejects_a_flagged_binding_and_both_people_are_told(live_server, chromium, window):
    w, page, base = window, window.page, live_server.url
    reviewer = make_bureau_staff("hk-review", HAIKOU, scoping.CITY_ADMINISTRATOR)
    holder = make_person("张伟", birth="1975-03-12", sex="M")
    relative = make_person("李秀英", birth="1968-09-30", sex="F", scheme="resident")
    make_citizen(holder)
    make_citizen(relative)
    binding = Binding.objects.create(holder=holder, beneficiary=relative, relationship="parent", status="active",
                                     flagged_for_review=True, review_reasons=["age_gap"])
    log_in(page, base, reviewer, "/admin/pooling/binding/review/")
    page.wait_for_url("**/admin/pooling/binding/review/**")
    queue = page.inner_text("main") if page.locator("main").count() else page.inner_text("body")
    assert holder.masked_name in queue and relative.masked_name in queue
    shot(w, "6-review-queue")
    page.goto(base + "/admin/pooling/binding/?flagged_for_review__exact=1")
    page.check(f"input[name=_selected_action][value='{binding.pk}']")
    page.select_option("select[name=action]", "reject")
    page.click("button[name=index]")
    page.wait_for_selector("select[name=reason]")
    page.select_option("select[name=reason]", "ages")
    shot(w, "7-reject-reason")
    page.click("text=Reject and tell both people")
    page.wait_for_url("**/admin/pooling/binding/**")
    binding.refresh_from_db()
    assert binding.status == BindingStatus.ENDED
    assert "rejected" in page.inner_text("body")
    shot(w, "8-rejected")

    for number, person in (("9", holder), ("10", relative)):
        citizen = new_window(chromium, "zh-hans")
        try:
            citizen.page.goto(base + "/accounts/login/")
            citizen.page.fill("#id_username", person.id_number)
            citizen.page.fill("#id_password", PASSWORD)
            citizen.page.click("main [type=submit]")
            citizen.page.wait_for_url(f"{base}/dashboard/**")
            citizen.page.goto(base + "/accounts/inbox/")
            inbox = citizen.page.inner_text("main")
            assert "身份证号码中的年龄与此关系不符" in inbox or "年龄" in inbox, inbox[:500]
            shot(citizen, f"{number}-inbox-{'holder' if person == holder else 'relative'}")
        finally:
            citizen.page.context.close()


def test_the_overview_charts_of_a_region_with_data(live_server, window):
    from payments import ledger
    from payments.models import Institution, PremiumPayment, Settlement, SettlementSource

    w, page, base = window, window.page, live_server.url
    clerk = make_bureau_staff("hk-overview", HAIKOU, scoping.CITY_VIEWER)
    holder = make_person("张伟", birth="1975-03-12", sex="M")
    mother = make_person("李秀英", birth="1948-09-30", sex="F", scheme="resident")
    father = make_person("张父", birth="1946-01-01", sex="M")
    Binding.objects.create(holder=holder, beneficiary=mother, relationship="parent", status="active")
    Binding.objects.create(holder=holder, beneficiary=father, relationship="parent", status="active")
    Binding.objects.create(holder=holder, beneficiary=make_person("张妻", birth="1978-01-01", sex="F"),
                           relationship="spouse", status="pending")
    Binding.objects.create(holder=make_person("三亚人", region=SANYA), relationship="parent", status="active",
                           beneficiary=make_person("三亚母", region=SANYA, birth="1950-01-01"))
    pharmacy = Institution.objects.create(code="HK-P", name="海口药房", kind="pharmacy", region_id=HAIKOU)
    settlement = Settlement.objects.create(institution=pharmacy, patient=mother, category="pharmacy_drug",
                                           amount_fen=12_345, paid_fen=12_345, reference="r1")
    SettlementSource.objects.create(settlement=settlement, position=1, account=ledger.personal_account(holder),
                                    owner=holder, source="pooled", holder_masked="张*", amount_fen=12_345)
    PremiumPayment.objects.create(payer=holder, relative=mother, year=2026, amount_fen=40_000, channel="web")
    log_in(page, base, clerk, "/admin/overview/")
    page.wait_for_url("**/admin/overview/**")
    assert page.locator("svg").count() >= 4
    body = page.inner_text("body")
    assert "¥123.45" in body and "¥400.00" in body
    for section in ("by-region", "by-relationship", "new-bindings", "pooled-spending", "premiums", "institutions",
                    "statement-runs"):
        assert page.locator(f"#{section}").is_visible()
    assert "海口药房" in page.inner_text("#institutions ~ table") and "三亚母" not in body
    shot(w, "11-overview")
    clean(w)
