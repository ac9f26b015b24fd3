"""The guides and the FAQ in Debian's chromium, in both languages and both text modes.

Screenshots go to test-artifacts/screenshots/pooling-guides-*.png.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.test_foundation_journey import (
    CHROMIUM_ARGS,
    Watched,
    assert_accessible_basics,
    assert_age_friendly,
    assert_standard_targets,
)

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = [
    ("/pooling/guides/?region=460100", "list-hainan"),
    ("/pooling/guides/wechat/", "wechat"),
    ("/pooling/guides/regional_app/?region=460100", "hainan"),
    ("/pooling/guides/premium/national_app/", "premium"),
    ("/pooling/questions/", "faq"),
]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    playwright_sync = pytest.importorskip("playwright.sync_api")
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_guides_and_questions_read_in_one_language_in_both_modes(live_server, chromium, guides, language):
    context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    w = Watched(context.new_page())
    try:
        for mode in ("standard", "large"):
            for path, name in PAGES:
                w.page.goto(live_server.url + path)
                where = f"{path} ({language}, {mode})"
                assert_accessible_basics(w, where)
                if mode == "large":
                    assert_age_friendly(w, where)
                else:
                    assert_standard_targets(w, where)
                main = w.page.inner_text("main")
                if language == "en":
                    if name == "list-hainan":
                        assert "At a medical insurance service counter" in main and "Hainan: the 海南医保" in main
                    assert "到医保服务大厅窗口办理" not in main and "家人能共用我的门诊统筹吗？" not in main
                else:
                    assert "At a medical insurance service counter" not in main and "No smartphone needed" not in main
                    if name == "list-hainan":
                        assert "到医保服务大厅窗口办理" in main and "“海南医保”微信小程序" in main
                    assert "Can my family share" not in main
                w.shot(f"pooling-guides-{language}-{mode}-{name}")
            if mode == "standard":
                w.page.click("#toggle-age-friendly")
                w.page.wait_for_load_state()
        assert w.csp_violations == [] and w.errors == []
    finally:
        context.close()
