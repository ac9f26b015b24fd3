"""Crawl a running portal as each persona and call the settlement API; fail on any 5xx or bad asset.

Usage: crawl.py BASE_URL CREDENTIALS.json [OUT_DIR]
CREDENTIALS.json: {"personas": {"holder": {"username": ..., "password": ...}, ...},
                   "api_key": "...", "voucher": "..."}
Only GET requests are made after logging in (and the API's documented POSTs), so the crawl
changes nothing a citizen would notice. Every static asset the pages reference is fetched with
Accept-Encoding and must answer 200, compressed (text types), with far-future caching.
Prints every URL it visited with its status. Staff personas give a "totp_key" (hex): after the
password the crawl answers the second-factor step with the current code (django_otp.oath, so run
it with the portal's virtualenv). With OUT_DIR, each persona's 200 HTML pages, their list and
its session cookies are saved there for .ci/page_checks.py.
"""

from __future__ import annotations

import gzip
import http.cookiejar
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import deque
from html.parser import HTMLParser
from pathlib import Path

MAX_PAGES_PER_PERSONA = 250
# Pages that differ only by object ids or query values are one kind of page (one template).
SHAPE = re.compile(r"(?<=/)(\d+|[0-9a-f]{8}-[0-9a-f-]{27}|[A-Za-z0-9_-]{20,})(?=/|$)")
SKIP = re.compile(r"/logout|/admin/logout|/jsi18n/|/accounts/session/extend/")
COMPRESSIBLE = (".css", ".js", ".svg")


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.pages: list[str] = []
        self.assets: list[str] = []
        self.csrf = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.pages.append(a["href"] or "")
        elif tag == "link" and a.get("href") and (a.get("rel") or "") in ("stylesheet", "icon", "preload"):
            self.assets.append(a["href"] or "")
        elif tag in ("script", "img") and a.get("src"):
            self.assets.append(a["src"] or "")
        elif tag == "input" and a.get("name") == "csrfmiddlewaretoken":
            self.csrf = a.get("value") or ""


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


class Browser:
    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)

    def request(
        self, path: str, data: bytes | None = None, headers: dict[str, str] | None = None, method: str | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        url = path if path.startswith("http") else self.base + path
        req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)  # noqa: S310 - our own http base
        try:
            with self.opener.open(req, timeout=60) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()

    def login(self, username: str, password: str, path: str = "/accounts/login/", totp_key: str = "") -> None:
        status, _, body = self.request(path)
        parser = Links()
        parser.feed(body.decode("utf-8", "replace"))
        form = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": parser.csrf, "username": username, "password": password}
        ).encode()
        status, headers, _ = self.request(
            path, form, {"Content-Type": "application/x-www-form-urlencoded", "Referer": self.base + path}
        )
        if status != 302:
            raise SystemExit(f"log-in as {username[:4]}… failed with {status}")
        if totp_key:
            self.second_factor(username, totp_key)

    def second_factor(self, username: str, totp_key: str) -> None:
        """The staff code step: a TOTP code from the device production.sh gave the demo user."""
        from django_otp.oath import totp  # the portal's own virtualenv runs this script

        path = "/accounts/second-factor/"
        status, _, body = self.request(path)
        parser = Links()
        parser.feed(body.decode("utf-8", "replace"))
        if status != 200 or not parser.csrf:
            raise SystemExit(f"the second-factor step for {username[:4]}… answered {status}")
        form = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": parser.csrf, "code": f"{totp(bytes.fromhex(totp_key)):06d}"}
        ).encode()
        status, _, _ = self.request(
            path, form, {"Content-Type": "application/x-www-form-urlencoded", "Referer": self.base + path}
        )
        if status != 302:
            raise SystemExit(f"the second factor for {username[:4]}… failed with {status}")


def shape(path: str) -> str:
    bare, _, query = path.partition("?")
    return SHAPE.sub("N", bare) + ("?" + re.sub(r"=[^&]*", "=", query) if query else "")


class Queue:
    """Pages to visit, a new kind of page before one more of a kind already queued: with 100
    regions' change pages in the way, the page limit still leaves no kind of page unvisited."""

    def __init__(self, starts: list[str]) -> None:
        self.new: deque[str] = deque()
        self.more: deque[str] = deque()
        self.shapes: set[str] = set()
        for path in starts:
            self.append(path)

    def append(self, path: str) -> None:
        kind = shape(path)
        (self.more if kind in self.shapes else self.new).append(path)
        self.shapes.add(kind)

    def popleft(self) -> str:
        return self.new.popleft() if self.new else self.more.popleft()

    def __bool__(self) -> bool:
        return bool(self.new or self.more)


def crawl(
    name: str,
    browser: Browser,
    starts: list[str],
    failures: list[str],
    assets: set[str],
    pages: list[tuple[str, bytes]],
) -> int:
    """Visit what the persona reaches; append (path, body) of every HTML page that answered 200."""
    seen: set[str] = set()
    queue = Queue(starts)
    visited = 0
    while queue and visited < MAX_PAGES_PER_PERSONA:
        path = queue.popleft()
        if path in seen:
            continue
        seen.add(path)
        status, headers, body = browser.request(path)
        visited += 1
        print(f"{name:10} {status} {path}")
        if status >= 500:
            failures.append(f"{name}: {status} on {path}")
            continue
        if status in (301, 302) and headers.get("Location", "").startswith("/"):
            queue.append(headers["Location"])
            continue
        if "text/html" not in headers.get("Content-Type", ""):
            continue
        if status == 200:
            pages.append((path, body))
        parser = Links()
        parser.feed(body.decode("utf-8", "replace"))
        for href in parser.pages:
            url = urllib.parse.urljoin(path, href)
            parts = urllib.parse.urlsplit(url)
            if parts.netloc and parts.netloc != urllib.parse.urlsplit(browser.base).netloc:
                continue
            local = parts.path + (f"?{parts.query}" if parts.query else "")
            if SKIP.search(local) or parts.path.startswith("/static/"):
                continue
            if parts.path.startswith("/admin/") and parts.query:
                continue  # list filters and sorting: the same pages again
            queue.append(local)
        for src in parser.assets:
            url = urllib.parse.urljoin(path, src)
            if urllib.parse.urlsplit(url).path.startswith("/static/"):
                assets.add(url)
            else:
                queue.append(url)  # a picture or script made for this persona (a QR code): a page
    return visited


def check_assets(browser: Browser, assets: set[str], failures: list[str]) -> None:
    for url in sorted(assets):
        path = urllib.parse.urlsplit(url).path
        status, headers, body = browser.request(path, headers={"Accept-Encoding": "gzip, br"})
        cache = headers.get("Cache-Control", "")
        encoding = headers.get("Content-Encoding", "")
        print(f"{'asset':10} {status} {path} [{encoding or 'identity'}; {cache}]")
        if status != 200:
            failures.append(f"asset {path}: {status}")
            continue
        if "max-age=315360000" not in cache and "immutable" not in cache:
            failures.append(f"asset {path}: not cached far into the future ({cache!r})")
        if path.endswith(COMPRESSIBLE) and encoding not in ("gzip", "br"):
            failures.append(f"asset {path}: not compressed")
        if encoding == "gzip":
            gzip.decompress(body)


def call_api(base: str, key: str, voucher: str, failures: list[str]) -> None:
    api = Browser(base)
    auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    body = json.dumps(
        {"voucher": voucher, "category": "outpatient", "amount_fen": 1234, "reference": f"crawl-{uuid.uuid4().hex[:8]}"}
    ).encode()
    idem = {**auth, "Idempotency-Key": uuid.uuid4().hex}
    calls = [
        ("POST", "/api/v1/settlements", body, idem, 201),
        ("POST", "/api/v1/settlements", body, idem, 201),  # a replay answers the same
        ("POST", "/api/v1/settlements", b"{not json", {**auth, "Idempotency-Key": uuid.uuid4().hex}, 400),
        ("POST", "/api/v1/settlements", body, {"Content-Type": "application/json", "Idempotency-Key": "x"}, 401),
    ]
    first_id = None
    for method, path, data, headers, expected in calls:
        status, _, answer = api.request(path, data, headers, method)
        print(f"{'api':10} {status} {method} {path}")
        if status != expected:
            failures.append(f"api {method} {path}: {status}, expected {expected}: {answer[:200]!r}")
        if status == 201 and first_id is None:
            first_id = json.loads(answer)["id"]
    if first_id is not None:
        for method, path, data, headers, expected in [
            ("GET", f"/api/v1/settlements/{first_id}", None, auth, 200),
            (
                "POST",
                f"/api/v1/settlements/{first_id}/refund",
                json.dumps({"amount_fen": 234}).encode(),
                {**auth, "Idempotency-Key": uuid.uuid4().hex},
                201,
            ),
        ]:
            status, _, answer = api.request(path, data, headers, method)
            print(f"{'api':10} {status} {method} {path}")
            if status != expected:
                failures.append(f"api {method} {path}: {status}, expected {expected}: {answer[:200]!r}")


STARTS = {
    "anonymous": [
        "/",
        "/pooling/guides/",
        "/pooling/questions/",
        "/pooling/check/",
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/password-reset/",
        "/no-such-page/",
        "/healthz",
        "/readyz",
    ],
    "holder": [
        "/dashboard/",
        "/statements/",
        "/payments/spending/",
        "/payments/spending/?format=csv",
        "/payments/voucher/",
        "/payments/premiums/",
        "/accounts/inbox/",
        "/pooling/add/",
    ],
    "relative": ["/dashboard/", "/payments/my-payments/", "/accounts/inbox/", "/pooling/order/"],
    "counter": ["/counter/"],
    "admin": ["/admin/"],
}


# What each staff persona must really reach (not only the log-in or code page).
MUST_REACH = {"admin": re.compile(r"^/admin/(?!login/)"), "counter": re.compile(r"^/counter/")}


def save(out: Path, name: str, browser: Browser, pages: list[tuple[str, bytes]]) -> None:
    """For .ci/page_checks.py: the persona's pages (one path a line), their HTML, its cookies."""
    folder = out / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pages.txt").write_text("".join(f"{path}\n" for path, _ in pages), encoding="utf-8")
    for number, (_, body) in enumerate(pages):
        (folder / f"{number:04d}.html").write_bytes(body)
    cookies = [{"name": c.name, "value": c.value, "path": c.path or "/"} for c in browser.jar]
    (folder / "cookies.json").write_text(json.dumps(cookies), encoding="utf-8")


def main() -> int:
    base, credentials_file = sys.argv[1], sys.argv[2]
    out = Path(sys.argv[3]) if len(sys.argv) > 3 else None
    with open(credentials_file, encoding="utf-8") as handle:
        credentials = json.load(handle)
    failures: list[str] = []
    assets: set[str] = set()
    total = 0
    for name, starts in STARTS.items():
        browser = Browser(base)
        who = credentials["personas"].get(name)
        if who:
            browser.login(
                who["username"], who["password"], who.get("login_path", "/accounts/login/"), who.get("totp_key", "")
            )
        pages: list[tuple[str, bytes]] = []
        total += crawl(name, browser, starts, failures, assets, pages)
        if name in MUST_REACH and not any(MUST_REACH[name].match(path) for path, _ in pages):
            failures.append(f"{name}: reached no page of its own (only {[p for p, _ in pages][:5]})")
        if out is not None:
            save(out, name, browser, pages)
    check_assets(Browser(base), assets, failures)
    call_api(base, credentials["api_key"], credentials["voucher"], failures)
    print(
        f"\ncrawled {total} pages and {len(assets)} static assets as {len(STARTS)} personas; {len(failures)} failures"
    )
    for failure in failures:
        print(f"FAIL {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
