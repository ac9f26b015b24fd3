"""What a statement page shows, in the active language: shared by the HTML page and the PDF."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accounts.models import SpendingCategory
from portal.templatetags.portal_tags import format_fen

from .models import MonthlyStatement
from .monthly import month_bounds, month_label, next_month

# SVG geometry (user units; the SVG scales to the page width through its viewBox).
CHART_WIDTH = 640
LABEL_WIDTH = 170
VALUE_WIDTH = 120
BAR_SPACE = CHART_WIDTH - LABEL_WIDTH - VALUE_WIDTH - 16
ROW_HEIGHT = 40
BAR_HEIGHT = 24


@dataclass(frozen=True)
class PersonRow:
    label: str
    is_holder: bool
    payments_fen: int
    refunds_fen: int
    premiums_fen: int
    corrections_fen: int
    net_fen: int


@dataclass(frozen=True)
class CategoryRow:
    label: str
    net_fen: int


@dataclass(frozen=True)
class Bar:
    label: str
    amount_fen: int
    fraction: float
    is_holder: bool
    # SVG geometry
    y: int
    bar_width: int
    text_y: int
    value_x: int
    amount_text: str


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    width: int
    height: int
    label_x: int
    bar_x: int
    bar_height: int


@dataclass(frozen=True)
class LineItem:
    """One payment from the holder's account in the month (a settlement's share from it)."""

    when: datetime.datetime
    institution: str
    category: str
    person: str
    amount_fen: int
    refunded_fen: int


@dataclass(frozen=True)
class Bureau:
    name: str
    address: str


@dataclass(frozen=True)
class StatementPage:
    statement: MonthlyStatement
    month_label: str
    period_start: str
    period_end: str
    summary_rows: list[tuple[str, str, bool]]
    people: list[PersonRow]
    categories: list[CategoryRow]
    chart: Chart
    chart_summary: str
    items: list[LineItem]
    bureau: Bureau


def _short(text: str, limit: int = 12) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def person_label(line: dict) -> str:
    if line.get("is_holder"):
        return _("You (%(name)s)") % {"name": line.get("name", "")}
    if line.get("patient_id") is None:
        return _("Not recorded")
    return str(line.get("name") or _("Relative"))


def category_label(key: str) -> str:
    if key in SpendingCategory.values:
        return str(SpendingCategory(key).label)
    return _("Other")


def _chart(people: list[PersonRow]) -> Chart:
    spenders = [p for p in people if p.net_fen > 0]
    top = max((p.net_fen for p in spenders), default=0)
    bars = []
    for index, person in enumerate(spenders):
        fraction = person.net_fen / top if top else 0.0
        width = max(2, round(BAR_SPACE * fraction))
        y = index * ROW_HEIGHT + (ROW_HEIGHT - BAR_HEIGHT) // 2
        bars.append(
            Bar(
                label=_short(person.label), amount_fen=person.net_fen, fraction=fraction, is_holder=person.is_holder,
                y=y, bar_width=width, text_y=index * ROW_HEIGHT + ROW_HEIGHT // 2 + 6,
                value_x=LABEL_WIDTH + width + 8, amount_text=format_fen(person.net_fen),
            )
        )
    return Chart(bars, CHART_WIDTH, max(1, len(bars)) * ROW_HEIGHT, LABEL_WIDTH - 10, LABEL_WIDTH, BAR_HEIGHT)


def line_items(statement: MonthlyStatement) -> list[LineItem]:
    """Every movement of the month on the holder's account but the contributions, oldest first:
    payments, refunds, premiums and corrections, with the hospital or pharmacy (one query).
    Money out is in the amount column, money back in the refunds column, so the lines add up
    to the totals above them."""
    from django.db.models import OuterRef, Subquery

    from payments.models import AccountKind, LedgerEntry, TransactionKind

    start, end = month_bounds(statement.month)
    counterpart = LedgerEntry.objects.filter(
        transaction_id=OuterRef("transaction_id"), account__kind=AccountKind.INSTITUTION,
    ).values("account__institution__name")[:1]
    rows = (
        LedgerEntry.objects.filter(account_id=statement.account_id, created_at__gte=start, created_at__lt=end)
        .exclude(transaction__kind=TransactionKind.CREDIT)
        .annotate(institution_name=Subquery(counterpart))
        .select_related("transaction", "patient")
        .order_by("created_at", "id")
    )
    kinds = dict(TransactionKind.choices)
    items = []
    for row in rows:
        if row.patient_id == statement.person_id:
            person = _("You (%(name)s)") % {"name": statement.person.name}
        elif row.patient_id is None:
            person = _("Not recorded")
        else:
            person = row.patient.name if row.patient is not None else _("Not recorded")
        kind = row.transaction.kind
        if kind == TransactionKind.REVERSAL:
            category = str(kinds[kind])
        elif row.category == "resident_premium" or kind == TransactionKind.PREMIUM:
            category = _("Resident insurance premium")
        else:
            category = category_label(row.category)
        institution = row.institution_name or ("—" if kind != TransactionKind.PREMIUM else _("Resident premium fund"))
        items.append(LineItem(
            when=row.created_at, institution=institution, category=category, person=person,
            amount_fen=-row.amount_fen if row.amount_fen < 0 else 0,
            refunded_fen=row.amount_fen if row.amount_fen > 0 else 0,
        ))
    return items


def bureau_for(statement: MonthlyStatement) -> Bureau:
    """The bureau named on the statement: the settings, else the holder's region's bureau."""
    from django.conf import settings

    from accounts.models import Office

    region = statement.person.region
    name = settings.PORTAL_BUREAU_NAME or _("Medical Security Bureau of %(region)s") % {"region": region.full_name}
    address = settings.PORTAL_BUREAU_ADDRESS
    if not address:
        office = Office.objects.filter(region_id=region.pk).exclude(address="").order_by("id").first()
        address = office.address if office is not None else ""
    return Bureau(name, address)


def statement_page(statement: MonthlyStatement) -> StatementPage:
    s = statement
    last_day = next_month(s.month) - datetime.timedelta(days=1)
    summary = [
        (_("Balance at the start of the month"), format_fen(s.opening_fen), True),
        (_("Money paid in (monthly contributions)"), "+" + format_fen(s.credits_fen), False),
        (_("Paid for medical care"), "−" + format_fen(s.spending_fen), False),
        (_("Refunds from hospitals and pharmacies"), "+" + format_fen(s.refunds_fen), False),
        (_("Resident insurance premiums paid for relatives"), "−" + format_fen(s.premiums_fen), False),
    ]
    if s.corrections_fen:
        sign = "+" if s.corrections_fen > 0 else "−"
        summary.append((_("Corrections by the bureau"), sign + format_fen(abs(s.corrections_fen)), False))
    summary.append((_("Balance at the end of the month"), format_fen(s.closing_fen), True))
    people = [
        PersonRow(
            person_label(line), bool(line.get("is_holder")), int(line.get("payments_fen", 0)),
            int(line.get("refunds_fen", 0)), int(line.get("premiums_fen", 0)), int(line.get("corrections_fen", 0)),
            int(line.get("net_fen", 0)),
        )
        for line in s.by_person
    ]
    categories = [CategoryRow(category_label(row.get("category", "")), int(row.get("net_fen", 0))) for row in s.by_category]
    chart = _chart(people)
    colon, semicolon = pgettext("punctuation", ": "), pgettext("punctuation", "; ")
    chart_summary = semicolon.join(f"{bar.label}{colon}{bar.amount_text}" for bar in chart.bars)
    return StatementPage(
        statement=s,
        month_label=month_label(s.month),
        period_start=formats.date_format(s.month, "DATE_FORMAT"),
        period_end=formats.date_format(last_day, "DATE_FORMAT"),
        summary_rows=summary,
        people=people,
        categories=categories,
        chart=chart,
        chart_summary=chart_summary,
        items=line_items(statement),
        bureau=bureau_for(statement),
    )
