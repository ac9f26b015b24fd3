"""Demo money for `make run`: balances, a hospital and a pharmacy with fresh API keys, and last
month's activity with its statements, so a newcomer opens a statement, its chart and its PDF.

Idempotent: credits are keyed by reference, the history is made once (its settlements are
found by reference), statements are exactly one per (account, month), and institutions are
created once. Their API keys are rotated on every run (only hashes are stored, so this is the
only way to show them).
"""

from __future__ import annotations

import datetime
import zoneinfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import AuditChannel, InsuredPerson

from . import ledger
from .institutions import create_institution, rotate_api_key
from .models import Institution, LedgerAccount, PremiumPayment, Settlement
from .premiums import PremiumError, pay_resident_premium, premium_year
from .settlement import refund, settle
from .vouchers import issue_voucher

BALANCES_FEN = {"holder": 320_000, "spouse": 80_000, "father": 150_000, "hunan": 50_000}
MONTHLY_CONTRIBUTION_FEN = {"holder": 35_620, "spouse": 9_800, "father": 21_050}
INSTITUTIONS = [
    ("H460100001", "海口市人民医院", "hospital", "460100"),
    ("P460100001", "海南一心大药房", "pharmacy", "460100"),
]
# Last month's care: (day, patient, institution code, category, amount in fen).
PAYMENTS = [
    (6, "holder", "P460100001", "pharmacy_drug", 8_650),
    (12, "mother", "H460100001", "outpatient", 23_500),
    (15, "spouse", "P460100001", "pharmacy_drug", 4_280),
    (18, "son", "H460100001", "outpatient", 12_000),
    (23, "mother", "P460100001", "pharmacy_drug", 6_840),
]
REFUND = (20, 1, 3_500)  # on day 20, part of the second payment (the mother's) comes back
PREMIUM = (25, "holder", "son")  # the holder pays his son's resident premium


def last_month(today: datetime.date | None = None) -> datetime.date:
    first = (today or timezone.localdate()).replace(day=1)
    return (first - datetime.timedelta(days=1)).replace(day=1)


def _at(month: datetime.date, day: int, hour: int = 10) -> datetime.datetime:
    return datetime.datetime(month.year, month.month, day, hour, tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))


@transaction.atomic
def _balances(people: dict[str, InsuredPerson], month: datetime.date) -> None:
    """Opening balances booked before last month, and last month's contributions (划入)."""
    opened = _at(month, 1, 8) - datetime.timedelta(days=1)
    for key, fen in BALANCES_FEN.items():
        person = people.get(key)
        if person is not None and person.has_personal_account:
            ledger.credit_personal_account(person, fen, reference=f"demo-credit-{key}-1", memo="demo contribution",
                                           at=opened)
    # Demo accounts exist from before the history, as real accounts exist long before the portal.
    LedgerAccount.objects.filter(person__in=people.values(), created_at__gt=opened).update(created_at=opened)
    for key, fen in MONTHLY_CONTRIBUTION_FEN.items():
        person = people.get(key)
        if person is not None and person.has_personal_account:
            ledger.credit_personal_account(person, fen, reference=f"demo-contribution-{key}-{month:%Y-%m}",
                                           memo="monthly contribution", at=_at(month, 10, 9))


def _history(people: dict[str, InsuredPerson], month: datetime.date) -> list[str]:
    """Last month's payments, a refund and a premium, through the same services as real ones."""
    institutions = {i.code: i for i in Institution.objects.filter(code__in=[c for c, *_ in INSTITUTIONS])}
    needed = {key for _day, key, *_ in PAYMENTS} | {PREMIUM[1], PREMIUM[2]}
    if not needed <= people.keys():
        return [f"  last month ({month:%Y-%m}): no history (demo people missing)"]
    prefix = f"demo-{month:%Y-%m}-"
    if Settlement.objects.filter(reference__startswith=prefix).exists():
        return [f"  last month ({month:%Y-%m}): already there"]
    made = []
    for number, (day, key, code, category, fen) in enumerate(PAYMENTS, start=1):
        when = _at(month, day)
        _voucher, voucher_code = issue_voucher(people[key], channel=AuditChannel.SYSTEM, now=when)
        made.append(settle(institutions[code], voucher_code, category, fen, f"{prefix}{number}", now=when))
    day, index, fen = REFUND
    paid = made[index]
    refund(paid.settlement.institution, paid.settlement.pk, fen, now=_at(month, day))
    day, payer, relative = PREMIUM
    year = premium_year(_at(month, day).date())
    if not PremiumPayment.objects.filter(relative=people[relative], year=year).exists():
        try:
            pay_resident_premium(people[payer], people[relative], year, channel=AuditChannel.SYSTEM,
                                 now=_at(month, day, 15))
        except PremiumError as refused:
            return [f"  last month ({month:%Y-%m}): premium not paid ({refused})"]
    return [f"  last month ({month:%Y-%m}): {len(made)} payments, a refund and a premium"]


def seed(people: dict[str, InsuredPerson]) -> list[str]:
    month = last_month()
    _balances(people, month)
    lines = ["", "Settlement API (POST /api/v1/settlements, header 'Authorization: Bearer <key>'):"]
    for code, name, kind, region in INSTITUTIONS:
        institution = Institution.objects.filter(code=code).first()
        if institution is None:
            institution, api_key = create_institution(code, name, kind, region, channel=AuditChannel.COMMAND)
        else:
            api_key = rotate_api_key(institution, channel=AuditChannel.COMMAND)
        lines.append(f"  {name} ({code}, {kind}): {api_key}")
    lines += [
        "  e-voucher for testing: python manage.py issue_voucher <ID number> (the code is on the last line)",
        "",
        "History (demo):",
        *_history(people, month),
    ]
    return lines
