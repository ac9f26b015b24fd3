"""The bureau overview: how family pooling is used in the clerk's own region.

Server-rendered SVG bar charts, each with its table underneath, and the same tables as CSV.
Lives in portal because it reads several apps (bindings, settlements, premiums).
"""

from __future__ import annotations

import csv
import datetime
from typing import Any

from django.contrib.admin.views.decorators import staff_member_required
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncMonth
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.admin_tools import format_yuan
from accounts.models import Relationship, SpendingCategory
from accounts.scoping import region_q, staff_prefix
from payments.models import PremiumPayment, Settlement, SettlementSource
from pooling.models import Binding, BindingStatus
from statements.models import ChunkStatus, MonthlyStatement, StatementRun

CHART_WIDTH, BAR_HEIGHT, LABEL_WIDTH = 640, 22, 180


def bar_chart(rows: list[tuple[str, int]], money: bool = False) -> dict[str, Any]:
    """Bars laid out in Python so the template only draws rectangles (no script, no style)."""
    top = max((value for _label, value in rows), default=0) or 1
    span = CHART_WIDTH - LABEL_WIDTH - 110
    bars = [{
        "label": label, "y": i * (BAR_HEIGHT + 6), "text_y": i * (BAR_HEIGHT + 6) + 16,
        "width": max(1, round(value * span / top)) if value else 0, "value": format_yuan(value) if money else value,
        "value_x": LABEL_WIDTH + (round(value * span / top) if value else 0) + 6,
    } for i, (label, value) in enumerate(rows)]
    return {"bars": bars, "height": max(1, len(rows)) * (BAR_HEIGHT + 6), "width": CHART_WIDTH,
            "label_width": LABEL_WIDTH}


def _month_label(month: Any) -> str:
    return f"{month:%Y-%m}" if month else ""


def overview_data(user: Any, today: datetime.date | None = None) -> dict[str, Any]:
    today = today or timezone.localdate()
    since = (today.replace(day=1) - datetime.timedelta(days=335)).replace(day=1)
    bindings = Binding.objects.filter(region_q(user, "holder__region__code"))
    relationships = dict(Relationship.choices)
    categories = dict(SpendingCategory.choices)

    by_relationship: dict[str, dict[str, int]] = {}
    for row in (bindings.filter(status__in=[BindingStatus.ACTIVE, BindingStatus.PENDING])
                .values("relationship", "status").annotate(n=Count("id"))):
        by_relationship.setdefault(row["relationship"], {"active": 0, "pending": 0})[row["status"]] = row["n"]
    relationship_rows = [(str(relationships.get(r, r)), counts["active"], counts["pending"])
                         for r, counts in sorted(by_relationship.items())]

    region_rows = [(row["holder__region__name"] or row["holder__region__code"], row["active"], row["pending"])
                   for row in (bindings.filter(status__in=[BindingStatus.ACTIVE, BindingStatus.PENDING])
                               .values("holder__region__code", "holder__region__name")
                               .annotate(active=Count("id", filter=Q(status=BindingStatus.ACTIVE)),
                                         pending=Count("id", filter=Q(status=BindingStatus.PENDING)))
                               .order_by("holder__region__code"))]

    new_rows = [(_month_label(row["month"]), row["n"]) for row in (
        bindings.filter(created_at__date__gte=since).annotate(month=TruncMonth("created_at"))
        .values("month").annotate(n=Count("id")).order_by("month"))]

    spending: dict[tuple[str, str], int] = {}
    for spent in (SettlementSource.objects.filter(region_q(user, "owner__region__code"), source="pooled",
                                                settlement__created_at__date__gte=since)
                .annotate(month=TruncMonth("settlement__created_at"), category=F("settlement__category"))
                .values("month", "category").annotate(fen=Sum(F("amount_fen") - F("refunded_fen")))
                .order_by("month", "category")):
        spending[(_month_label(spent["month"]), str(categories.get(spent["category"], spent["category"])))] = (
            spent["fen"] or 0)
    spending_rows = [(month, category, fen) for (month, category), fen in spending.items()]
    per_category: dict[str, int] = {}
    for _month, category, fen in spending_rows:
        per_category[category] = per_category.get(category, 0) + fen

    premium_rows = [(_month_label(row["month"]), row["n"], row["fen"] or 0) for row in (
        PremiumPayment.objects.filter(region_q(user, "payer__region__code"), created_at__date__gte=since)
        .annotate(month=TruncMonth("created_at")).values("month")
        .annotate(n=Count("id"), fen=Sum("amount_fen")).order_by("month"))]

    # Settlements by the institution that sent them (the institution's region decides the scope).
    institution_rows = [(row["institution__name"], row["n"], row["billed"] or 0, row["paid"] or 0) for row in (
        Settlement.objects.filter(region_q(user, "institution__region__code"), created_at__date__gte=since)
        .values("institution__code", "institution__name")
        .annotate(n=Count("id"), billed=Sum("amount_fen"), paid=Sum(F("paid_fen") - F("refunded_fen")))
        .order_by("-paid", "institution__code"))]

    # Statement runs are national; what a clerk sees of each is the statements made in their region.
    in_region = dict(MonthlyStatement.objects.filter(region_q(user, "person__region__code"), month__gte=since)
                     .values("month").annotate(n=Count("id")).values_list("month", "n"))
    run_rows = [(_month_label(run.month), in_region.get(run.month, 0), run.total_accounts,
                 f"{run.done}/{run.total_chunks}", run.finished_at) for run in (
        StatementRun.objects.filter(month__gte=since)
        .annotate(done=Count("chunks", filter=Q(chunks__status=ChunkStatus.DONE))).order_by("month"))]

    return {
        "region_rows": region_rows,
        "region_chart": bar_chart([(label, active) for label, active, _p in region_rows]),
        "institution_rows": [(name, n, format_yuan(billed), format_yuan(paid))
                             for name, n, billed, paid in institution_rows],
        "institution_chart": bar_chart([(name, paid) for name, _n, _b, paid in institution_rows[:10]], money=True),
        "institution_raw": institution_rows,
        "run_rows": run_rows,
        "run_chart": bar_chart([(month, n) for month, n, *_rest in run_rows]),
        "relationship_rows": relationship_rows,
        "relationship_chart": bar_chart([(label, active) for label, active, _p in relationship_rows]),
        "new_rows": new_rows, "new_chart": bar_chart(new_rows),
        "spending_rows": [(m, c, format_yuan(f)) for m, c, f in spending_rows],
        "spending_chart": bar_chart(sorted(per_category.items()), money=True),
        "spending_raw": spending_rows,
        "premium_rows": [(m, n, format_yuan(f)) for m, n, f in premium_rows],
        "premium_chart": bar_chart([(m, f) for m, _n, f in premium_rows], money=True),
        "premium_raw": premium_rows,
        "since": since,
    }


@staff_member_required
def overview(request: HttpRequest) -> HttpResponse:
    """GET /admin/overview/ (?format=csv for the tables as one CSV file)."""
    if not request.user.has_perm("pooling.view_binding") or staff_prefix(request.user) is None:
        return redirect("admin:index")
    data = overview_data(request.user)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="pooling-overview.csv"'
        response.write("\ufeff")  # Excel reads UTF-8 with a BOM
        writer = csv.writer(response)
        writer.writerow([_("Bindings by region")])
        writer.writerow([_("region"), _("active"), _("pending")])
        writer.writerows(data["region_rows"])
        writer.writerow([])
        writer.writerow([_("Bindings by relationship")])
        writer.writerow([_("relationship"), _("active"), _("pending")])
        writer.writerows(data["relationship_rows"])
        writer.writerow([])
        writer.writerow([_("New bindings per month")])
        writer.writerow([_("month"), _("new bindings")])
        writer.writerows(data["new_rows"])
        writer.writerow([])
        writer.writerow([_("Pooled spending per month")])
        writer.writerow([_("month"), _("category"), _("yuan")])
        writer.writerows((m, c, f"{f / 100:.2f}") for m, c, f in data["spending_raw"])
        writer.writerow([])
        writer.writerow([_("Premiums paid for relatives")])
        writer.writerow([_("month"), _("payments"), _("yuan")])
        writer.writerows((m, n, f"{f / 100:.2f}") for m, n, f in data["premium_raw"])
        writer.writerow([])
        writer.writerow([_("Settlements by institution")])
        writer.writerow([_("institution"), _("settlements"), _("billed (yuan)"), _("paid from accounts (yuan)")])
        writer.writerows((name, n, f"{b / 100:.2f}", f"{p / 100:.2f}") for name, n, b, p in data["institution_raw"])
        writer.writerow([])
        writer.writerow([_("Statement runs")])
        writer.writerow([_("month"), _("statements in your region"), _("accounts in the run"), _("chunks done"),
                         _("finished at")])
        writer.writerows((m, n, total, chunks, f"{finished:%Y-%m-%d %H:%M}" if finished else "")
                         for m, n, total, chunks, finished in data["run_rows"])
        return response
    from django.contrib import admin

    context = {**admin.site.each_context(request), "title": _("Family pooling overview"), **data}
    return render(request, "admin/pooling_overview.html", context)
