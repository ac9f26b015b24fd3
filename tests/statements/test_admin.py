"""Bureau staff follow a statement run in admin: done / total / failed, and retry."""

from __future__ import annotations

from typing import Any

from django.test import Client

from accounts.models import AuditEvent
from statements.models import ChunkStatus, StatementChunk, StatementRun
from statements.monthly import run_sync, start_statement_run
from tests.conftest import login_staff, make_person

from .conftest import MONTH, at, credit


def test_it_shows_progress_and_failures_of_a_run_to_bureau_staff(bureau_clerk: Any, django_capture_on_commit_callbacks: Any) -> None:
    for i in range(3):
        credit(make_person(f"进度{i}"), 1_000, at(3))
    start_statement_run(MONTH, chunk_size=2, enqueue=False)
    run_sync(MONTH)
    StatementChunk.objects.filter(number=2).update(failed=1, error="account 9: the statement lines add up to 1")

    client = Client()
    login_staff(client, bureau_clerk)
    html = client.get("/admin/statements/statementrun/").content.decode()
    assert "2025-10" in html
    assert "3 / 3" in html  # statements done / accounts
    assert "2 / 2 (0)" in html  # chunks done / total (failed)
    detail = client.get(f"/admin/statements/statementrun/{StatementRun.objects.get().pk}/change/").content.decode()
    assert "the statement lines add up to 1" in detail

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/statements/statementrun/", {
            "action": "retry_unfinished", "_selected_action": [StatementRun.objects.get().pk],
        })
    assert response.status_code == 302
    assert StatementChunk.objects.get(number=2).status == ChunkStatus.DONE  # eager: done again at once
    assert AuditEvent.objects.filter(action="statements.retry").exists()


def test_it_keeps_citizens_out_of_the_run_admin(holder: Any) -> None:
    from accounts.models import User

    client = Client()
    client.force_login(User.objects.get(person=holder))
    assert client.get("/admin/statements/statementrun/").status_code == 302
