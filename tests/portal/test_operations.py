"""An operator's basics: health checks, no caching of personal pages, request logs without
personal numbers, and the demo's past month that a newcomer opens after `make run`."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from django.test import Client

from accounts.models import InsuredPerson
from pooling.models import Binding
from portal import health
from portal.demo import DEMO_PASSWORD, PEOPLE, load

pytestmark = pytest.mark.django_db


def test_healthz_answers_while_the_process_lives(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ready_with_database_migrations_and_broker(client: Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "migrations": "ok", "broker": "ok"}}


def test_readyz_says_why_when_the_broker_is_down(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing listens on port 1: the real connection attempt fails.
    monkeypatch.setattr(health, "broker_url", lambda: "redis://127.0.0.1:1/0")
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not_ready"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("broker unreachable")


def test_readyz_says_when_migrations_are_missing(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    from django.db.migrations.executor import MigrationExecutor

    monkeypatch.setattr(health, "_migrated", False)
    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: [("accounts", "9999_new")])
    body = client.get("/readyz").json()
    assert body["status"] == "not_ready"
    assert body["checks"]["migrations"] == "1 migrations not applied (run manage.py migrate)"


@pytest.fixture
def demo() -> dict[str, InsuredPerson]:
    load()
    return {p.key: InsuredPerson.objects.by_id_number(p.id_number) for p in PEOPLE}  # type: ignore[misc]


def _logged_in(person: InsuredPerson) -> Client:
    client = Client()
    number = next(p.id_number for p in PEOPLE if p.name == person.name)
    response = client.post("/accounts/login/", {"username": number, "password": DEMO_PASSWORD})
    assert response.status_code == 302, "the demo log-in printed by make run works"
    return client


def test_the_demo_has_last_months_statement_with_its_pdf(demo: dict[str, InsuredPerson]) -> None:
    from payments.demo import last_month
    from statements.models import MonthlyStatement

    month = last_month()
    statement = MonthlyStatement.objects.get(account__person=demo["holder"], month=month)
    # Opening ¥3,200; a contribution; his own, his mother's and his son's care; a refund; a premium.
    assert statement.opening_fen == 320_000
    assert {line["name"] for line in statement.by_person} == {"张伟", "李秀英", "张小明"}
    client = _logged_in(demo["holder"])
    listing = client.get("/statements/").content.decode()
    assert f"/statements/{month:%Y-%m}/" in listing
    page = client.get(f"/statements/{month:%Y-%m}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "李秀英" in html and "张小明" in html
    pdf = client.get(f"/statements/{month:%Y-%m}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    # Running the demo again makes nothing twice.
    load()
    assert MonthlyStatement.objects.filter(month=month).count() == statement.__class__.objects.filter(month=month).count()
    assert MonthlyStatement.objects.filter(account__person=demo["holder"], month=month).count() == 1


def test_a_pdf_without_any_cjk_font_is_explained_not_an_error(demo: dict[str, InsuredPerson], monkeypatch: Any) -> None:
    from payments.demo import last_month
    from statements import pdf as statement_pdf

    monkeypatch.setattr(statement_pdf, "FONT_DIRS", [])
    monkeypatch.setattr(statement_pdf, "_packaged_font", lambda: None)
    client = _logged_in(demo["holder"])
    client.cookies["django_language"] = "en"
    response = client.get(f"/statements/{last_month():%Y-%m}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "missing the Chinese font" in html and "Read the statement on screen" in html


PERSONAL_PAGES = [
    "/dashboard/", "/payments/spending/", "/payments/spending/?format=csv", "/payments/my-payments/",
    "/payments/voucher/", "/payments/premiums/", "/statements/", "/accounts/inbox/", "/accounts/preferences/",
    "/pooling/order/",
]


def test_no_page_is_kept_in_a_browser_cache_but_static_files_are(demo: dict[str, InsuredPerson]) -> None:
    from payments.demo import last_month

    month = last_month()
    client = _logged_in(demo["holder"])
    binding = Binding.objects.filter(holder=demo["holder"]).first()
    assert binding is not None
    pages = [*PERSONAL_PAGES, f"/statements/{month:%Y-%m}/", f"/statements/{month:%Y-%m}/pdf/",
             f"/pooling/relative/{binding.pk}/"]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url
    mother = _logged_in(demo["mother"])
    for url in ("/dashboard/", "/payments/my-payments/", "/accounts/inbox/"):
        assert "no-store" in mother.get(url)["Cache-Control"], url
    # Public pages too (a counter computer's history shows nothing), and answers to errors.
    assert "no-store" in Client().get("/").get("Cache-Control", "")
    assert "no-store" in Client().get("/no-such-page/").get("Cache-Control", "")
    static = Client().get("/static/css/portal.css")
    assert "no-store" not in static.get("Cache-Control", "")


def test_each_request_is_logged_once_with_its_id_and_role_and_no_personal_number(
    demo: dict[str, InsuredPerson], caplog: pytest.LogCaptureFixture
) -> None:
    client = _logged_in(demo["holder"])
    number = demo["holder"].id_number
    with caplog.at_level(logging.INFO, logger="portal.request"):
        response = client.get(f"/counter/?q={number}", HTTP_X_REQUEST_ID="req-0123456789")
        client.get("/dashboard/")
    lines = [r for r in caplog.records if r.name == "portal.request"]
    assert len(lines) == 2
    first = lines[0]
    assert first.request_id == "req-0123456789"  # type: ignore[attr-defined]
    assert response["X-Request-ID"] == "req-0123456789"
    text = first.getMessage()
    assert re.match(r"^GET /counter/ \d{3} [\d.]+ms role=citizen$", text), text
    assert number not in caplog.text
    assert re.fullmatch(r"[0-9a-f]{32}", lines[1].request_id)  # type: ignore[attr-defined]


def test_the_pdf_font_comes_from_the_pinned_package_where_debian_has_none(
    demo: dict[str, InsuredPerson], monkeypatch: Any, tmp_path: Any
) -> None:
    import shutil
    import subprocess

    from payments.demo import last_month
    from statements import pdf as statement_pdf
    from statements.models import MonthlyStatement
    from tests.conftest import need

    monkeypatch.setattr(statement_pdf, "FONT_DIRS", [])  # as on a machine without fonts-noto-cjk
    (regular, _index), bold = statement_pdf.fonts()
    assert "noto_cjk_sans_otc" in str(regular) and bold is None
    statement = MonthlyStatement.objects.get(account__person=demo["holder"], month=last_month())
    data = statement_pdf.render_statement_pdf(statement, "zh-hans")
    need(shutil.which("pdftotext") is not None, "poppler-utils (pdftotext)")
    path = tmp_path / "statement.pdf"
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True, text=True).stdout
    assert "张伟" in text and "李秀英" in text
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True, text=True).stdout
    assert "NotoSansCJK" in fonts
