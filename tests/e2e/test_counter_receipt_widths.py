"""The counter's receipt (回执) on a phone and a tablet: counter staff show it to elderly citizens
there, often in the large-text (age-friendly) mode. At 360, 390 and 768 px, in both display modes
and both languages, nothing may stick out sideways (the page never scrolls horizontally) and every
fact stays on the page: long names, masked ID numbers and references wrap, label/value pairs and
the documents table stack. The counter pages on the way there are checked at 360 px in large text,
and the receipt printed from a phone in large text is still the one-page A4 of the print style sheet.

Screenshots: test-artifacts/screenshots/counter-receipt-<language>-<mode>-<width>.png and
counter-page-<page>-<language>-large-360.png.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from accounts.models import Office, Region, Role, User
from pooling.models import Binding
from portal.models import CounterAction
from tests.conftest import HAIKOU, make_person
from tests.e2e.test_counter_journey import PASSWORD, _log_in_with_code, chromium  # noqa: F401 - a fixture
from tests.e2e.test_foundation_journey import SHOTS, Watched, assert_accessible_basics, assert_age_friendly

from ..pooling.conftest import credit

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANGUAGES = ("zh-hans", "en")
WIDTHS = (360, 390, 768)

# What sticks out past the right edge of the window (or the left), and how wide the page is. Content
# inside a box that clips or scrolls (a visually hidden table head, a .table-responsive) does not
# widen the page; tables that scroll inside the page are found by INNER_SCROLL_JS.
OVERFLOW_JS = """() => {
  const width = window.innerWidth, out = [];
  const clipped = (el) => {
    for (let e = el.parentElement; e && e !== document.body; e = e.parentElement) {
      if (getComputedStyle(e).overflowX !== 'visible') return true;
    }
    return false;
  };
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (el.closest('.visually-hidden, .visually-hidden-focusable, [hidden]') || clipped(el)) continue;
    if (r.right > width + 0.5 || r.left < -0.5) {
      const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                   (el.classList.length ? '.' + [...el.classList].join('.') : '');
      out.push(`${name} ${Math.round(r.left)}..${Math.round(r.right)} "${(el.textContent || '').trim().slice(0, 30)}"`);
    }
  }
  return {scroll: document.documentElement.scrollWidth, inner: width, out: out.slice(0, 10)};
}"""

# Tables on the page that scroll sideways inside themselves (a .table-responsive wider than its box).
INNER_SCROLL_JS = """() => [...document.querySelectorAll('main .table-responsive')]
  .filter((el) => el.scrollWidth > el.clientWidth + 1 && el.getBoundingClientRect().width > 0)
  .map((el) => `${el.querySelector('table') ? el.querySelector('table').className : ''} ${el.scrollWidth}>${el.clientWidth}`)"""


@pytest.fixture
def counter_window(chromium: Any) -> Iterator[Watched]:  # noqa: F811 - the fixture imported above
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    yield Watched(context.new_page())
    context.close()


def counter_desk() -> User:
    """The assistant HK0107 at an office with a long name (what has to wrap on a receipt)."""
    office = Office.objects.create(
        name="Haikou Meilan District medical-insurance service hall, elderly-assist counter",
        region=Region.objects.get(pk=HAIKOU), address="1 Haifu Road, Meilan District, Haikou")
    assistant = User(username="HK0107", role=Role.COUNTER, office=office, first_name="陈", last_name="帮办")
    assistant.set_password(PASSWORD)
    assistant.save()
    return assistant


@pytest.fixture
def long_desk(transactional_db: Any) -> dict[str, Any]:
    """A long office name and a relative with a long transliterated name: what has to wrap on a phone."""
    from pooling.guide_data import seed_guides
    from pooling.models import Guide, GuideStep

    seed_guides(Guide, GuideStep, Region)
    assistant = counter_desk()
    father = make_person("Maimaitiyiming Aisikaer", birth="1942-04-08", sex="M", phone="13900000011")
    son = make_person("Abudureheman Maimaitiyiming", birth="1970-06-01", sex="M", scheme="resident",
                      phone="13900000012")
    credit(father, 300_000)
    return {"assistant": assistant, "father": father, "son": son}


def _set_display(page: Any, base: str, language: str, large: bool, width: int) -> None:
    page.context.add_cookies([{"name": "django_language", "value": language, "url": base},
                              {"name": "age_friendly", "value": "1" if large else "0", "url": base}])
    page.set_viewport_size({"width": width, "height": 900})


def _measure(w: Watched, where: str, problems: list[str], shot: str, *, large: bool = True) -> None:
    page = w.page
    if large:  # text of at least 24px, targets of at least 60x60px
        try:
            assert_age_friendly(w, where)
        except AssertionError as error:
            problems.append(str(error).splitlines()[0])
    found = page.evaluate(OVERFLOW_JS)
    if found["scroll"] > found["inner"] or found["out"]:
        problems.append(f"{where}: page {found['scroll']}px wide in a {found['inner']}px window; {found['out']}")
    inner = page.evaluate(INNER_SCROLL_JS)
    if inner:
        problems.append(f"{where}: tables scroll sideways inside the page: {inner}")
    SHOTS.mkdir(parents=True, exist_ok=True)
    w.shot(shot)


def test_the_receipt_and_the_counter_pages_fit_a_phone_in_large_text_in_both_languages(
        live_server, counter_window, long_desk):
    w, page, base = counter_window, counter_window.page, live_server.url
    father, son = long_desk["father"], long_desk["son"]
    problems: list[str] = []
    _set_display(page, base, "en", False, 1280)
    page.goto(base + "/accounts/login/")
    _log_in_with_code(page)
    page.wait_for_url("**/counter/**")

    # The counter pages on the way to a receipt, at 360 px in large text, in both languages.
    for language in LANGUAGES:
        _set_display(page, base, language, True, 360)
        page.goto(base + "/counter/")
        _measure(w, f"the look-up page ({language})", problems, f"counter-page-lookup-{language}-large-360")
        page.goto(base + f"/counter/person/{father.pk}/")
        _measure(w, f"the person page ({language})", problems, f"counter-page-person-{language}-large-360")
        page.goto(base + f"/counter/person/{father.pk}/pooling/add/")
        _measure(w, f"the add-a-relative page ({language})", problems, f"counter-page-propose-{language}-large-360")
        page.goto(base + f"/counter/person/{father.pk}/voucher/")
        _measure(w, f"the e-voucher page ({language})", problems, f"counter-page-voucher-{language}-large-360")

    # A real receipt: his son bound with four documents, at the counter's own screen.
    _set_display(page, base, "en", False, 1280)
    page.goto(base + f"/counter/person/{father.pk}/pooling/add/")
    page.fill("#id_id_number", son.id_number)
    page.fill("#id_name", son.name)
    page.select_option("#id_relationship", "child")
    page.check("#id_record_consent")
    for i, number in enumerate([father.id_number, son.id_number, "H46010012345678", "460100-0123-04"]):
        page.fill(f"#id_doc-{i}-number", number)
    page.click("#counter-check")
    page.wait_for_selector("#eligibility-answer >> text=can be added")
    page.click("#counter-confirm")
    page.wait_for_url("**/receipt/*/")
    binding = Binding.objects.get()
    receipt_url = page.url
    facts = [father.name, son.name, father.masked_id_number, son.masked_id_number, "H46********5678",
             "Haikou Meilan District medical-insurance service hall", CounterAction.objects.get().receipt_number]

    # The limits page on the way to a second receipt, then the receipt of the binding at every size.
    for language in LANGUAGES:
        _set_display(page, base, language, True, 360)
        page.goto(base + f"/counter/person/{father.pk}/pooling/{binding.pk}/limits/")
        _measure(w, f"the limits page ({language})", problems, f"counter-page-limits-{language}-large-360")
    for language in LANGUAGES:
        for large in (False, True):
            for width in WIDTHS:
                mode = "large" if large else "standard"
                _set_display(page, base, language, large, width)
                page.goto(receipt_url)
                _measure(w, f"the receipt at {width}px, {mode} ({language})", problems,
                         f"counter-receipt-{language}-{mode}-{width}", large=large)
                assert_accessible_basics(w, f"the receipt at {width}px, {mode} ({language})")
                shown = page.inner_text("main .receipt")
                assert not [fact for fact in facts if fact not in shown], (width, mode, language)

    # Printed from the phone in large text: the paper keeps the table layout of the print style sheet.
    _set_display(page, base, "zh-hans", True, 360)
    page.goto(receipt_url)
    page.emulate_media(media="print")
    assert page.evaluate("getComputedStyle(document.querySelector('.receipt-documents thead')).position") == "static"
    assert page.evaluate("getComputedStyle(document.querySelector('.receipt-documents td')).display") == "table-cell"
    pdf = SHOTS.parent / "counter-receipt-large-phone.pdf"
    page.pdf(path=str(pdf), format="A4", prefer_css_page_size=True, print_background=False)
    page.emulate_media(media="screen")
    if shutil.which("pdftoppm"):
        for old in SHOTS.glob("counter-receipt-large-phone-pdf-*.png"):
            old.unlink()
        subprocess.run(["pdftoppm", "-png", "-r", "70", str(pdf), str(SHOTS / "counter-receipt-large-phone-pdf")],
                       check=True)
        assert len(list(SHOTS.glob("counter-receipt-large-phone-pdf-*.png"))) == 1, "one A4 page, also in large text"

    # An e-voucher receipt (its code and QR are shown this once), at 360 px in large text.
    for language in LANGUAGES:
        _set_display(page, base, language, True, 360)
        page.goto(base + f"/counter/person/{father.pk}/voucher/")
        page.fill("#id_doc-0-number", father.id_number)
        page.click("#counter-submit")
        page.wait_for_selector("[data-testid=voucher-code]")
        _measure(w, f"the e-voucher receipt at 360px, large ({language})", problems,
                 f"counter-receipt-voucher-{language}-large-360")
    assert CounterAction.objects.filter(kind="voucher").count() == 2

    assert not problems, "\n".join(problems)
    assert not w.csp_violations and not w.errors, (w.csp_violations, w.errors)
