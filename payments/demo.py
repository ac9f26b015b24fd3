"""Demo money for `make run`: balances, a hospital and a pharmacy with fresh API keys.

Idempotent: credits are keyed by reference; institutions are created once. Their API keys
are rotated on every run (only hashes are stored, so this is the only way to show them).
"""

from __future__ import annotations

from django.db import transaction

from accounts.models import AuditChannel, InsuredPerson

from . import ledger
from .institutions import create_institution, rotate_api_key
from .models import Institution

BALANCES_FEN = {"holder": 320_000, "spouse": 80_000, "father": 150_000, "hunan": 50_000}
INSTITUTIONS = [
    ("H460100001", "海口市人民医院", "hospital", "460100"),
    ("P460100001", "海南一心大药房", "pharmacy", "460100"),
]


@transaction.atomic
def seed(people: dict[str, InsuredPerson]) -> list[str]:
    for key, fen in BALANCES_FEN.items():
        person = people.get(key)
        if person is not None and person.has_personal_account:
            ledger.credit_personal_account(person, fen, reference=f"demo-credit-{key}-1", memo="demo contribution")
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
    ]
    return lines
