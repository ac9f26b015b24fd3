"""Importing the insured registry from the bureau's CSV.

Every row is validated before anything is written; one bad row means nothing is written and
every bad line is reported with its reason. Then rows are upserted by ID number. Changes of
scheme, status, region or death are passed to the listeners registered by higher layers (the
pooling app ends or suspends bindings), inside the same transaction.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from .csvimport import ImportResult, RowError, check_id_number, read_rows
from .idnumbers import normalize_id_number
from .models import AuditChannel, InsuranceStatus, InsuredPerson, Region, Scheme, audit, normalize_phone

HEADER = ["id_number", "name", "phone", "scheme", "status", "region_code"]


@dataclass(frozen=True)
class PersonChange:
    """What changed for one person in an import (before -> after)."""

    person: InsuredPerson
    before: dict[str, Any]
    after: dict[str, Any]


PersonChangeListener = Callable[[PersonChange, Any, str], None]
person_change_listeners: list[PersonChangeListener] = []


def on_person_changed(listener: PersonChangeListener) -> PersonChangeListener:
    if listener not in person_change_listeners:
        person_change_listeners.append(listener)
    return listener


@dataclass(frozen=True)
class _Row:
    line: int
    id_number: str
    name: str
    phone: str
    scheme: str
    status: str
    region_code: str
    birth_date: Any
    sex: str


def validate_registry_csv(text: str) -> tuple[list[_Row], list[RowError]]:
    rows, errors = read_rows(text, HEADER)
    if errors and not rows:
        return [], errors
    regions = set(Region.objects.filter(current=True).values_list("code", flat=True))
    seen: dict[str, int] = {}
    valid: list[_Row] = []
    for index, raw in rows:
        reasons: list[str] = []
        facts, id_problem = check_id_number(raw["id_number"])
        if id_problem:
            reasons.append(id_problem)
        name = raw["name"]
        if not name:
            reasons.append(_("the name is empty"))
        elif len(name) > 50:
            reasons.append(_("the name is longer than 50 characters"))
        phone = normalize_phone(raw["phone"])
        if raw["phone"] and not (phone.isdigit() and len(phone) == 11 and phone.startswith("1")):
            reasons.append(_("phone %(value)s is not an 11-digit mobile number") % {"value": raw["phone"]})
        if raw["scheme"] not in Scheme.values:
            reasons.append(_("scheme %(value)s is not one of employee, flexible, resident") % {"value": raw["scheme"]})
        if raw["status"] not in InsuranceStatus.values:
            reasons.append(_("status %(value)s is not one of active, suspended, terminated") % {"value": raw["status"]})
        if raw["region_code"] not in regions:
            reasons.append(_("region code %(value)s is not a current 6-digit division code") % {"value": raw["region_code"]})
        if facts is not None:
            if facts.number in seen:
                reasons.append(_("the same ID number is already on line %(line)d") % {"line": seen[facts.number]})
            else:
                seen[facts.number] = index
        if reasons:
            errors.append(RowError(index, "; ".join(reasons)))
            continue
        assert facts is not None
        valid.append(_Row(index, facts.number, name, phone, raw["scheme"], raw["status"], raw["region_code"],
                          facts.birth_date, facts.sex))
    errors.sort(key=lambda error: error.line)
    return valid, errors


FIELDS = ("name", "phone", "scheme", "status", "region_id")


def _snapshot(person: InsuredPerson) -> dict[str, Any]:
    return {"name": person.name, "phone": person.phone, "scheme": person.scheme, "status": person.status,
            "region_id": person.region_id}


def import_registry(text: str, *, actor: Any = None, channel: str = AuditChannel.COMMAND) -> ImportResult:
    """Validate the whole file, then upsert it in one transaction (or write nothing)."""
    rows, errors = validate_registry_csv(text)
    result = ImportResult(errors=errors)
    if errors:
        return result
    with transaction.atomic():
        hashes = {}
        from . import crypto

        for row in rows:
            hashes[crypto.lookup_hash(row.id_number)] = row
        existing = {p.id_hash: p for p in InsuredPerson.objects.select_for_update().filter(id_hash__in=hashes)}
        changes: list[PersonChange] = []
        for id_hash, row in hashes.items():
            person = existing.get(id_hash)
            if person is None:
                person = InsuredPerson(
                    name=row.name, scheme=row.scheme, status=row.status, region_id=row.region_code,
                    birth_date=row.birth_date, sex=row.sex,
                )
                person.id_number = row.id_number
                person.phone = row.phone
                person.save()
                result.created += 1
                audit("registry.created", channel=channel, actor=actor, on_behalf_of=person, obj=person,
                      after={"scheme": row.scheme, "status": row.status, "region": row.region_code})
                continue
            before = _snapshot(person)
            after = {"name": row.name, "phone": row.phone, "scheme": row.scheme, "status": row.status,
                     "region_id": row.region_code}
            if before == after:
                result.unchanged += 1
                continue
            person.name = row.name
            person.phone = row.phone
            person.scheme = row.scheme
            person.status = row.status
            person.region_id = row.region_code
            person.save()
            result.updated += 1
            masked_before = {k: v for k, v in before.items() if k != "phone"}
            masked_after = {k: v for k, v in after.items() if k != "phone"}
            audit("registry.updated", channel=channel, actor=actor, on_behalf_of=person, obj=person,
                  before=masked_before, after=masked_after)
            changes.append(PersonChange(person, before, after))
        for change in changes:
            announce_change(change, actor, channel)
    return result


def announce_change(change: PersonChange, actor: Any, channel: str) -> None:
    """Tell the higher layers about a registry change; call inside the change's transaction."""
    for listener in person_change_listeners:
        listener(change, actor, channel)


def registry_rows_for(people: Iterable[InsuredPerson]) -> str:
    """The CSV for some people (used by tests and demo data)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for p in people:
        writer.writerow([p.id_number, p.name, p.phone, p.scheme, p.status, p.region_id])
    return out.getvalue()


def normalized(number: str) -> str:
    return normalize_id_number(number)
