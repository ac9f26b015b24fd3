"""Starting a statement run from admin, following its progress, and the region's statements."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts import scoping
from accounts.models import AuditEvent
from statements.models import MonthlyStatement, StatementRun
from statements.monthly import run_sync
from tests.conftest import HAIKOU, SANYA, login_staff, make_bureau_staff, make_person

from .conftest import MONTH, at, credit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def staff(username: str, region: str | None, group: str) -> Client:
    client = Client()
    client.cookies["django_language"] = "en"
    return login_staff(client, make_bureau_staff(username, region, group))


def test_a_national_administrator_starts_a_past_months_run_and_follows_it(
        django_capture_on_commit_callbacks: Any) -> None:
    for i in range(3):
        credit(make_person(f"起始{i}"), 1_000, at(3))
    client = staff("nat", None, scoping.NATIONAL_ADMINISTRATOR)
    listing = client.get(reverse("admin:statements_statementrun_changelist")).content.decode()
    assert 'id="start-statement-run"' in listing
    form = client.get(reverse("admin:statements_statementrun_start")).content.decode()
    assert 'value="2025-10"' in form
    with django_capture_on_commit_callbacks(execute=True):  # the workers run eagerly in tests
        response = client.post(reverse("admin:statements_statementrun_start"), {"month": "2025-10"})
    run = StatementRun.objects.get(month=MONTH)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:statements_statementrun_progress", args=[run.pk])
    event = AuditEvent.objects.get(action="statements.start")
    assert event.actor.username == "nat" and event.after["month"] == "2025-10"
    page = client.get(response["Location"]).content.decode()
    assert "3 / 3" in page and "100%" in page
    assert 'http-equiv="refresh"' not in page  # finished: no more reloading


def test_an_unfinished_run_reloads_its_progress_page_and_the_current_month_is_refused() -> None:
    credit(make_person("进行"), 1_000, at(3))
    StatementRun.objects.create(month=MONTH, chunk_size=10, total_accounts=1, total_chunks=1)
    client = staff("nat", None, scoping.NATIONAL_ADMINISTRATOR)
    page = client.get(reverse("admin:statements_statementrun_progress",
                              args=[StatementRun.objects.get().pk])).content.decode()
    assert '<meta http-equiv="refresh" content="5">' in page and "0 / 1" in page
    bad = client.post(reverse("admin:statements_statementrun_start"), {"month": "2099-01"})
    assert bad.status_code == 200 and "Select a valid choice" in bad.content.decode()
    assert StatementRun.objects.count() == 1


@pytest.mark.parametrize("group", [scoping.CITY_ADMINISTRATOR, scoping.CITY_VIEWER, scoping.NATIONAL_VIEWER])
def test_only_national_administrators_start_runs(group: str) -> None:
    client = staff("someone", None if group == scoping.NATIONAL_VIEWER else HAIKOU, group)
    assert 'id="start-statement-run"' not in client.get(
        reverse("admin:statements_statementrun_changelist")).content.decode()
    assert client.get(reverse("admin:statements_statementrun_start")).status_code == 404
    assert client.post(reverse("admin:statements_statementrun_start"), {"month": "2025-10"}).status_code == 404
    assert not StatementRun.objects.exists()


def test_statements_in_admin_stop_at_the_region() -> None:
    haikou, sanya = make_person("海口人", region=HAIKOU), make_person("三亚人", region=SANYA)
    credit(haikou, 12_345, at(3))
    credit(sanya, 1_000, at(3))
    run_sync(MONTH)
    client = staff("hk", HAIKOU, scoping.CITY_VIEWER)
    page = client.get(reverse("admin:statements_monthlystatement_changelist")).content.decode()
    assert haikou.masked_name in page and "¥123.45" in page and sanya.masked_name not in page
    theirs = MonthlyStatement.objects.get(person=sanya)
    got = client.get(reverse("admin:statements_monthlystatement_change", args=[theirs.pk]))
    missing = client.get(reverse("admin:statements_monthlystatement_change", args=[987654]))
    assert got.status_code == missing.status_code == 302 and got["Location"] == missing["Location"]
