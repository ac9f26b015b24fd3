"""The holder's statement pages: list on the dashboard, HTML page with a chart, PDF download."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from statements.models import MonthlyStatement
from statements.monthly import run_sync
from tests.conftest import need

from .conftest import BEFORE, MONTH, at, credit, open_account, pay, premium, refund

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "statements"


@pytest.fixture
def statement(holder: Any, mother: Any) -> MonthlyStatement:
    open_account(holder)
    credit(holder, 120_000, BEFORE)
    credit(holder, 45_678, at(1))
    pay(holder, holder, 23_400, "outpatient", at(4))
    pay(holder, mother, 56_700, "inpatient", at(9))
    pay(holder, mother, 8_800, "pharmacy_drug", at(18))
    refund(holder, mother, 1_200, "pharmacy_drug", at(19))
    premium(holder, mother, 38_000, at(22))
    run_sync(MONTH)
    return MonthlyStatement.objects.get(person=holder)


def login(person: Any) -> Client:
    client = Client()
    client.force_login(User.objects.get(person=person))
    return client


def test_it_lists_the_statement_on_the_holders_dashboard(statement: MonthlyStatement, holder: Any) -> None:
    page = login(holder).get("/dashboard/").content.decode()
    assert 'id="statements-section"' in page
    assert "/statements/2025-10/" in page


def test_it_shows_the_statement_with_a_chart_to_its_holder_only(
    statement: MonthlyStatement, holder: Any, mother: Any, outsider: Any
) -> None:
    response = login(holder).get("/statements/2025-10/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "¥1,200.00" in html  # opening balance
    assert "李秀英" in html
    svg = re.search(r"<svg class=\"statement-chart\".*?</svg>", html, re.S)
    assert svg is not None
    assert svg.group(0).count("<rect") == 2  # one bar per person who was paid for
    assert " style=" not in html and "<style" not in html  # the CSP forbids inline styles
    assert login(mother).get("/statements/2025-10/").status_code == 404
    assert login(outsider).get("/statements/2025-10/pdf/").status_code == 404
    assert login(holder).get("/statements/2025-09/").status_code == 404
    assert login(holder).get("/statements/2025-13/").status_code == 404
    anonymous = Client().get("/statements/2025-10/")
    assert anonymous.status_code == 302 and "/accounts/login" in anonymous["Location"]


def test_it_lists_all_statements_of_the_holder(statement: MonthlyStatement, holder: Any, mother: Any) -> None:
    html = login(holder).get("/statements/").content.decode()
    assert "/statements/2025-10/pdf/" in html
    assert "2025-10" not in login(mother).get("/statements/").content.decode().replace("/statements/", "")


def test_it_downloads_a_pdf_with_correct_chinese_text(statement: MonthlyStatement, holder: Any) -> None:
    need(shutil.which("pdftotext") is not None, "poppler-utils (pdftotext)")
    client = login(holder)
    response = client.get("/statements/2025-10/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert 'filename="statement-2025-10.pdf"' in response["Content-Disposition"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pdf_path = ARTIFACTS / "statement-2025-10.pdf"
    pdf_path.write_bytes(response.content)

    text = subprocess.run(["pdftotext", "-layout", str(pdf_path), "-"], capture_output=True, check=True, text=True).stdout
    assert "张伟" in text and "李秀英" in text
    assert "2025" in text and "10" in text
    for amount in ["¥1,200.00", "¥456.78", "¥234.00", "¥655.00"]:
        assert amount in text, amount
    fonts = subprocess.run(["pdffonts", str(pdf_path)], capture_output=True, check=True, text=True).stdout
    assert "NotoSansCJK" in fonts and " yes " in fonts  # embedded

    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(pdf_path),
                    str(ARTIFACTS / "statement-2025-10")], check=True)
    assert (ARTIFACTS / "statement-2025-10.png").stat().st_size > 10_000

    # Rendered once, on the first download; the second download is the stored file.
    stored = MonthlyStatement.objects.get(pk=statement.pk)
    assert stored.pdf_rendered_at is not None
    again = client.get("/statements/2025-10/pdf/")
    assert again.content == response.content
    assert MonthlyStatement.objects.get(pk=statement.pk).pdf_rendered_at == stored.pdf_rendered_at


def test_a_pdf_stored_with_an_older_layout_is_made_again(statement: MonthlyStatement, holder: Any) -> None:
    from statements.pdf import LAYOUT

    MonthlyStatement.objects.filter(pk=statement.pk).update(pdf=b"%PDF-1.4 old layout", pdf_language="zh-hans",
                                                            pdf_layout=LAYOUT - 1)
    response = login(holder).get("/statements/2025-10/pdf/")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert response.content != b"%PDF-1.4 old layout"
    stored = MonthlyStatement.objects.get(pk=statement.pk)
    assert (bytes(stored.pdf), stored.pdf_layout) == (response.content, LAYOUT)


def test_it_renders_the_pdf_in_the_readers_language(statement: MonthlyStatement, holder: Any, tmp_path: Path) -> None:
    User.objects.filter(person=holder).update(language="en")
    response = login(holder).get("/statements/2025-10/pdf/", HTTP_ACCEPT_LANGUAGE="en")
    path = tmp_path / "en.pdf"
    path.write_bytes(response.content)
    need(shutil.which("pdftotext") is not None, "poppler-utils (pdftotext)")
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True, text=True).stdout
    assert "October 2025" in text and "张伟" in text
