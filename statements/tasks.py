"""Statement background work: thin Celery tasks that take ids and call statements.monthly.

Every task is acknowledged late (settings) and idempotent through unique constraints, so a
redelivery after a crash changes nothing that was already done.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

# -- monthly statements -----------------------------------------------------------------------


@shared_task(ignore_result=True)
def start_statement_run_task(month: str | None = None) -> int:
    """Beat, on the 1st: start last month's statements (or the given YYYY-MM). Returns the run id."""
    from django.utils import timezone

    from . import monthly

    target = monthly.parse_month(month) if month else monthly.previous_month(timezone.localdate())
    return monthly.start_statement_run(target).run.pk


@shared_task(ignore_result=True)
def generate_statement_chunk_task(run_id: int, chunk_id: int) -> dict[str, Any]:
    """Make the statements of one chunk (a few thousand accounts at most)."""
    from . import monthly

    outcome = monthly.process_chunk(chunk_id)
    return {"run": run_id, "chunk": chunk_id, "status": outcome.status, "stored": outcome.stored, "failed": outcome.failed}


@shared_task(ignore_result=True)
def requeue_lost_statement_chunks_task() -> int:
    """Periodic: queue again chunks whose worker died or whose message was lost; start a
    missed month. Returns how many chunks were queued again."""
    from . import monthly

    monthly.ensure_previous_month_run()
    return len(monthly.requeue_lost_chunks())


# -- the names these tasks had when they lived in payments/tasks.py -----------------------------
# Messages queued (or a beat schedule saved) before the move still carry the old names; a worker
# consumes them with these aliases. Nothing sends under the old names any more.


@shared_task(name="payments.tasks.start_statement_run_task", ignore_result=True)
def _old_start_statement_run_task(month: str | None = None) -> int:
    return start_statement_run_task(month)


@shared_task(name="payments.tasks.generate_statement_chunk_task", ignore_result=True)
def _old_generate_statement_chunk_task(run_id: int, chunk_id: int) -> dict[str, Any]:
    return generate_statement_chunk_task(run_id, chunk_id)


@shared_task(name="payments.tasks.requeue_lost_statement_chunks_task", ignore_result=True)
def _old_requeue_lost_statement_chunks_task() -> int:
    return requeue_lost_statement_chunks_task()
