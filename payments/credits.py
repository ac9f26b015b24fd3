"""Monthly contributions (划入) imported from the bureau: `import_credits FILE.csv`.

Every row is validated before anything is written; then each row is credited once, keyed by
its reference (a second run credits nothing new).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.csvimport import RowError
from accounts.idnumbers import validate_id_number
from accounts.models import AuditChannel, InsuredPerson, audit

from . import ledger
from .models import LedgerTransaction, TransactionKind

HEADER = ["id_number", "amount_fen", "period", "reference"]
PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass
class CreditResult:
    errors: list[RowError] = field(default_factory=list)
    created: int = 0
    already_present: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class _Row:
    line: int
    person: InsuredPerson
    amount_fen: int
    period: str
    reference: str


def validate_credits_csv(text: str) -> tuple[list[_Row], list[RowError]]:
    text = text.lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        return [], [RowError(1, _("the file is empty; the first line must be: %s") % ",".join(HEADER))]
    if header != HEADER:
        return [], [RowError(1, _("the first line must be exactly: %s") % ",".join(HEADER))]
    rows: list[_Row] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for number, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(HEADER):
            errors.append(RowError(number, _("expected %(n)s columns, found %(m)s") % {"n": len(HEADER), "m": len(values)}))
            continue
        id_number, amount, period, reference = (v.strip() for v in values)
        problems: list[str] = []
        person = None
        try:
            facts = validate_id_number(id_number)
        except Exception as exc:
            problems.append(_("invalid ID number (%(why)s)") % {"why": " ".join(getattr(exc, "messages", [str(exc)]))})
        else:
            person = InsuredPerson.objects.by_id_number(facts.number)
            if person is None:
                problems.append(_("no insured person has this ID number"))
            elif not person.has_personal_account:
                problems.append(_("this person is not in employee insurance and has no personal account"))
        if not re.fullmatch(r"\d+", amount) or int(amount) <= 0:
            problems.append(_("amount_fen must be a whole number of fen greater than 0"))
        if not PERIOD.match(period):
            problems.append(_("period must look like 2026-01 (year-month)"))
        if not reference:
            problems.append(_("reference is empty"))
        elif len(reference) > 100:
            problems.append(_("reference is longer than 100 characters"))
        elif reference in seen:
            problems.append(_("reference %(ref)s is also used on line %(line)s") % {"ref": reference, "line": seen[reference]})
        else:
            seen[reference] = number
        if problems:
            errors.append(RowError(number, "; ".join(problems)))
        elif person is not None:
            rows.append(_Row(number, person, int(amount), period, reference))
    return rows, errors


def import_credits(text: str, *, actor: object = None, channel: str = AuditChannel.COMMAND) -> CreditResult:
    rows, errors = validate_credits_csv(text)
    result = CreditResult(errors=errors)
    if errors:
        return result
    with transaction.atomic():
        existing = set(
            LedgerTransaction.objects.filter(kind=TransactionKind.CREDIT, reference__in=[r.reference for r in rows])
            .values_list("reference", flat=True)
        )
        for row in rows:
            if row.reference in existing:
                result.already_present += 1
                continue
            ledger.credit_personal_account(row.person, row.amount_fen, row.reference, memo=f"contribution {row.period}")
            result.created += 1
        audit("credits.import", channel=channel, actor=actor,
              after={"created": result.created, "already_present": result.already_present})
    return result
