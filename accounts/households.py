"""Importing household registration (户籍) from the bureau's CSV.

Same rules as the registry import: every row is checked before anything is written; one bad
row means nothing is written and every bad line is reported with its reason. Rows are then
upserted by person (a person is registered in one household at a time), so running the same
file twice changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from . import crypto
from .csvimport import ImportResult, RowError, check_id_number, read_rows
from .models import AuditChannel, HouseholdMember, HouseholdRole, InsuredPerson, audit

HEADER = ["household_id", "id_number", "relationship_to_head"]
HOUSEHOLD_ID_MAX = 40


@dataclass(frozen=True)
class _Row:
    line: int
    household_id: str
    person_id: int
    relationship_to_head: str


def validate_households_csv(text: str) -> tuple[list[_Row], list[RowError]]:
    rows, errors = read_rows(text, HEADER)
    parsed: list[tuple[int, dict[str, str], str | None]] = []
    for line, raw in rows:
        facts, id_problem = check_id_number(raw["id_number"])
        if id_problem:
            errors.append(RowError(line, id_problem))
        parsed.append((line, raw, facts.number if facts else None))
    hashes = {crypto.lookup_hash(number): number for _line, _raw, number in parsed if number}
    people = dict(InsuredPerson.objects.filter(id_hash__in=hashes).values_list("id_hash", "pk"))
    person_by_number = {number: people.get(h) for h, number in hashes.items()}
    seen: dict[str, int] = {}
    heads: dict[str, int] = {}
    valid: list[_Row] = []
    roles = ", ".join(HouseholdRole.values)
    for line, raw, number in parsed:
        reasons: list[str] = []
        household = raw["household_id"]
        if not household:
            reasons.append(_("the household number is empty"))
        elif len(household) > HOUSEHOLD_ID_MAX:
            reasons.append(_("the household number is longer than %(max)d characters") % {"max": HOUSEHOLD_ID_MAX})
        role = raw["relationship_to_head"]
        if role not in HouseholdRole.values:
            reasons.append(_("relationship_to_head %(value)s is not one of %(allowed)s")
                           % {"value": role, "allowed": roles})
        elif role == HouseholdRole.HEAD and household:
            if household in heads:
                reasons.append(_("household %(household)s already has a head on line %(line)d")
                               % {"household": household, "line": heads[household]})
            else:
                heads[household] = line
        if number is not None:
            if person_by_number.get(number) is None:
                reasons.append(_("ID number %(value)s is not in the insured register") % {"value": raw["id_number"]})
            if number in seen:
                reasons.append(_("the same ID number is already on line %(line)d") % {"line": seen[number]})
            else:
                seen[number] = line
        if reasons:
            errors.append(RowError(line, "; ".join(reasons)))
            continue
        if number is None:
            continue  # already reported
        person_id = person_by_number[number]
        assert person_id is not None
        valid.append(_Row(line, household, person_id, role))
    errors.sort(key=lambda error: error.line)
    return valid, errors


def import_households(text: str, *, actor: Any = None, channel: str = AuditChannel.COMMAND) -> ImportResult:
    """Validate the whole file, then upsert every member in one transaction (or write nothing)."""
    rows, errors = validate_households_csv(text)
    result = ImportResult(errors=errors)
    if errors:
        return result
    with transaction.atomic():
        existing = {
            m.person_id: m
            for m in HouseholdMember.objects.select_for_update().filter(person_id__in=[r.person_id for r in rows])
        }
        for row in rows:
            member = existing.get(row.person_id)
            after = {"household_id": row.household_id, "relationship_to_head": row.relationship_to_head}
            if member is None:
                member = HouseholdMember.objects.create(person_id=row.person_id, **after)
                result.created += 1
                audit("household.created", channel=channel, actor=actor, on_behalf_of=member.person, obj=member,
                      after=after)
                continue
            before = {"household_id": member.household_id, "relationship_to_head": member.relationship_to_head}
            if before == after:
                result.unchanged += 1
                continue
            member.household_id, member.relationship_to_head = row.household_id, row.relationship_to_head
            member.save()
            result.updated += 1
            audit("household.updated", channel=channel, actor=actor, on_behalf_of=member.person, obj=member,
                  before=before, after=after)
    return result
