"""python manage.py generate_statements --month YYYY-MM [--sync] [--chunk-size N]

Queues (or with --sync makes, in this process) the monthly statements of every personal
account. Safe to run any number of times: one run per month, one statement per account and
month; a repeat queues again only what is unfinished or failed.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from accounts.models import AuditChannel, audit
from statements.models import MAX_CHUNK_SIZE
from statements.monthly import (
    DEFAULT_CHUNK_SIZE,
    StatementError,
    parse_month,
    run_progress,
    run_sync,
    start_statement_run,
)


class Command(BaseCommand):
    help = "Make the monthly statements of every personal account for one month (queued, or --sync)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", required=True, help="the month to cover, as YYYY-MM (it must have ended)")
        parser.add_argument("--sync", action="store_true", help="make the statements in this process instead of queuing them")
        parser.add_argument(
            "--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE,
            help=f"accounts per task (1-{MAX_CHUNK_SIZE}; used when the month's run is first created)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        translation.activate("en")
        try:
            month = parse_month(options["month"])
            if options["sync"]:
                started, progress = run_sync(month, chunk_size=options["chunk_size"])
            else:
                started = start_statement_run(month, chunk_size=options["chunk_size"])
                progress = run_progress(started.run)
        except StatementError as exc:
            raise CommandError(str(exc.message)) from exc
        run = started.run
        audit("statements.start", channel=AuditChannel.COMMAND, obj=run,
              after={"month": str(run), "sync": options["sync"], "chunks": len(started.queued), "created": started.created})
        what = "started" if started.created else "already existed"
        self.stdout.write(
            f"Statements for {run}: run {what}; {run.total_accounts} account(s) in {run.total_chunks} chunk(s)."
        )
        if options["sync"]:
            self.stdout.write(
                f"Done: {progress.statements} statement(s), {progress.failed} account(s) failed to reconcile, "
                f"{progress.chunks_failed} chunk(s) failed."
            )
            if progress.failed or progress.chunks_failed:
                raise CommandError("Some statements could not be made; see the statement run in admin for the reasons.")
        elif started.queued and started.enqueued is False:
            self.stderr.write(
                f"The task queue is not reachable: {len(started.queued)} chunk(s) are recorded and will be queued"
                " by the periodic sweep once it is back (or run this command again with --sync)."
            )
        elif started.queued:
            self.stdout.write(f"Queued {len(started.queued)} chunk(s) for the workers.")
        else:
            self.stdout.write(f"Nothing to queue: {progress.statements} statement(s) already made.")
