"""Bureau admin for statement runs: progress (done / total / failed) and a retry button.

Individual statements are not shown here: they are the citizens' own documents.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet, Sum
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import AuditChannel, audit

from .models import ChunkStatus, StatementChunk, StatementRun


class StatementChunkInline(admin.TabularInline):
    model = StatementChunk
    extra = 0
    can_delete = False
    fields = ("number", "status", "size", "statements", "failed", "attempts", "claimed_at", "finished_at", "error")
    readonly_fields = fields
    ordering = ["number"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(StatementRun)
class StatementRunAdmin(admin.ModelAdmin):
    list_display = ["__str__", "state", "progress", "failed_accounts", "chunk_progress", "created_at", "finished_at"]
    readonly_fields = ["month", "chunk_size", "total_accounts", "total_chunks", "created_at", "finished_at"]
    inlines = [StatementChunkInline]
    actions = ["retry_unfinished"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[StatementRun]:
        done = Q(chunks__status=ChunkStatus.DONE)
        return super().get_queryset(request).annotate(
            done_statements=Sum("chunks__statements", filter=done, default=0),
            failed_statements=Sum("chunks__failed", filter=done, default=0),
            chunks_done=Count("chunks", filter=done),
            chunks_broken=Count("chunks", filter=Q(chunks__status=ChunkStatus.FAILED)),
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("state"))
    def state(self, run: Any) -> str:
        if run.finished_at and not run.failed_statements:
            return str(_("Finished"))
        if run.finished_at:
            return str(_("Finished with problems"))
        if run.chunks_broken:
            return str(_("Needs attention"))
        return str(_("Running"))

    @admin.display(description=_("statements done / accounts"))
    def progress(self, run: Any) -> str:
        return f"{run.done_statements:,} / {run.total_accounts:,}"

    @admin.display(description=_("accounts failed"))
    def failed_accounts(self, run: Any) -> str:
        return f"{run.failed_statements:,}"

    @admin.display(description=_("chunks done / total (failed)"))
    def chunk_progress(self, run: Any) -> str:
        return f"{run.chunks_done} / {run.total_chunks} ({run.chunks_broken})"

    @admin.action(description=_("Queue again what is unfinished or failed"))
    def retry_unfinished(self, request: HttpRequest, queryset: QuerySet[StatementRun]) -> None:
        from .monthly import StatementError, start_statement_run

        total = 0
        for run in queryset:
            try:
                result = start_statement_run(run.month, chunk_size=run.chunk_size)
            except StatementError as exc:
                self.message_user(request, str(exc.message), messages.ERROR)
                continue
            audit("statements.retry", channel=AuditChannel.ADMIN, actor=request.user, obj=run,
                  after={"month": str(run), "chunks": len(result.queued)})
            total += len(result.queued)
        self.message_user(
            request,
            ngettext("%(count)d chunk queued again.", "%(count)d chunks queued again.", total) % {"count": total},
            messages.SUCCESS,
        )
