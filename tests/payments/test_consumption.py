"""Consumption details: the holder's and the patient's views, filters, pages, CSV, dashboard."""

from __future__ import annotations

import csv
import io

import pytest

from tests.conftest import make_person

from .conftest import bind, credit, voucher_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def family(hospital, pharmacy, holder, mother):
    """The holder paid for himself at the hospital and for his mother at both places."""
    credit(holder, 100_000)
    bind(holder, mother, "parent")
    hospital.settle(voucher_for(holder), 1_000)
    hospital.settle(voucher_for(mother), 2_000)
    pharmacy.settle(voucher_for(mother), 300, category="pharmacy_drug")
    return holder, mother


def test_the_holder_sees_all_spending_from_their_account_with_totals(client, family):
    holder, mother = family
    client.force_login(holder.user)
    html = client.get("/payments/spending/").content.decode()
    assert "李秀英" in html and "Myself" in html
    assert "海口市人民医院" in html and "海南一心大药房" in html
    assert "¥23.00" in html  # mother's total: 20.00 + 3.00
    assert "¥33.00" in html  # the month's total


def test_the_holder_filters_by_relative_category_institution_and_month(client, family, pharmacy):
    holder, mother = family
    client.force_login(holder.user)
    html = client.get("/payments/spending/", {"person": mother.pk}).content.decode()
    assert "Myself" not in html and "¥20.00" in html
    html = client.get("/payments/spending/", {"category": "pharmacy_drug"}).content.decode()
    assert "¥3.00" in html and "¥20.00" not in html
    html = client.get("/payments/spending/", {"institution": pharmacy.institution.pk}).content.decode()
    assert "¥3.00" in html and "¥10.00" not in html
    assert "No payments match" in client.get("/payments/spending/", {"month": "2001-01"}).content.decode()
    bad = client.get("/payments/spending/", {"month": "March"})
    assert bad.status_code == 200 and "year-month" in bad.content.decode()


def test_the_patient_sees_what_they_paid_from_each_source(client, family):
    _holder, mother = family
    client.force_login(mother.user)
    html = client.get("/payments/my-payments/").content.decode()
    assert "张伟" in html and "¥20.00" in html and "¥3.00" in html
    assert "¥10.00" not in html  # the holder's own payment is not hers


def test_an_outsider_sees_nothing_of_the_family(client, family, outsider):
    client.force_login(outsider.user)
    html = client.get("/payments/spending/").content.decode()
    assert "李秀英" not in html and "No payments yet" in html


def test_the_csv_opens_in_excel_with_chinese_text(client, family):
    holder, _mother = family
    client.force_login(holder.user)
    response = client.get("/payments/spending/", {"format": "csv", "category": "outpatient"})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "Date" and len(rows) == 3
    assert {r[1] for r in rows[1:]} == {"张伟", "李秀英"}
    assert {r[4] for r in rows[1:]} == {"10.00", "20.00"}


def test_the_list_is_paginated_without_a_query_per_row(client, hospital, holder, django_assert_max_num_queries):
    credit(holder, 1_000_000)
    relatives = [make_person(f"亲{i}", birth="1950-01-01", scheme="resident") for i in range(3)]
    for person in relatives:
        bind(holder, person, "parent")
    for i in range(25):
        hospital.settle(voucher_for(relatives[i % 3]), 100 + i)
    client.force_login(holder.user)
    with django_assert_max_num_queries(20):
        first = client.get("/payments/spending/")
    assert "Page 1 of 2" in first.content.decode()
    assert "Page 2 of 2" in client.get("/payments/spending/", {"page": 2}).content.decode()


def test_the_dashboard_shows_balance_voucher_link_and_recent_spending(client, family):
    holder, _mother = family
    client.force_login(holder.user)
    html = client.get("/dashboard/").content.decode()
    assert 'data-testid="balance">¥967.00<' in html  # 1,000.00 - 10.00 - 20.00 - 3.00
    assert html.count("¥967.00") == 1  # the pooling section shows the balance; it is not repeated
    assert "/payments/voucher/" in html and "李秀英" in html


def test_a_patient_without_an_account_gets_the_voucher_link_only(client, mother):
    client.force_login(mother.user)
    html = client.get("/dashboard/").content.decode()
    assert "/payments/voucher/" in html and "/payments/premiums/" not in html
