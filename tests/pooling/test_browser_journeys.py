"""Family pooling in Debian's chromium: propose → consent → active; a refusal with every reason;
the public checker; both dashboards in the age-friendly mode. Screenshots go to
test-artifacts/screenshots/pooling-*.png.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import CHROMIUM, SANYA, make_citizen, make_person
from tests.e2e.test_foundation_journey import (
    CHROMIUM_ARGS,
    SHOTS,
    Watched,
    assert_accessible_basics,
    assert_age_friendly,
    assert_standard_targets,
)

from .conftest import credit

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Sunny-Garden-2026"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    playwright_sync = pytest.importorskip("playwright.sync_api")
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def window(chromium: Any) -> Iterator[Watched]:
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.add_cookies([{"name": "django_language", "value": "en", "url": "http://localhost"}])
    yield Watched(context.new_page())
    context.close()


@pytest.fixture
def family(guides: None) -> dict[str, Any]:
    holder = make_person("张伟", birth="1975-03-12", sex="M", phone="13800000001")
    mother = make_person("李秀英", birth="1948-09-30", sex="F", scheme="resident", phone="13800000002")
    make_citizen(holder, password=PASSWORD)
    make_citizen(mother, password=PASSWORD)
    credit(holder, 12_000)
    return {"holder": holder, "mother": mother}


def shot(w: Watched, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    w.shot(f"pooling-{name}")


def log_in(w: Watched, base: str, person: Any) -> None:
    page = w.page
    page.context.clear_cookies()
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": base}])
    page.goto(base + "/accounts/login/")
    page.fill("#id_username", person.id_number)
    page.fill("#id_password", PASSWORD)
    page.click("main [type=submit]")
    page.wait_for_url("**/dashboard/")


def test_holder_proposes_relative_consents_and_holder_sees_it_active(live_server, window, family):
    w, page, base = window, window.page, live_server.url
    holder, mother = family["holder"], family["mother"]
    log_in(w, base, holder)
    assert "0 of 6 used, 0 pending" in page.inner_text("#pooling-holder")
    page.click("text=Add a relative")
    page.wait_for_url("**/pooling/add/")
    assert_accessible_basics(w, "the propose page")
    page.fill("#id_id_number", mother.id_number)
    page.fill("#id_name", "李秀英")
    page.select_option("#id_relationship", "parent")
    page.click("main [type=submit]")
    assert "Yes, this relative can be added." in page.inner_text("#eligibility-answer")
    shot(w, "01-propose-answer")
    assert "Personal pledge" in page.inner_text("#pooling-pledge")
    page.check("#pledge-tick")
    page.click("#send-request")
    page.wait_for_url("**/dashboard/")
    assert "1 of 6 used, 1 pending" in page.inner_text("#pooling-holder")
    shot(w, "02-holder-pending")

    log_in(w, base, mother)
    requests = page.inner_text("[data-testid=requests]")
    assert "张伟 (your son)" in requests
    shot(w, "03-mother-request")
    page.click("[data-testid=requests] a")
    assert_accessible_basics(w, "the consent page")
    shot(w, "04-consent-page")
    page.click("#consent-yes")
    page.wait_for_url("**/dashboard/")
    preview = page.inner_text("[data-testid=preview]")
    assert "¥120.00 from 张伟 (your son)" in preview and "¥180.00 paid by you" in preview
    shot(w, "05-mother-active")

    log_in(w, base, holder)
    row = page.inner_text("[data-testid=holder-relatives]")
    assert "李秀英" in row and "Active" in row and mother.id_number not in row
    assert "1 of 6 used, 0 pending" in page.inner_text("#pooling-holder")
    shot(w, "06-holder-active")
    assert w.csp_violations == [] and w.errors == []


def test_a_proposal_is_refused_with_all_its_reasons(live_server, window, family):
    w, page, base = window, window.page, live_server.url
    sister = make_person("张敏", region=SANYA, birth="1980-11-11", sex="F", scheme="resident", status="suspended")
    log_in(w, base, family["holder"])
    page.goto(base + "/pooling/add/")
    page.fill("#id_id_number", sister.id_number)
    page.fill("#id_name", "张敏")
    page.select_option("#id_relationship", "sibling")
    page.click("main [type=submit]")
    reasons = page.locator(".reason[data-code]")
    codes = [reasons.nth(i).get_attribute("data-code") for i in range(reasons.count())]
    assert codes == ["candidate_not_active", "outside_region"]
    text = page.inner_text("#eligibility-answer")
    assert "these 2 reasons" in text and "What you can do:" in text
    assert page.locator("#send-request").count() == 0
    shot(w, "07-refused-with-reasons")
    assert w.csp_violations == [] and w.errors == []


def test_the_public_checker_answers_and_ends_with_the_guides(live_server, window, guides):
    w, page, base = window, window.page, live_server.url
    page.goto(base + "/")
    page.click("header >> text=Who can I add?")
    page.wait_for_url("**/pooling/check/")
    assert_accessible_basics(w, "the checker")
    assert_standard_targets(w, "the checker")
    page.fill("#id_my_region", "460100")
    page.select_option("#id_relationship", "parent")
    page.fill("#id_relative_region", "460200")
    page.fill("#id_relative_age", "78")
    page.click("main [type=submit]")
    assert "only with relatives insured in" in page.inner_text("#eligibility-answer")
    shot(w, "08-checker-refused")
    page.click("summary")
    page.fill("#id_relative_region", "")
    page.click("main form [type=submit]")
    assert "Yes, this relative can be added." in page.inner_text("#eligibility-answer")
    shot(w, "09-checker-ok")
    page.click("aside >> text=海南医保")
    page.wait_for_url("**/pooling/guides/regional_app/**")
    assert "创建家庭共济" in page.inner_text("main")
    page.click("text=Large-print version")
    shot(w, "10-guide-large-print")
    assert w.csp_violations == [] and w.errors == []


def test_both_dashboards_in_the_age_friendly_mode(live_server, window, family):
    from pooling.models import BindingStatus

    from .conftest import make_binding

    w, page, base = window, window.page, live_server.url
    holder, mother = family["holder"], family["mother"]
    son = make_person("张小明", birth="2016-04-01", sex="M", scheme="resident", phone="")
    make_binding(holder, mother, monthly_cap_fen=50_000)
    make_binding(holder, son, "child", status=BindingStatus.PENDING)
    log_in(w, base, holder)
    page.click("#toggle-age-friendly")
    page.wait_for_load_state()
    assert_age_friendly(w, "the holder's dashboard")
    assert_accessible_basics(w, "the holder's dashboard")
    shot(w, "11-holder-age-friendly")
    log_in(w, base, mother)
    page.click("#toggle-age-friendly")
    page.wait_for_load_state()
    assert_age_friendly(w, "the relative's dashboard")
    shot(w, "12-mother-age-friendly")
    page.goto(base + "/pooling/order/")
    assert_age_friendly(w, "the order page")
    shot(w, "13-order-age-friendly")
    assert w.csp_violations == [] and w.errors == []


def test_pooling_pages_fit_a_phone_in_the_age_friendly_mode(live_server, chromium, family):
    from pooling.models import BindingStatus

    from .conftest import make_binding

    context = chromium.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                   has_touch=True, locale="en-GB")
    w = Watched(context.new_page())
    base = live_server.url
    holder, mother = family["holder"], family["mother"]
    make_binding(holder, mother, monthly_cap_fen=50_000)
    make_binding(holder, make_person("张小明", birth="2016-04-01", sex="M", scheme="resident", phone=""), "child",
                 status=BindingStatus.PENDING)
    try:
        log_in(w, base, holder)
        w.page.click("#toggle-age-friendly")
        w.page.wait_for_load_state()
        for path, name in [("/dashboard/", "dashboard"), ("/pooling/add/", "propose"), ("/pooling/check/", "checker"),
                           ("/pooling/guides/", "guides"), ("/pooling/questions/", "faq"),
                           ("/pooling/how-to/", "how-to")]:
            w.page.goto(base + path)
            assert_accessible_basics(w, f"{path} at 390px, age-friendly")
            assert_age_friendly(w, f"{path} at 390px")
            shot(w, f"20-phone-{name}")
        assert w.csp_violations == [] and w.errors == []
    finally:
        context.close()


def test_a_counter_assistant_sets_up_pooling_for_two_people_present(live_server, window, family):
    from accounts.models import Office, Region, Role, User

    w, page, base = window, window.page, live_server.url
    holder, mother = family["holder"], family["mother"]
    office = Office.objects.create(name="海口市医保服务大厅适老化窗口", region=Region.objects.get(pk="460100"))
    assistant = User(username="counter1", role=Role.COUNTER, office=office, first_name="陈")
    assistant.set_password(PASSWORD)
    assistant.save()
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=assistant, name="authenticator", confirmed=True)
    page.goto(base + "/accounts/login/")
    page.fill("#id_username", "counter1")
    page.fill("#id_password", PASSWORD)
    page.click("main [type=submit]")
    page.goto(base + "/counter/")
    page.wait_for_url("**/accounts/second-factor/**")
    page.fill("#id_code", f"{totp(device.bin_key):06d}")
    page.click("main [type=submit]")
    page.wait_for_url("**/counter/")
    page.fill("#id_by_id-id_number", holder.id_number)
    page.select_option("#id_by_id-reason", "in_person")
    page.click("#lookup-id [type=submit]")
    page.wait_for_url("**/counter/person/**")
    page.click("text=Add a relative for this person")
    page.fill("#id_id_number", mother.id_number)
    page.fill("#id_name", "李秀英")
    page.select_option("#id_relationship", "parent")
    page.check("#id_record_consent")
    for i, number in enumerate([holder.id_number, mother.id_number, "H46010012345", "460100-0123-4"]):
        page.fill(f"#id_doc-{i}-number", number)
    page.click("#counter-check")
    assert "Yes, this relative can be added." in page.inner_text("#eligibility-answer")
    shot(w, "30-counter-check")
    page.click("#counter-confirm")
    page.wait_for_url("**/receipt/**")
    page.goto(base + f"/counter/person/{holder.pk}/")
    section = page.inner_text("#counter-pooling")
    assert "李秀英" in section and "Active" in section and mother.id_number not in section
    shot(w, "31-counter-person-active")
    assert w.csp_violations == [] and w.errors == []
