"""Consumption details (消费明细): who spent what from which account, for the portal pages.

Reads only. ``spending_from`` is the holder's view (money that left my account, by relative,
category, institution, month); ``spending_by`` the patient's view (what I spent from each source).
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Callable, Iterable
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


def recent_from(holder: InsuredPerson, count: int) -> list[SettlementSource]:
    """The latest ``count`` payments charged to ``holder``'s account, as spending_from lists them,
    with what the holder's table shows (the owner is the holder: not read again)."""
    rows = list(
        SettlementSource.objects.filter(owner=holder)
        .select_related("settlement", "settlement__institution", "settlement__patient")
        .order_by("-settlement__created_at", "-settlement_id", "position")[:count]
    )
    for row in rows:
        row.owner = holder
    return rows


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


@dataclass
class Choice:
    """A person or an institution offered in the filter form (what the form shows of them)."""

    pk: int
    name: str


@dataclass
class Summary:
    """The totals of the payments matching some filters."""

    count: int
    by_person: list[dict[str, Any]]
    by_category: list[dict[str, Any]]
    by_institution: list[dict[str, Any]]
    by_month: list[dict[str, Any]]


class Groups:
    """A person's payments grouped by person, category, institution and month, in one query.

    Gives what people_seen, institutions_seen, totals (by person or owner, category and
    institution), monthly_totals and a count give, with one query instead of seven: every
    filter is one of the grouped fields, so filters apply to the groups. Names are sorted by
    the database (its collation), as those queries sorted them.
    """

    def __init__(self, person: InsuredPerson, *, holder_view: bool) -> None:
        from django.db.models import Count, Window
        from django.db.models.functions import DenseRank

        self.key, self.name = ("settlement__patient_id", "settlement__patient__name") if holder_view \
            else ("owner_id", "owner__name")
        base = spending_from(person, Filters()) if holder_view else spending_by(person, Filters())
        self.groups = list(
            base.order_by()
            .annotate(month=TruncMonth("settlement__created_at"))
            .values(self.key, self.name, "settlement__category", "settlement__institution_id",
                    "settlement__institution__name", "month")
            .annotate(total=Sum(F("amount_fen") - F("refunded_fen")), rows=Count("id"))
            .annotate(  # (apart: in the same annotate() Django would group by them)
                person_rank=Window(DenseRank(), order_by=F(self.name).asc()),
                institution_rank=Window(DenseRank(), order_by=F("settlement__institution__name").asc()),
            )
        )

    @property
    def people(self) -> list[Choice]:
        """Everyone seen (the relatives, or the accounts' owners), by name."""
        return self._choices(self.key, self.name, "person_rank")

    @property
    def institutions(self) -> list[Choice]:
        return self._choices("settlement__institution_id", "settlement__institution__name", "institution_rank")

    def _choices(self, key: str, name: str, rank: str) -> list[Choice]:
        found = {g[key]: (g[rank], g[name]) for g in self.groups}
        return [Choice(pk, n) for pk, (_rank, n) in sorted(found.items(), key=lambda item: (item[1][0], item[0]))]

    def summary(self, filters: Filters) -> Summary:
        chosen = [
            g for g in self.groups
            if (not filters.person_id or g[self.key] == filters.person_id)
            and (not filters.category or g["settlement__category"] == filters.category)
            and (not filters.institution_id or g["settlement__institution_id"] == filters.institution_id)
            and (not filters.month or timezone.localtime(g["month"]).date() == filters.month)
        ]
        labels = dict(SpendingCategory.choices)

        def totals_by(field: str, label: Callable[[dict[str, Any]], Any]) -> list[dict[str, Any]]:
            found: dict[Any, dict[str, Any]] = {}
            for g in chosen:
                entry = found.setdefault(g[field], {"key": g[field], "label": label(g), "total": 0})
                entry["total"] += g["total"]
            return sorted(found.values(), key=lambda entry: -entry["total"])

        months: dict[Any, Any] = {}
        for g in chosen:
            months[g["month"]] = months.get(g["month"], 0) + g["total"]
        return Summary(
            count=sum(g["rows"] for g in chosen),
            by_person=totals_by(self.key, lambda g: g[self.name]),
            by_category=totals_by("settlement__category",
                                  lambda g: str(labels.get(g["settlement__category"], g["settlement__category"]))),
            by_institution=totals_by("settlement__institution_id", lambda g: g["settlement__institution__name"]),
            by_month=[{"month": month, "total": total} for month, total in sorted(months.items(), reverse=True)],
        )


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
