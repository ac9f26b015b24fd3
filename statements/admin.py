"""Bureau admin for statement runs: progress (done / total / failed), a start button and a retry button.

A run is one month's job over every account in the country, so only national administrators
start one (a button on the list: a past month, then a progress page that refreshes itself
until the run is done). Statements themselves are listed per region (``RegionScopedAdmin``), in
figures only: their detail and PDF stay the citizens' own documents.
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts import scoping
from accounts.admin_tools import format_yuan as yuan_text
from accounts.models import AuditChannel, audit

from .models import ChunkStatus, MonthlyStatement, StatementChunk, StatementRun

PROGRESS_REFRESH_SECONDS = 5


def may_start_runs(user: Any) -> bool:
    """A run covers the whole country: national administrators (and superusers) start one."""
    return bool(scoping.is_national(user) and (
        user.is_superuser or user.groups.filter(name=scoping.NATIONAL_ADMINISTRATOR).exists()))


def past_months(count: int = 24) -> list[tuple[str, str]]:
    """The last ``count`` months before this one, newest first, as (YYYY-MM, label)."""
    first = timezone.localdate().replace(day=1)
    months = []
    for _i in range(count):
        first = (first - datetime.timedelta(days=1)).replace(day=1)
        months.append((first.strftime("%Y-%m"), first.strftime("%Y-%m")))
    return months


class StartRunForm(forms.Form):
    month = forms.ChoiceField(label=_("Month"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["month"].choices = past_months()  # type: ignore[attr-defined]

    def clean_month(self) -> datetime.date:
        return datetime.date.fromisoformat(self.cleaned_data["month"] + "-01")


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
class StatementRunAdmin(scoping.RegionScopedAdmin):
    # A run has no region: its rows (months and counts, no personal data) are the same for all staff.
    region_paths = ()
    change_list_template = "admin/statements/statementrun/change_list.html"
    list_display = ["__str__", "state", "progress", "failed_accounts", "chunk_progress", "created_at", "finished_at"]
    readonly_fields = ["month", "chunk_size", "total_accounts", "total_chunks", "created_at", "finished_at"]
    inlines = [StatementChunkInline]
    actions = ["retry_unfinished"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[StatementRun]:
        done = Q(chunks__status=ChunkStatus.DONE)
        runs = admin.ModelAdmin.get_queryset(self, request)
        if scoping.staff_prefix(request.user) is None:
            runs = runs.none()
        return runs.annotate(
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

    def get_urls(self) -> list[Any]:
        return [
            path("start/", self.admin_site.admin_view(self.start_view), name="statements_statementrun_start"),
            path("<int:pk>/progress/", self.admin_site.admin_view(self.progress_view),
                 name="statements_statementrun_progress"),
        ] + super().get_urls()

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        extra_context = {**(extra_context or {}), "may_start_runs": may_start_runs(request.user)}
        return super().changelist_view(request, extra_context)

    def start_view(self, request: HttpRequest) -> HttpResponse:
        """Start (or pick up) a past month's run on the workers, then show its progress."""
        if not may_start_runs(request.user):
            raise Http404
        from .monthly import StatementError, start_statement_run

        form = StartRunForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            month = form.cleaned_data["month"]
            try:
                result = start_statement_run(month, enqueue=True)
            except StatementError as exc:
                form.add_error("month", exc.message)
            else:
                audit("statements.start", channel=AuditChannel.ADMIN, actor=request.user, obj=result.run,
                      after={"month": str(result.run), "created": result.created, "chunks": len(result.queued)})
                if result.created:
                    self.message_user(request, _("The statement run for %(month)s has started.")
                                      % {"month": result.run}, messages.SUCCESS)
                else:
                    self.message_user(request, _("The statement run for %(month)s already exists: what was "
                                                 "unfinished is queued again.") % {"month": result.run},
                                      messages.INFO)
                return redirect(reverse("admin:statements_statementrun_progress", args=[result.run.pk]))
        context = {**self.admin_site.each_context(request), "form": form, "opts": self.model._meta,
                   "title": _("Start a statement run")}
        return render(request, "admin/statements/statementrun/start.html", context)

    def progress_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """How far a run is; the page reloads itself every few seconds until it is finished."""
        from .monthly import run_progress

        run = self.get_queryset(request).filter(pk=pk).first()
        if run is None or not self.has_view_permission(request, run):
            raise Http404
        progress = run_progress(run)
        finished = run.finished_at is not None
        context = {**self.admin_site.each_context(request), "run": run, "progress": progress,
                   "finished": finished, "refresh": None if finished else PROGRESS_REFRESH_SECONDS,
                   "state": self.state(run), "opts": self.model._meta,
                   "title": _("Statement run %(month)s") % {"month": run}}
        return render(request, "admin/statements/statementrun/progress.html", context)

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


@admin.register(MonthlyStatement)
class MonthlyStatementAdmin(scoping.RegionScopedAdmin):
    """The region's statements in figures (yuan); names masked, no PDF, nothing editable."""

    region_paths = ("person__region__code",)
    list_display = ["month_col", "masked_name", "opening", "spending", "closing", "entry_count", "created_at"]
    list_select_related = ["person"]
    date_hierarchy = "month"
    fields = ("month_col", "masked_name", "opening", "credits", "spending", "refunds", "premiums", "closing",
              "entry_count", "created_at")
    readonly_fields = fields

    @admin.display(description=_("month"), ordering="month")
    def month_col(self, statement: MonthlyStatement) -> str:
        return statement.month.strftime("%Y-%m")

    @admin.display(description=_("name"))
    def masked_name(self, statement: MonthlyStatement) -> str:
        return statement.person.masked_name

    @admin.display(description=_("opening balance"))
    def opening(self, statement: MonthlyStatement) -> str:
        return yuan_text(statement.opening_fen)

    @admin.display(description=_("money paid in"))
    def credits(self, statement: MonthlyStatement) -> str:
        return yuan_text(statement.credits_fen)

    @admin.display(description=_("medical payments"))
    def spending(self, statement: MonthlyStatement) -> str:
        return yuan_text(statement.spending_fen)

    @admin.display(description=_("refunds"))
    def refunds(self, statement: MonthlyStatement) -> str:
        return yuan_text(statement.refunds_fen)

    @admin.display(description=_("premiums paid"))
    def premiums(self, statement: MonthlyStatement) -> str:
        return yuan_text(statement.premiums_fen)

    @admin.display(description=_("closing balance"))
    def closing(self, statement: MonthlyStatement) -> str:
        return yuan_text(statement.closing_fen)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
