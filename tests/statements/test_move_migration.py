"""The statement models moved from payments to the statements app: statements made before the
move are still there after it, with every figure, and their admin permissions follow them."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from statements.models import ChunkStatus, MonthlyStatement, StatementChunk, StatementRun

from .conftest import MONTH, open_account

BEFORE_THE_MOVE = [("payments", "0006_redundant_indexes")]


def _migrate(targets: list[tuple[str, str | None]] | None = None) -> Any:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_statements_made_before_the_move_are_intact_after_it(holder: Any) -> None:
    account = open_account(holder)  # the ledger's tables do not take part in the move
    # Permissions come from post_migrate; a transactional test before this one may have flushed them.
    from django.apps import apps
    from django.contrib.auth.management import create_permissions

    create_permissions(apps.get_app_config("statements"), verbosity=0)
    permission = Permission.objects.get(codename="view_monthlystatement")
    try:
        old = _migrate(BEFORE_THE_MOVE)
        assert "payments_monthlystatement" in connection.introspection.table_names()
        Run = old.get_model("payments", "StatementRun")
        Chunk = old.get_model("payments", "StatementChunk")
        Statement = old.get_model("payments", "MonthlyStatement")
        ContentType = old.get_model("contenttypes", "ContentType")
        assert ContentType.objects.get(pk=permission.content_type_id).app_label == "payments"
        run = Run.objects.create(month=MONTH, chunk_size=100, total_accounts=1, total_chunks=1)
        Chunk.objects.create(run=run, number=1, first_account_id=account.pk, last_account_id=account.pk, size=1,
                             status="done", statements=1)
        Statement.objects.create(
            account_id=account.pk, person_id=holder.pk, month=MONTH, run=run, opening_fen=10_000, credits_fen=5_000,
            spending_fen=3_000, refunds_fen=500, premiums_fen=1_000, corrections_fen=-200, closing_fen=11_300,
            by_person=[{"name": holder.name, "spending_fen": 3_000}], by_category=[{"category": "outpatient"}],
            entry_count=4, pdf=b"%PDF-1.4 kept", pdf_language="zh-hans",
        )
    finally:
        _migrate()  # forward to the newest state, whatever happened above

    statement = MonthlyStatement.objects.select_related("run", "account", "person").get()
    assert (statement.account, statement.person, statement.month) == (account, holder, MONTH)
    assert (statement.opening_fen, statement.credits_fen, statement.spending_fen, statement.refunds_fen,
            statement.premiums_fen, statement.corrections_fen, statement.closing_fen) == (
        10_000, 5_000, 3_000, 500, 1_000, -200, 11_300)
    assert statement.by_person == [{"name": holder.name, "spending_fen": 3_000}]
    assert statement.entry_count == 4 and bytes(statement.pdf) == b"%PDF-1.4 kept"
    assert statement.run == StatementRun.objects.get(month=MONTH)
    chunk = StatementChunk.objects.get()
    assert (chunk.run, chunk.status, chunk.statements) == (statement.run, ChunkStatus.DONE, 1)
    assert list(holder.statements.all()) == [statement] and list(account.statements.all()) == [statement]
    # The permission (and so every group holding it) moved with the model.
    permission.refresh_from_db()
    assert permission.content_type.app_label == "statements"
    assert permission.content_type.model_class() is MonthlyStatement


def test_messages_queued_under_the_old_task_names_are_still_consumed(db: Any) -> None:
    from portal.celery import app

    app.loader.import_default_modules()  # as a worker does at start
    for name in ("start_statement_run_task", "generate_statement_chunk_task", "requeue_lost_statement_chunks_task"):
        assert f"statements.tasks.{name}" in app.tasks
        assert f"payments.tasks.{name}" in app.tasks
    run_id = app.tasks["payments.tasks.start_statement_run_task"].apply(args=["2025-10"]).get()
    assert StatementRun.objects.get(pk=run_id).month == MONTH
