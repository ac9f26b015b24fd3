"""Issue 14 item 6: statement line items under the totals (HTML and PDF) and the bureau's name."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from accounts.models import Office, User
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


def login(person: Any, language: str = "zh-hans") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(User.objects.get(person=person))
    User.objects.filter(person=person).update(language=language)
    return client


def _rows(html: str) -> list[str]:
    table = re.search(r'data-testid="statement-items".*?</table>', html, re.S)
    assert table is not None
    body = table.group(0).split("<tbody>")[1]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in rows]


def test_the_statement_lists_every_payment_under_the_totals(statement: MonthlyStatement, holder: Any) -> None:
    Office.objects.create(name="海口市医保服务大厅", region_id=holder.region_id, address="海口市龙华区滨海大道 1 号")
    html = login(holder).get("/statements/2025-10/").content.decode()
    assert html.index('data-testid="statement-summary"') < html.index('data-testid="statement-items"')
    rows = _rows(html)
    assert len(rows) == 5
    assert rows[0].startswith("2025-10-04 海口市人民医院") and "本人（张伟）" in rows[0] and "¥234.00" in rows[0]
    assert "李秀英" in rows[1] and "¥567.00" in rows[1]
    assert rows[3] == "2025-10-19 海口市人民医院 药店购药 李秀英 — ¥12.00"  # the refund, in the refunds column
    assert rows[4] == "2025-10-22 居民医保费基金 居民医保费 李秀英 ¥380.00 —"
    assert "本人（张伟）：¥234.00；李秀英：¥1,023.00" in html  # the chart's text, Chinese punctuation
    assert "出具单位：海南省海口市医疗保障局" in html
    assert "地址：海口市龙华区滨海大道 1 号" in html


def test_the_line_items_in_english(statement: MonthlyStatement, holder: Any) -> None:
    html = login(holder, "en").get("/statements/2025-10/").content.decode()
    assert "Payments this month" in html
    assert "Issued by: Medical Security Bureau of" in html
    rows = _rows(html)
    assert rows[1].startswith("2025-10-09") and "Inpatient" in rows[1] and "¥567.00" in rows[1]


@override_settings(PORTAL_BUREAU_NAME="海南省医疗保障局", PORTAL_BUREAU_ADDRESS="海口市美兰区国兴大道 9 号")
def test_the_bureau_comes_from_the_settings_when_set(statement: MonthlyStatement, holder: Any) -> None:
    html = login(holder).get("/statements/2025-10/").content.decode()
    assert "出具单位：海南省医疗保障局" in html and "地址：海口市美兰区国兴大道 9 号" in html


def test_line_items_cost_one_query_however_many(statement: MonthlyStatement, holder: Any, mother: Any) -> None:
    client = login(holder)
    with CaptureQueriesContext(connection) as few:
        client.get("/statements/2025-10/")
    for day in range(23, 29):
        pay(holder, mother, 100, "pharmacy_drug", at(day))
    with CaptureQueriesContext(connection) as many:
        html = client.get("/statements/2025-10/").content.decode()
    assert len(_rows(html)) == 11
    assert len(many) == len(few)


@override_settings(PORTAL_BUREAU_NAME="海南省海口市医疗保障局", PORTAL_BUREAU_ADDRESS="海口市龙华区滨海大道 1 号")
def test_the_pdf_has_the_line_items_and_the_bureau(statement: MonthlyStatement, holder: Any) -> None:
    need(shutil.which("pdftotext") is not None, "poppler-utils (pdftotext)")
    response = login(holder).get("/statements/2025-10/pdf/")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "statement-2025-10-items.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True).stdout
    assert "出具单位：海南省海口市医疗保障局" in text
    assert "海口市龙华区滨海大道 1 号" in text
    assert "本月收支明细" in text
    assert "2025-10-09" in text and "2025-10-19" in text and "海口市人民医院" in text
    subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "2", str(path),
                    str(ARTIFACTS / "statement-2025-10-items")], check=True)
