"""Issue 14 item 6 in chromium: the statement's line items and the relative's allowances, on a
desktop and on a 390 px phone (no sideways scrolling), with screenshots to look at."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from accounts.models import User
from pooling.models import Binding, BindingStatus
from statements.monthly import run_sync

from .conftest import BEFORE, MONTH, at, credit, open_account, pay, premium, refund
from .test_browser import browser  # noqa: F401 (the fixture)

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def _page(chromium: Any, live_server: Any, person: Any, width: int, language: str) -> Any:
    client = Client()
    client.force_login(User.objects.get(person=person))
    context = chromium.new_context(viewport={"width": width, "height": 900})
    context.add_cookies([
        {"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
         "url": live_server.url},
        {"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url},
    ])
    return context.new_page()


def test_line_items_and_allowances_in_chromium(browser: Any, live_server: Any, holder: Any, mother: Any) -> None:  # noqa: F811
    open_account(holder)
    credit(holder, 150_000, BEFORE)
    credit(holder, 40_000, at(1))
    pay(holder, holder, 23_400, "outpatient", at(4))
    pay(holder, mother, 86_700, "inpatient", at(9))
    refund(holder, mother, 1_200, "inpatient", at(19))
    premium(holder, mother, 38_000, at(22))
    run_sync(MONTH)
    Binding.objects.create(holder=holder, beneficiary=mother, relationship="parent", status=BindingStatus.ACTIVE,
                           monthly_cap_fen=50_000, annual_cap_fen=300_000)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, language in ((1100, "zh-hans"), (390, "zh-hans"), (390, "en")):
        page = _page(browser, live_server, holder, width, language)
        page.goto(f"{live_server.url}/statements/2025-10/", wait_until="networkidle")
        rows = page.locator('[data-testid="statement-items"] tbody tr')
        assert rows.count() == 4
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(SHOTS / f"statement-items-{width}-{language}.png"), full_page=True)
        page.context.close()

        page = _page(browser, live_server, mother, width, language)
        page.goto(f"{live_server.url}/dashboard/", wait_until="networkidle")
        table = page.locator('[data-testid="allowances"]')
        assert table.is_visible()
        assert "¥500.00" in table.inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(SHOTS / f"relative-allowances-{width}-{language}.png"), full_page=True)
        page.context.close()
