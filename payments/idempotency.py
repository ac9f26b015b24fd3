"""Idempotency keys of the settlement API: one record per (institution, key).

``begin`` commits an in-flight record before any work (its own tiny transaction), so a second
request with the same key sees it; the work stores the response with ``complete`` inside its
own transaction; a failure calls ``abort`` so the key may be retried.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.utils import timezone

from .models import IdempotencyRecord, IdempotencyState, Institution

# An in-flight record older than this belongs to a request that died (killed worker): a retry
# may take it over. Far longer than any settlement takes.
STALE_AFTER = datetime.timedelta(seconds=60)


@dataclass(frozen=True)
class Outcome:
    """What ``begin`` decided: proceed with ``record_id``, or answer with a stored/409 response."""

    record_id: int | None = None
    replay: tuple[int, Any] | None = None  # (status, body) of the original response
    conflict: str = ""  # "different_request" | "in_flight"


def fingerprint(method: str, path: str, payload: Any) -> str:
    canonical = json.dumps([method, path, payload], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


_INSERT = (
    "INSERT INTO payments_idempotencyrecord (institution_id, key, fingerprint, state, created_at) "
    "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (institution_id, key) DO NOTHING RETURNING id"
)


def begin(institution: Institution, key: str, fp: str, now: datetime.datetime | None = None) -> Outcome:
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_INSERT, [institution.pk, key, fp, IdempotencyState.IN_FLIGHT, now])
        row = cursor.fetchone()
    if row is not None:
        return Outcome(record_id=row[0])
    record = IdempotencyRecord.objects.filter(institution=institution, key=key).first()
    if record is None:  # aborted between our insert and read: try once more
        return begin(institution, key, fp, now)
    if record.fingerprint != fp:
        return Outcome(conflict="different_request")
    if record.state == IdempotencyState.DONE:
        return Outcome(replay=(record.response_status or 200, record.response_body))
    taken = IdempotencyRecord.objects.filter(
        pk=record.pk, state=IdempotencyState.IN_FLIGHT, created_at__lt=now - STALE_AFTER
    ).update(created_at=now)
    if taken:
        return Outcome(record_id=record.pk)
    return Outcome(conflict="in_flight")


def complete(record_id: int, status: int, body: Any) -> None:
    """Store the response; call inside the transaction of the work."""
    IdempotencyRecord.objects.filter(pk=record_id).update(
        state=IdempotencyState.DONE, response_status=status, response_body=body
    )


def abort(record_id: int) -> None:
    """Forget an in-flight record whose work failed, so the same key can be retried."""
    IdempotencyRecord.objects.filter(pk=record_id, state=IdempotencyState.IN_FLIGHT).delete()
