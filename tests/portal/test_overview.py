"""The bureau overview: charts with tables under them and a CSV, for the clerk's own region only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts import scoping
from payments import ledger
from payments.models import Institution, PremiumPayment, Settlement, SettlementSource
from pooling.models import Binding
from tests.conftest import HAIKOU, SANYA, login_staff, make_bureau_staff, make_person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def usage(holder, mother, outsider):
    father = make_person("张父", birth="1946-01-01", sex="M")
    wife = make_person("张妻", birth="1978-01-01", sex="F")
    Binding.objects.create(holder=holder, beneficiary=mother, relationship="parent", status="active")
    Binding.objects.create(holder=holder, beneficiary=father, relationship="parent", status="active")
    Binding.objects.create(holder=holder, beneficiary=wife, relationship="spouse", status="pending")
    Binding.objects.create(holder=outsider, beneficiary=make_person("三亚母", region=SANYA, birth="1950-01-01"),
                           relationship="parent", status="active")
    pharmacy = Institution.objects.create(code="HK-P", name="海口药房", kind="pharmacy", region_id=HAIKOU)
    settlement = Settlement.objects.create(institution=pharmacy, patient=mother, category="pharmacy_drug",
                                           amount_fen=12_345, paid_fen=12_345, reference="r1")
    SettlementSource.objects.create(settlement=settlement, position=1, account=ledger.personal_account(holder),
                                    owner=holder, source="pooled", holder_masked="张*", amount_fen=12_345)
    PremiumPayment.objects.create(payer=holder, relative=mother, year=2026, amount_fen=40_000, channel="web")
    PremiumPayment.objects.create(payer=outsider, relative=make_person("三亚子", region=SANYA), year=2026,
                                  amount_fen=99_900, channel="web")


def test_a_clerk_sees_charts_and_tables_of_their_region(en_client, usage):
    login_staff(en_client, make_bureau_staff("hk", HAIKOU, scoping.CITY_VIEWER))
    page = en_client.get(reverse("bureau-overview")).content.decode()
    assert page.count("<svg") >= 4 and "<rect" in page
    assert "<tr><td>Parent</td><td>2</td><td>0</td></tr>" in page  # not 三亚's parent binding
    assert "<tr><td>Spouse</td><td>0</td><td>1</td></tr>" in page
    assert "Drugs at a pharmacy</td><td>¥123.45</td>" in page
    assert "¥400.00" in page and "¥999.00" not in page


def test_it_shows_bindings_by_region_settlements_by_institution_and_statement_runs(en_client, usage, holder):
    import datetime

    from django.utils import timezone

    from statements.models import ChunkStatus, MonthlyStatement, StatementChunk, StatementRun

    sanya_clinic = Institution.objects.create(code="SY-C", name="三亚诊所", kind="hospital", region_id=SANYA)
    Settlement.objects.create(institution=sanya_clinic, patient=holder, category="outpatient",
                              amount_fen=77_700, paid_fen=77_700, reference="r2")
    month = timezone.localdate().replace(day=1)
    last_month = (month - datetime.timedelta(days=1)).replace(day=1)
    run = StatementRun.objects.create(month=last_month, chunk_size=100, total_accounts=7, total_chunks=2)
    StatementChunk.objects.create(run=run, number=1, first_account_id=1, last_account_id=5, size=5, status="done",
                                  statements=1)
    StatementChunk.objects.create(run=run, number=2, first_account_id=6, last_account_id=9, size=2,
                                  status=ChunkStatus.RUNNING)
    MonthlyStatement.objects.create(account=ledger.personal_account(holder), person=holder, month=last_month,
                                    run=run, opening_fen=0, credits_fen=0, spending_fen=0, refunds_fen=0,
                                    premiums_fen=0, corrections_fen=0, closing_fen=0, entry_count=0)

    login_staff(en_client, make_bureau_staff("hk", HAIKOU, scoping.CITY_VIEWER))
    page = en_client.get(reverse("bureau-overview")).content.decode()
    assert page.count('<svg class="overview-chart"') == 7
    region = Binding.objects.filter(holder=holder).first().holder.region
    assert f"<tr><td>{region.name}</td><td>2</td><td>1</td></tr>" in page  # 三亚's binding is not counted
    assert "<tr><td>海口药房</td><td>1</td><td>¥123.45</td><td>¥123.45</td></tr>" in page
    assert "三亚诊所" not in page and "¥777.00" not in page
    assert f"<tr><td>{last_month:%Y-%m}</td><td>1</td><td>7</td><td>1/2</td><td>still running</td></tr>" in page

    csv_text = en_client.get(reverse("bureau-overview"), {"format": "csv"}).content.decode("utf-8-sig")
    assert f"{region.name},2,1" in csv_text and "海口药房,1,123.45,123.45" in csv_text
    assert f"{last_month:%Y-%m},1,7,1/2," in csv_text and "三亚诊所" not in csv_text


def test_the_overview_downloads_as_csv(en_client, usage):
    login_staff(en_client, make_bureau_staff("hk", HAIKOU, scoping.CITY_VIEWER))
    response = en_client.get(reverse("bureau-overview"), {"format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    assert "Parent,2,0" in text and "Drugs at a pharmacy,123.45" in text and "999.00" not in text


def test_citizens_and_counter_staff_do_not_get_the_overview(client, holder, counter_assistant):
    from tests.conftest import PASSWORD

    client.post(reverse("accounts:login"), {"username": holder.id_number, "password": PASSWORD})
    assert client.get(reverse("bureau-overview")).status_code == 302
    login_staff(client, counter_assistant)
    response = client.get(reverse("bureau-overview"))
    assert response.status_code == 302 and "/admin/" in response["Location"]
