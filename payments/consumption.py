"""Consumption details (消费明细): who spent what from which account, for the portal pages.

Reads only. ``spending_from`` is the holder's view (money that left my account, by relative,
category, institution, month); ``spending_by`` the patient's view (what I spent from each source).
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import F, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import InsuredPerson, SpendingCategory

from .models import Institution, SettlementSource


@dataclass(frozen=True)
class Filters:
    person_id: int | None = None  # the relative (holder's view) or the account owner (patient's view)
    category: str = ""
    institution_id: int | None = None
    month: datetime.date | None = None  # first day of a month

    def apply(self, qs: QuerySet[SettlementSource], person_field: str) -> QuerySet[SettlementSource]:
        if self.person_id:
            qs = qs.filter(**{person_field: self.person_id})
        if self.category:
            qs = qs.filter(settlement__category=self.category)
        if self.institution_id:
            qs = qs.filter(settlement__institution_id=self.institution_id)
        if self.month:
            start = timezone.make_aware(datetime.datetime.combine(self.month, datetime.time()))
            end_month = (self.month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
            end = timezone.make_aware(datetime.datetime.combine(end_month, datetime.time()))
            qs = qs.filter(settlement__created_at__gte=start, settlement__created_at__lt=end)
        return qs


def _base() -> QuerySet[SettlementSource]:
    return SettlementSource.objects.select_related(
        "settlement", "settlement__institution", "settlement__patient", "owner"
    ).order_by("-settlement__created_at", "-settlement_id", "position")


def spending_from(holder: InsuredPerson, filters: Filters) -> QuerySet[SettlementSource]:
    """Payments charged to ``holder``'s personal account (their own and their relatives')."""
    return filters.apply(_base().filter(owner=holder), "settlement__patient_id")


def spending_by(patient: InsuredPerson, filters: Filters) -> QuerySet[SettlementSource]:
    """What ``patient`` paid from each source (own account or a holder's)."""
    return filters.apply(_base().filter(settlement__patient=patient), "owner_id")


def totals(qs: QuerySet[SettlementSource], group: str) -> list[dict[str, Any]]:
    """Net totals (charged minus refunded) grouped by a field, largest first."""
    fields = {
        "person": ("settlement__patient_id", "settlement__patient__name"),
        "owner": ("owner_id", "owner__name"),
        "category": ("settlement__category", "settlement__category"),
        "institution": ("settlement__institution_id", "settlement__institution__name"),
    }[group]
    rows = (
        qs.order_by().values(*fields)
        .annotate(total=Sum(F("amount_fen") - F("refunded_fen")))
        .order_by("-total")
    )
    labels = dict(SpendingCategory.choices)
    return [
        {"key": r[fields[0]], "label": str(labels.get(r[fields[1]], r[fields[1]])) if group == "category" else r[fields[1]],
         "total": r["total"]}
        for r in rows
    ]


def monthly_totals(qs: QuerySet[SettlementSource]) -> list[dict[str, Any]]:
    rows = (
        qs.order_by().annotate(month=TruncMonth("settlement__created_at")).values("month")
        .annotate(total=Sum(F("amount_fen") - F("refunded_fen"))).order_by("-month")
    )
    return [{"month": r["month"], "total": r["total"]} for r in rows]


def institutions_seen(qs: QuerySet[SettlementSource]) -> list[Institution]:
    ids = qs.order_by().values_list("settlement__institution_id", flat=True).distinct()
    return list(Institution.objects.filter(pk__in=ids).order_by("name"))


def people_seen(qs: QuerySet[SettlementSource], field: str) -> list[InsuredPerson]:
    ids = qs.order_by().values_list(field, flat=True).distinct()
    return list(InsuredPerson.objects.filter(pk__in=ids).order_by("name"))


def to_csv(rows: Iterable[SettlementSource], *, holder_view: bool) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel opens the Chinese text correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    labels = dict(SpendingCategory.choices)
    writer.writerow([
        _("Date"), _("Patient") if holder_view else _("Paid from"), _("Category"), _("Institution"),
        _("Amount (yuan)"), _("Refunded (yuan)"), _("Settlement number"),
    ])
    for row in rows:
        s = row.settlement
        who = s.patient.name if holder_view else (_("My own account") if row.source == "own" else row.owner.name)
        writer.writerow([
            timezone.localtime(s.created_at).strftime("%Y-%m-%d %H:%M"), who, str(labels.get(s.category, s.category)),
            s.institution.name, _yuan(row.amount_fen), _yuan(row.refunded_fen), s.pk,
        ])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}{yuan}.{cents:02d}"
