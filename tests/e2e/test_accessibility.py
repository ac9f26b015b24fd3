"""Accessibility to SPEC §7 measured in chromium, in the normal and the age-friendly mode.

On the main citizen pages and the counter's pages, from computed styles: text contrast (errors
included) >= 4.5:1, every link and control >= 44x44 px (60x60 in large text), a focus ring of
>= 3:1 against the page on every control, no sideways scrolling at 390 px and readable chart
text there. Plus the session time-out journey (the warning takes focus, "stay" keeps what was
typed), the pause-all confirmation page without JavaScript, no token in any URL, and valid
`datetime` attributes. Screenshots go to test-artifacts/screenshots/a11y-*.png.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.test import Client

from accounts.models import Notification, Office, Region, Role, User
from tests.conftest import CHROMIUM, HAIKOU, PASSWORD, login_staff, make_citizen, make_person

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
MONTH = "2025-10"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    playwright_sync = pytest.importorskip("playwright.sync_api")
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# -- The family: 张伟 (holder) shares his account with his mother 李秀英; money moved, a statement.

@pytest.fixture
def family(db: Any) -> dict[str, Any]:
    from payments.institutions import create_institution
    from statements.monthly import generate_statement
    from tests.payments.conftest import Api, bind, voucher_for
    from tests.payments.conftest import credit as credit_now
    from tests.statements.conftest import at, credit, open_account, pay

    holder = make_person("张伟", birth="1975-03-12", sex="M", phone="13800000001")
    holder_user = make_citizen(holder)
    mother = make_person("李秀英", birth="1948-09-30", sex="F", scheme="resident", phone="13800000002")
    mother_user = make_citizen(mother)
    binding = bind(holder, mother, "parent")
    account = open_account(holder)
    credit(holder, 50_000, at(1))
    pay(holder, holder, 8_000, "outpatient", at(3))
    pay(holder, mother, 12_000, "pharmacy_drug", at(10))
    generate_statement(account, __import__("datetime").date(2025, 10, 1))
    credit_now(holder, 100_000)
    with transaction.atomic():
        institution, key = create_institution("H001", "海口市人民医院", "hospital", "460100")
    hospital = Api(institution, key)
    hospital.settle(voucher_for(mother), 4_200, "outpatient")  # may be refused by the rules: fine
    assert hospital.settle(voucher_for(holder), 1_800).status_code == 201, "the holder pays for himself"
    Notification.objects.create(person=holder, kind="binding_active", subject="已开通", body="李秀英可以使用您的个人账户。")
    office = Office.objects.create(name="海口市医保服务大厅适老化窗口", region=Region.objects.get(pk=HAIKOU))
    assistant = User(username="HK0107", role=Role.COUNTER, office=office, first_name="陈", last_name="帮办")
    assistant.set_password(PASSWORD)
    assistant.save()
    return {"holder": holder, "mother": mother, "holder_user": holder_user, "mother_user": mother_user, "binding": binding, "assistant": assistant}


def _session_cookie(user: User, base: str, staff: bool = False) -> dict[str, Any]:
    client = Client()
    if staff:
        login_staff(client, user)
    else:
        client.force_login(user)
    value = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    return {"name": django_settings.SESSION_COOKIE_NAME, "value": value, "url": base}


def _context(browser: Any, base: str, *, age_friendly: bool, width: int = 1280, user: User | None = None,
             staff: bool = False, javascript: bool = True) -> Any:
    phone = width < 500
    context = browser.new_context(
        viewport={"width": width, "height": 844 if phone else 900}, locale="zh-CN", java_script_enabled=javascript,
        device_scale_factor=2 if phone else 1, is_mobile=phone, has_touch=phone,
    )
    cookies = [{"name": "age_friendly", "value": "1" if age_friendly else "0", "url": base}]
    if user is not None:
        cookies.append(_session_cookie(user, base, staff))
    context.add_cookies(cookies)
    return context


def _shot(page: Any, name: str, full_page: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"a11y-{name}.png"), full_page=full_page)


def _citizen_pages(family: dict[str, Any]) -> list[tuple[str, str]]:
    pk = family["binding"].pk
    return [
        ("home", "/"), ("dashboard", "/dashboard/"), ("relative", f"/pooling/relative/{pk}/"),
        ("propose", "/pooling/add/"), ("limits", f"/pooling/relative/{pk}/limits/"),
        ("pause-all", "/pooling/pause-all/"),
        ("spending", "/payments/spending/"), ("my-payments", "/payments/my-payments/"),
        ("voucher", "/payments/voucher/"), ("statements", "/statements/"), ("statement", f"/statements/{MONTH}/"),
        ("inbox", "/accounts/inbox/"), ("preferences", "/accounts/preferences/"),
        ("checker", "/pooling/check/"), ("guides", "/pooling/guides/"), ("faq", "/pooling/questions/"),
    ]


# -- Measurements from computed styles -------------------------------------------------------------

MEASURE_JS = r"""(args) => {
  const minSize = args.minSize;
  function parse(c) {
    const m = c.match(/rgba?\(([^)]+)\)/);
    if (!m) return [0, 0, 0, 0];
    const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  }
  function over(top, bottom) {
    const a = top[3];
    return [0, 1, 2].map(i => top[i] * a + bottom[i] * (1 - a)).concat([1]);
  }
  function background(el) {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] >= 1) break;
    }
    let bg = [255, 255, 255, 1];
    for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
    return bg;
  }
  function lum(c) {
    const v = c.slice(0, 3).map(x => { x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
  }
  function ratio(a, b) { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); }
  function shown(el) {
    const r = el.getBoundingClientRect();
    if (r.width <= 2 || r.height <= 2) return false;
    for (let e = el; e; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.display === 'none' || s.visibility === 'hidden' || s.opacity === '0') return false;
      if (s.clip === 'rect(0px, 0px, 0px, 0px)' || s.clipPath === 'inset(50%)') return false;
    }
    return true;
  }
  function label(el) { return (el.tagName + ' "' + (el.innerText || el.value || el.getAttribute('aria-label') || el.name || '').trim().slice(0, 30) + '"'); }
  const contrast = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('svg') || ['SCRIPT', 'STYLE', 'OPTION'].includes(el.tagName)) continue;
    const text = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
    if (!text || !shown(el) || el.disabled) continue;
    const fg = over(parse(getComputedStyle(el).color), background(el));
    const r = ratio(fg, background(el));
    if (r < 4.5) contrast.push(label(el) + ' ' + r.toFixed(2) + ':1');
  }
  const targets = [];
  const rings = [];
  const controls = Array.from(document.body.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary'));
  for (const el of controls) {
    if (!shown(el) && !(el.matches('.form-check-input') && el.closest('.form-check') && shown(el.closest('.form-check')))) continue;
    let box = el.getBoundingClientRect();
    if (el.matches('[type=checkbox], [type=radio]')) {
      const row = el.closest('.form-check') || (el.labels && el.labels[0]);
      if (row) box = row.getBoundingClientRect();
    }
    if (Math.round(box.width) < minSize || Math.round(box.height) < minSize) {
      targets.push(label(el) + ' ' + Math.round(box.width) + 'x' + Math.round(box.height));
    }
    el.focus();
    if (document.activeElement !== el) continue;
    const s = getComputedStyle(el);
    const width = parseFloat(s.outlineWidth);
    const page = background(el.parentElement);
    const ring = over(parse(s.outlineColor), page);
    if (s.outlineStyle === 'none' || width < 2 || ratio(ring, page) < 3) {
      rings.push(label(el) + ' ' + s.outlineStyle + ' ' + width + 'px ' + ratio(ring, page).toFixed(2) + ':1');
    }
    el.blur();
  }
  const root = document.documentElement;
  const charts = Array.from(document.querySelectorAll('svg')).filter(shown).flatMap(svg => {
    const vb = svg.viewBox && svg.viewBox.baseVal;
    const scale = vb && vb.width ? svg.getBoundingClientRect().width / vb.width : 1;
    return Array.from(svg.querySelectorAll('text')).map(t => parseFloat(getComputedStyle(t).fontSize) * scale);
  });
  return {contrast, targets, rings, overflow: root.scrollWidth - root.clientWidth,
          smallestChartText: charts.length ? Math.min(...charts) : null};
}"""


def _measure(page: Any, age_friendly: bool) -> dict[str, Any]:
    page.keyboard.press("Tab")  # keyboard use: programmatic focus now shows the ring as it would
    return page.evaluate(MEASURE_JS, {"minSize": 60 if age_friendly else 44})


def _check_pages(browser: Any, base: str, pages: list[tuple[str, str]], *, age_friendly: bool, user: User,
                 staff: bool = False, prefix: str = "") -> list[str]:
    mode = "large" if age_friendly else "normal"
    problems: list[str] = []
    context = _context(browser, base, age_friendly=age_friendly, user=user, staff=staff)
    phone = _context(browser, base, age_friendly=age_friendly, user=user, staff=staff, width=390)
    page, small = context.new_page(), phone.new_page()
    for name, path in pages:
        response = page.goto(base + path)
        assert response is not None and response.status == 200, f"{path}: {response and response.status}"
        assert "/accounts/login/" not in page.url, path
        _shot(page, f"{prefix}{name}-{mode}")
        found = _measure(page, age_friendly)
        for key in ("contrast", "targets", "rings"):
            problems += [f"{mode} {path} {key}: {item}" for item in found[key]]
        small.goto(base + path)
        found = small.evaluate(MEASURE_JS, {"minSize": 60 if age_friendly else 44})
        if found["overflow"] > 1:
            problems.append(f"{mode} {path} at 390px scrolls sideways by {found['overflow']}px")
        if found["smallestChartText"] is not None and found["smallestChartText"] < 12:
            problems.append(f"{mode} {path} at 390px chart text {found['smallestChartText']:.1f}px")
        if name in ("statement", "spending", "person", "dashboard", "relative"):
            _shot(small, f"{prefix}{name}-{mode}-390")
    context.close()
    phone.close()
    return problems


@pytest.mark.parametrize("age_friendly", [False, True], ids=["normal", "large-text"])
def test_citizen_pages_meet_contrast_target_focus_and_phone_width(live_server, browser, family, age_friendly):
    pages = _citizen_pages(family)
    problems = _check_pages(browser, live_server.url, pages, age_friendly=age_friendly,
                            user=family["holder_user"])
    problems += _check_pages(browser, live_server.url, [("mother-dashboard", "/dashboard/"),
                                                        ("mother-payments", "/payments/my-payments/")],
                             age_friendly=age_friendly, user=family["mother_user"])
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("age_friendly", [False, True], ids=["normal", "large-text"])
def test_errors_and_answers_are_readable_large_enough_and_get_the_focus(live_server, browser, family, age_friendly):
    base = live_server.url
    context = _context(browser, base, age_friendly=age_friendly, user=family["holder_user"])
    page = context.new_page()
    mode = "large" if age_friendly else "normal"
    # A form sent empty: field errors in red that is dark enough, the error summary has the focus.
    page.goto(base + "/pooling/add/")
    page.locator("main form.portal-form [type=submit]").first.click()
    page.wait_for_load_state()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert page.locator(".invalid-feedback").count() > 0
    _shot(page, f"propose-errors-{mode}")
    found = _measure(page, age_friendly)
    assert found["contrast"] == [] and found["targets"] == [] and found["rings"] == []
    # The checker: after the check, the focus is on the answer.
    page.goto(base + "/pooling/check/")
    page.select_option("#id_relationship", index=1)
    page.locator("main form.portal-form [type=submit]").click()
    page.wait_for_load_state()
    focused = page.evaluate("document.activeElement.id")
    assert focused in ("eligibility-answer", "error-summary")
    assert "#eligibility-answer" in page.url  # without JavaScript, the anchor scrolls there
    _shot(page, f"checker-answer-{mode}", full_page=False)
    context.close()


@pytest.mark.parametrize("age_friendly", [False, True], ids=["normal", "large-text"])
def test_counter_lookup_and_person_pages_meet_the_figures(live_server, browser, family, age_friendly):
    base = live_server.url
    context = _context(browser, base, age_friendly=age_friendly, user=family["assistant"], staff=True)
    page = context.new_page()
    page.goto(base + "/counter/")
    assert "/counter/" in page.url, page.url
    form = page.locator("#lookup-name")
    form.locator("#id_by_name-name").fill("张伟")
    form.locator("#id_by_name-birth_date").fill("1975-03-12")
    form.locator("#id_by_name-reason").select_option("in_person")
    form.locator("[type=submit]").click()
    page.wait_for_url(f"**/counter/person/{family['holder'].pk}/")
    cookie = [c for c in context.cookies() if c["name"] == django_settings.SESSION_COOKIE_NAME][0]
    mode = "large" if age_friendly else "normal"
    problems = []
    for name, path in [("counter-lookup", "/counter/"), ("person", f"/counter/person/{family['holder'].pk}/")]:
        page.goto(base + path)
        _shot(page, f"{name}-{mode}")
        found = _measure(page, age_friendly)
        for key in ("contrast", "targets", "rings"):
            problems += [f"{mode} {path} {key}: {item}" for item in found[key]]
    phone = _context(browser, base, age_friendly=age_friendly, width=390)
    phone.add_cookies([{"name": cookie["name"], "value": cookie["value"], "url": base}])
    small = phone.new_page()
    for name, path in [("counter-lookup", "/counter/"), ("person", f"/counter/person/{family['holder'].pk}/")]:
        small.goto(base + path)
        overflow = small.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        if overflow > 1:
            problems.append(f"{mode} {path} at 390px scrolls sideways by {overflow}px")
        _shot(small, f"{name}-{mode}-390")
    context.close()
    phone.close()
    assert problems == [], "\n".join(problems)


def test_pause_all_asks_on_a_page_that_works_without_javascript(live_server, browser, family):
    base = live_server.url
    context = _context(browser, base, age_friendly=True, user=family["holder_user"], javascript=False)
    page = context.new_page()
    page.goto(base + "/dashboard/")
    dialogs: list[Any] = []
    page.on("dialog", lambda d: dialogs.append(d))
    page.locator("main a[href='/pooling/pause-all/']").click()
    page.wait_for_url("**/pooling/pause-all/")
    assert page.locator("h1").inner_text().strip()
    _shot(page, "pause-all-confirm")
    family["binding"].refresh_from_db()
    assert family["binding"].status == "active"  # asking is not doing
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/dashboard/")
    family["binding"].refresh_from_db()
    assert family["binding"].status == "paused"
    assert dialogs == []
    context.close()


def test_no_token_in_any_url_no_nested_forms_and_valid_datetimes(live_server, browser, family):
    base = live_server.url
    context = _context(browser, base, age_friendly=False, user=family["holder_user"])
    page = context.new_page()
    for path in ("/payments/spending/", "/payments/my-payments/", "/accounts/inbox/"):
        page.goto(base + path)
        assert page.evaluate("document.querySelectorAll('form form').length") == 0
        html = page.content()
        assert "<form" not in html.split("<form", 2)[-1].split("</form>")[0], path  # no <form> before its </form>
        stamps = page.evaluate("Array.from(document.querySelectorAll('time[datetime]')).map(t => t.dateTime)")
        for stamp in stamps:
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}", stamp), stamp
    page.goto(base + "/payments/spending/")
    page.locator("main details summary").first.click()
    page.locator("main details form [type=submit]").first.click()
    page.wait_for_load_state()
    assert "csrfmiddlewaretoken" not in page.url
    context.close()


# -- The session time-out never loses work ----------------------------------------------------------

def test_the_time_out_warning_takes_focus_stays_in_view_and_staying_keeps_what_was_typed(
        live_server, browser, family, settings):
    settings.SESSION_COOKIE_AGE = 12
    settings.SESSION_WARNING_SECONDS = 9
    base = live_server.url
    context = _context(browser, base, age_friendly=True, user=family["holder_user"], width=390)
    page = context.new_page()
    page.goto(base + "/pooling/add/")
    page.evaluate("window.__notReloaded = true")
    page.fill("#id_name", "王小明")
    page.locator("footer").scroll_into_view_if_needed()  # scrolled away from the top of the page
    warning = page.locator("#session-warning")
    warning.wait_for(state="visible", timeout=8000)
    assert page.evaluate("document.getElementById('session-warning').contains(document.activeElement)")
    assert page.get_attribute("#session-warning", "role") == "alertdialog"
    box = warning.bounding_box()
    assert box and box["y"] >= 0 and box["y"] + box["height"] <= 844 and box["x"] >= 0 and box["x"] + box["width"] <= 390
    _shot(page, "session-warning-390", full_page=False)
    page.keyboard.press("Enter")  # the focused "stay logged in" button
    warning.wait_for(state="hidden", timeout=4000)
    assert page.evaluate("window.__notReloaded === true")
    assert page.input_value("#id_name") == "王小明"
    # The session really was renewed: past the first time limit, the page still works.
    page.wait_for_timeout(4000)
    assert page.evaluate("window.__notReloaded === true")
    context.close()


def test_after_expiry_the_log_in_page_says_why_and_returns_to_the_page(live_server, browser, family, settings):
    settings.SESSION_COOKIE_AGE = 4
    settings.SESSION_WARNING_SECONDS = 2
    base = live_server.url
    holder = family["holder"]
    context = _context(browser, base, age_friendly=False, user=family["holder_user"])
    page = context.new_page()
    page.goto(base + "/payments/spending/")
    page.wait_for_url("**/accounts/login/?expired=1&next=%2Fpayments%2Fspending%2F", timeout=10000)
    notice = page.locator("#session-expired")
    assert notice.is_visible() and "1" in notice.inner_text()
    _shot(page, "session-expired", full_page=False)
    settings.SESSION_COOKIE_AGE = 1800
    page.fill("#id_username", holder.id_number)
    page.fill("#id_password", PASSWORD)
    page.click("main form [type=submit]")
    page.wait_for_url("**/payments/spending/")
    context.close()


def test_without_javascript_every_page_states_its_time_limit(live_server, browser, family):
    base = live_server.url
    context = _context(browser, base, age_friendly=False, user=family["holder_user"], javascript=False)
    page = context.new_page()
    for path in ("/dashboard/", "/pooling/add/", "/payments/spending/"):
        page.goto(base + path)
        text = page.locator("#session-limit").inner_text()
        assert "30" in text, text
    context.close()
