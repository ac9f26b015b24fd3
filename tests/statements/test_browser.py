"""The statement page in Debian's chromium: the chart is drawn, the CSP is respected, both modes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from accounts.models import User
from statements.monthly import run_sync
from tests.conftest import CHROMIUM

from .conftest import BEFORE, MONTH, at, credit, open_account, pay, premium, refund

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


@pytest.fixture
def browser() -> Iterator[Any]:
    playwright_sync = pytest.importorskip("playwright.sync_api")
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def test_it_draws_the_spending_chart_without_breaking_the_csp(browser: Any, live_server: Any, holder: Any, mother: Any) -> None:
    open_account(holder)
    credit(holder, 150_000, BEFORE)
    credit(holder, 40_000, at(1))
    pay(holder, holder, 23_400, "outpatient", at(4))
    pay(holder, mother, 86_700, "inpatient", at(9))
    refund(holder, mother, 1_200, "inpatient", at(19))
    premium(holder, mother, 38_000, at(22))
    run_sync(MONTH)

    client = Client()
    client.force_login(User.objects.get(person=holder))
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                          "url": live_server.url}])
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: m.type in ("error", "warning") and problems.append(m.text))
    page.goto(f"{live_server.url}/statements/2025-10/", wait_until="networkidle")
    bars = page.locator("svg.statement-chart rect.bar")
    assert bars.count() == 2
    widths = [bars.nth(i).bounding_box()["width"] for i in range(2)]
    assert widths[1] > widths[0] > 0  # the mother's care cost more than his own
    assert page.locator("svg.statement-chart rect.bar-holder").evaluate("e => getComputedStyle(e).fill") == "rgb(25, 111, 74)"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "statement-page.png"), full_page=True)
    page.locator("#toggle-age-friendly").click()
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(SHOTS / "statement-page-age-friendly.png"), full_page=True)
    assert not [p for p in problems if "Content Security Policy" in p], problems
    context.close()
