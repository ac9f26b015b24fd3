"""axe-core in Chromium over the pages the production crawl reached, as each persona, in every mode.

Usage: page_checks.py BASE_URL PAGES_DIR
PAGES_DIR is crawl.py's OUT_DIR: one folder per persona with pages.txt (paths, one a line) and
cookies.json (its logged-in session, second factor included). Each page is opened in Debian's
Chromium with the persona's cookies, in the four variants zh-hans/en x normal/age-friendly (the
django_language and age_friendly cookies), axe-core (pinned in .ci/node) is injected and run;
serious and critical violations are reported by rule with example pages and elements, and fail.

Pages that differ only by object ids (/admin/pooling/family/3/change/ and .../4/change/) are one
template: the first of each shape is checked (PAGE_CHECKS_ALL=1 checks every page).
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections import defaultdict
from pathlib import Path

from playwright.sync_api import sync_playwright

AXE = Path(__file__).parent / "node" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("PORTAL_TEST_CHROMIUM", "/usr/bin/chromium")
FAILING = ("serious", "critical")
VARIANTS = [("zh-hans", "0"), ("zh-hans", "1"), ("en", "0"), ("en", "1")]
SHAPE = re.compile(r"(?<=/)(\d+|[0-9a-f]{8}-[0-9a-f-]{27}|[A-Za-z0-9_-]{20,})(?=/|$)")


def shape(path: str) -> str:
    bare, _, query = path.partition("?")
    return SHAPE.sub("N", bare) + ("?" + re.sub(r"=[^&]*", "=", query) if query else "")


def pages_of(folder: Path) -> list[str]:
    paths = [line for line in (folder / "pages.txt").read_text(encoding="utf-8").splitlines() if line]
    if os.environ.get("PAGE_CHECKS_ALL") == "1":
        return paths
    seen: set[str] = set()
    chosen = []
    for path in paths:
        if shape(path) not in seen:
            seen.add(shape(path))
            chosen.append(path)
    return chosen


def main() -> int:
    base, pages_dir = sys.argv[1].rstrip("/"), Path(sys.argv[2])
    axe = AXE.read_text(encoding="utf-8")
    found: dict[tuple[str, str], dict] = {}
    where: dict[tuple[str, str], set[str]] = defaultdict(set)
    checked = 0
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for folder in sorted(p for p in pages_dir.iterdir() if p.is_dir()):
            persona = folder.name
            cookies = json.loads((folder / "cookies.json").read_text(encoding="utf-8"))
            paths = pages_of(folder)
            for language, age in VARIANTS:
                # bypass_csp: axe is injected as a script the portal's CSP rightly does not allow.
                context = browser.new_context(bypass_csp=True, locale="zh-CN" if language == "zh-hans" else "en-GB")
                context.add_cookies([{"name": c["name"], "value": c["value"], "url": base} for c in cookies if c["name"] not in ("django_language", "age_friendly")]
                                    + [{"name": "django_language", "value": language, "url": base},
                                       {"name": "age_friendly", "value": age, "url": base}])
                page = context.new_page()
                for path in paths:
                    response = page.goto(base + path, wait_until="load")
                    checked += 1
                    if response is None or response.status >= 400 and path != "/no-such-page/":
                        print(f"{persona:10} {language:7} age={age} {response and response.status} {path} (skipped)")
                        continue
                    page.add_script_tag(content=axe)
                    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
                    for violation in result["violations"]:
                        if violation.get("impact") not in FAILING:
                            continue
                        key = (violation["id"], violation["impact"])
                        if key not in found:  # as soon as seen: a long run shows its findings early
                            print(f"  first {violation['impact']} {violation['id']}: {persona} {language} "
                                  f"age={age} {path}", flush=True)
                        found.setdefault(key, violation)
                        where[key].add(f"{persona} {language} age={age} {path} :: "
                                       + ", ".join(" ".join(n["target"]) for n in violation["nodes"][:3]))
                context.close()
                print(f"{persona:10} {language:7} age={age}: {len(paths)} pages checked", flush=True)
        browser.close()
    print(f"\naxe-core: {checked} page views; {len(found)} serious or critical rules violated")
    for (rule, impact), violation in sorted(found.items(), key=lambda item: (item[0][1] != "critical", item[0][0])):
        places = sorted(where[(rule, impact)])
        print(f"\nAXE {impact} {rule}: {violation['help']} ({len(places)} page views) {violation['helpUrl']}")
        for place in places[:6]:
            print(f"    {place}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
