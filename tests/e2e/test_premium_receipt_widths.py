"""The resident-premium receipt on a phone and a tablet, where it is reached: a citizen paying a
relative's premium in the portal (the list, the password asked again, the confirmation, the
receipt) and a counter assistant paying at the counter (the person page, the documents, the
confirmation, the counter's receipt of the payment, and the premium receipt the counter can open).

At 360, 390 and 768 px, in both display modes and both languages, the receipts never scroll
sideways and every fact stays on the page; the pages on the way are checked at 360 px in large text
in both languages. Beyond the window's width, nothing may stick out of its own box (a name and
number wider than its card), a masked ID number in brackets is never split over two lines (a
closing bracket alone on a line), and a long label does not run into the next one. The receipt
printed from a phone in large text is still one A4 page with label beside value.

Screenshots: test-artifacts/screenshots/premium-receipt-<portal|counter|counter-action>-<language>-
<mode>-<width>.png, premium-page-<page>-<language>-large-360.png and, of the paper,
premium-receipt-large-phone-<language>-pdf-1.png.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from payments.models import PremiumPayment
from payments.premiums import premium_year
from portal.models import CounterAction
from tests.conftest import PASSWORD, make_citizen, make_person
from tests.e2e.test_counter_journey import _log_in_with_code, chromium  # noqa: F401 - a fixture
from tests.e2e.test_counter_receipt_widths import LANGUAGES, WIDTHS, _measure, _set_display, counter_desk
from tests.e2e.test_foundation_journey import SHOTS, Watched, assert_accessible_basics

from ..payments.conftest import bind, credit

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What sticks out of the box it is in (into the box's padding or past its border), though still inside
# the window: a grid or flex item wider than its container, a word too long for its column. Boxes that
# clip or scroll, and elements placed with negative margins or absolutely (a Bootstrap .row), are left out.
OUT_OF_BOX_JS = """() => {
  const out = [];
  const clipped = (el) => {
    for (let e = el.parentElement.parentElement; e && e !== document.body; e = e.parentElement) {
      if (getComputedStyle(e).overflowX !== 'visible') return true;
    }
    return false;
  };
  for (const el of document.querySelectorAll('main *')) {
    const parent = el.parentElement, r = el.getBoundingClientRect();
    if (!parent || (r.width === 0 && r.height === 0)) continue;
    if (el.closest('.visually-hidden, .visually-hidden-focusable, [hidden]') || clipped(el)) continue;
    const cs = getComputedStyle(el), ps = getComputedStyle(parent);
    if (cs.position === 'absolute' || cs.position === 'fixed' || parseFloat(cs.marginRight) < 0) continue;
    if (ps.overflowX !== 'visible' || ps.display.startsWith('inline') || ps.display === 'contents') continue;
    const p = parent.getBoundingClientRect();
    const right = p.right - parseFloat(ps.borderRightWidth) - parseFloat(ps.paddingRight);
    const left = p.left + parseFloat(ps.borderLeftWidth) + parseFloat(ps.paddingLeft);
    if (r.right > right + 1 || r.left < left - 1) {
      const name = (e) => e.tagName.toLowerCase() + (e.classList.length ? '.' + [...e.classList].join('.') : '');
      out.push(`${name(el)} ${Math.round(r.left)}..${Math.round(r.right)} in ${name(parent)} ${Math.round(left)}..${Math.round(right)} "${(el.textContent || '').trim().slice(0, 30)}"`);
    }
  }
  return out.slice(0, 10);
}"""

# A masked ID number in its brackets, "(460***********1011)" or "（460***********1011）", split over two
# lines: the number read in two parts, or a closing bracket alone at the start of a line.
SPLIT_NUMBER_JS = r"""() => {
  const out = [], walker = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const match of node.textContent.matchAll(/[(（][0-9X]{3,6}\*+[0-9X]{2,4}[)）]/g)) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
      if (tops.size > 1) out.push(match[0]);
    }
  }
  return out;
}"""

# Labels beside their values: a label that takes two or three lines does not run into the next label
# (the space between two labels is more than the space between two lines of one label). The text is
# measured, not the boxes: a flex item stretches to the height of its row.
LABELS_TOUCH_JS = """() => {
  const dts = [...document.querySelectorAll('main .premium-facts > dt')], out = [];
  const rects = (el) => { const range = document.createRange(); range.selectNodeContents(el); return [range.getBoundingClientRect(), range.getClientRects()[0]]; };
  for (let i = 1; i < dts.length; i++) {
    const [above, line] = rects(dts[i - 1]), [below] = rects(dts[i]);
    const leading = parseFloat(getComputedStyle(dts[i - 1]).lineHeight) - line.height;
    if (below.top - above.bottom < leading + 4) out.push(`${dts[i - 1].textContent.trim()} / ${dts[i].textContent.trim()}`);
  }
  return out;
}"""


@pytest.fixture
def two_windows(chromium: Any) -> Iterator[tuple[Watched, Watched]]:  # noqa: F811 - the fixture imported above
    """The citizen's phone and the counter's screen: two browsers' worth of cookies."""
    citizen = chromium.new_context(viewport={"width": 1280, "height": 900})
    counter = chromium.new_context(viewport={"width": 1280, "height": 900})
    yield Watched(citizen.new_page()), Watched(counter.new_page())
    citizen.close()
    counter.close()


@pytest.fixture
def family(transactional_db: Any) -> dict[str, Any]:
    """A payer and relatives with long transliterated names (what has to wrap on a phone); the
    mother's insurance is suspended for non-payment, so her receipt has the longest line (the status)."""
    counter_desk()
    payer = make_person("Abudureheman Maimaitiyiming", birth="1970-06-01", sex="M", phone="13900000012")
    make_citizen(payer)
    mother = make_person("Gulinuer Aisikaer Abudukadier", birth="1944-03-02", sex="F", scheme="resident",
                         status="suspended", phone="13900000013")
    father = make_person("Maimaitiyiming Aisikaer", birth="1942-04-08", sex="M", scheme="resident",
                         phone="13900000011")
    credit(payer, 300_000)
    bind(payer, mother, "parent")
    bind(payer, father, "parent")
    return {"payer": payer, "mother": mother, "father": father}


def _check(w: Watched, where: str, problems: list[str], shot: str, *, large: bool = True) -> None:
    """No sideways scrolling, large text and targets (in large text), screenshot (the counter receipt's
    measure); and nothing sticking out of its box, no masked number split over two lines."""
    _measure(w, where, problems, shot, large=large)
    out = w.page.evaluate(OUT_OF_BOX_JS)
    if out:
        problems.append(f"{where}: sticks out of its box: {out}")
    split = w.page.evaluate(SPLIT_NUMBER_JS)
    if split:
        problems.append(f"{where}: masked numbers split over two lines: {split}")
    touching = w.page.evaluate(LABELS_TOUCH_JS)
    if touching:
        problems.append(f"{where}: labels run into the next one: {touching}")


def _password_no_longer_fresh(page: Any) -> None:
    """As a while after logging in: paying asks for the password again."""
    from django.conf import settings

    from accounts import reauth
    from portal.sessions import SessionStore

    key = next(c["value"] for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME)
    store = SessionStore(key)
    store[reauth.SESSION_KEY] = 0
    store.save()


def _facts(payment: PremiumPayment) -> list[str]:
    return [payment.payer.name, payment.relative.name, payment.payer.masked_id_number,
            payment.relative.masked_id_number, f"P{payment.pk:08d}", str(payment.year)]


def _receipt_at_every_size(w: Watched, base: str, url: str, where: str, facts: list[str], problems: list[str],
                           *, box: str = "main") -> None:
    page = w.page
    for language in LANGUAGES:
        for large in (False, True):
            for width in WIDTHS:
                mode = "large" if large else "standard"
                label = f"the {where} receipt at {width}px, {mode} ({language})"
                _set_display(page, base, language, large, width)
                page.goto(url)
                _check(w, label, problems, f"premium-receipt-{where}-{language}-{mode}-{width}", large=large)
                assert_accessible_basics(w, label)
                shown = page.inner_text(box)
                missing = [fact for fact in facts if fact not in shown]
                if missing:
                    problems.append(f"{label} lacks {missing}")


def _one_a4_page(page: Any, name: str) -> None:
    page.emulate_media(media="print")
    pdf = SHOTS.parent / f"{name}.pdf"
    page.pdf(path=str(pdf), format="A4", prefer_css_page_size=True, print_background=False)
    page.emulate_media(media="screen")
    if shutil.which("pdftoppm"):
        for old in SHOTS.glob(f"{name}-pdf-*.png"):
            old.unlink()
        subprocess.run(["pdftoppm", "-png", "-r", "70", str(pdf), str(SHOTS / f"{name}-pdf")], check=True)
        assert len(list(SHOTS.glob(f"{name}-pdf-*.png"))) == 1, f"{name}: one A4 page, also in large text"


def test_the_premium_receipt_fits_a_phone_in_the_portal_and_at_the_counter(live_server, two_windows, family):
    (w, staff), base = two_windows, live_server.url
    page = w.page
    payer, mother, father = family["payer"], family["mother"], family["father"]
    year = premium_year()
    problems: list[str] = []

    # The citizen logs in on a phone in large text and looks at the list, in both languages.
    _set_display(page, base, "en", True, 360)
    page.goto(base + "/accounts/login/")
    page.fill("#id_username", payer.phone)
    page.fill("#id_password", PASSWORD)
    page.click("main [type=submit]")
    page.wait_for_url("**/dashboard/")
    _password_no_longer_fresh(page)
    for language in LANGUAGES:
        _set_display(page, base, language, True, 360)
        page.goto(base + "/payments/premiums/")
        _check(w, f"the premiums list ({language})", problems, f"premium-page-list-{language}-large-360")

    # Paying the mother's premium: the password asked again (with why), then the confirmation.
    pay_url = base + f"/payments/premiums/pay/?relative={mother.pk}&year={year}"
    for language in LANGUAGES:
        _set_display(page, base, language, True, 360)
        if language == LANGUAGES[0]:
            page.locator(".list-group-item", has_text=mother.name).locator("button[type=submit]").click()
        else:
            page.goto(pay_url)
        page.wait_for_url("**/accounts/confirm/?next=*")
        assert page.locator("main .alert").count(), "the reason for asking is shown"
        _check(w, f"the password confirmation ({language})", problems, f"premium-page-reauth-{language}-large-360")
    page.fill("#id_password", PASSWORD)
    page.locator("main [type=submit]").click()
    page.wait_for_url(pay_url)
    for language in LANGUAGES:
        _set_display(page, base, language, True, 360)
        page.goto(pay_url)
        _check(w, f"the premium confirmation ({language})", problems, f"premium-page-confirm-{language}-large-360")
        assert mother.masked_id_number in page.inner_text("[data-testid=confirm-relative]")
    assert not PremiumPayment.objects.exists()
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/payments/premiums/*/")
    paid = PremiumPayment.objects.get()
    assert paid.relative == mother and paid.cover_pending
    portal_receipt = page.url
    for language in LANGUAGES:  # the list again: the paid one with its status and its receipt
        _set_display(page, base, language, True, 360)
        page.goto(base + "/payments/premiums/")
        _check(w, f"the premiums list after paying ({language})", problems,
               f"premium-page-list-paid-{language}-large-360")
    _receipt_at_every_size(w, base, portal_receipt, "portal", _facts(paid), problems)
    assert page.locator("[data-testid=cover-pending]").count() == 1

    # Printed from the phone in large text, in either language: the two columns of paper, one A4 page.
    for language in LANGUAGES:
        _set_display(page, base, language, True, 360)
        page.goto(portal_receipt)
        page.emulate_media(media="print")
        # The phone's screen rules stay off paper (the card keeps its even padding).
        padding = page.evaluate("(({paddingTop, paddingLeft}) => [paddingTop, paddingLeft])"
                                "(getComputedStyle(document.querySelector('.premium-card .card-body')))")
        assert padding[0] == padding[1], padding
        page.emulate_media(media="screen")
        _one_a4_page(page, f"premium-receipt-large-phone-{language}")

    # At the counter: the father's premium, from the son's account, his ID card seen.
    sp = staff.page
    _set_display(sp, base, "en", False, 1280)
    sp.goto(base + "/accounts/login/")
    _log_in_with_code(sp)
    sp.wait_for_url("**/counter/**")
    counter_pay = base + f"/counter/person/{payer.pk}/premium/?relative={father.pk}&year={year}"
    for language in LANGUAGES:
        _set_display(sp, base, language, True, 360)
        sp.goto(base + f"/counter/person/{payer.pk}/")
        _check(staff, f"the counter's person page ({language})", problems,
               f"premium-page-counter-person-{language}-large-360")
        sp.goto(counter_pay)
        _check(staff, f"the counter's premium documents ({language})", problems,
               f"premium-page-counter-documents-{language}-large-360")
        sp.fill("#id_doc-0-number", payer.id_number)
        sp.click("#counter-submit")
        sp.wait_for_selector("#counter-confirm")
        _check(staff, f"the counter's premium confirmation ({language})", problems,
               f"premium-page-counter-confirm-{language}-large-360")
        facts = sp.inner_text("[data-testid=premium-confirm]")
        assert father.masked_id_number in facts and payer.masked_id_number in facts
    sp.click("#counter-confirm")
    sp.wait_for_url("**/receipt/*/")
    counter_paid = PremiumPayment.objects.get(relative=father)
    action = CounterAction.objects.get(kind="premium")
    # Where paying at the counter ends: the counter's receipt (回执) of the payment.
    _receipt_at_every_size(staff, base, sp.url, "counter-action",
                           [payer.name, father.name, payer.masked_id_number, action.receipt_number],
                           problems, box="main .receipt")
    # The premium receipt as the counter opens it (counter:premium-receipt, the same template).
    _receipt_at_every_size(staff, base, base + f"/counter/person/{payer.pk}/premium/{counter_paid.pk}/", "counter",
                           _facts(counter_paid), problems)
    assert sp.locator(f"main a[href='/counter/person/{payer.pk}/']").count() == 1, "back to the person"

    assert not problems, "\n".join(problems)
    for watched in (w, staff):
        assert not watched.csp_violations and not watched.errors, (watched.csp_violations, watched.errors)
