"""Idempotency keys of the settlement API: one record per (institution, key).

A request first claims its key: it commits an in-flight record before any work, so a second
request with the same key sees it. The work stores the response with ``complete`` inside its
own transaction; a failure calls ``abort`` so the key may be retried.

The work takes its ``Claim`` itself, in its first query where it can (a settlement inserts the
record in the statement that reads the e-voucher: one round trip less on every payment), or
with ``Claim.take``. If the key was taken already, ``Taken`` sends the caller to ``begin``,
which tells a replay (the stored response), a different request or one still in flight (409),
or a record that went away meanwhile (the work runs after all).
"""

from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from portal.db import prepared_cursor

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
    # surrogatepass: a lone surrogate in a field the API ignores must not break the hash
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


_INSERT = (
    "INSERT INTO payments_idempotencyrecord (institution_id, key, fingerprint, state, created_at) "
    "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (institution_id, key) DO NOTHING RETURNING id"
)


class Taken(Exception):
    """The key has a record already: ``begin`` decides what to answer."""


@dataclass
class Claim:
    """The right to run one request under (institution, key), once taken (``record_id``)."""

    institution_id: int
    key: str
    fingerprint: str
    now: datetime.datetime = field(default_factory=timezone.now)
    record_id: int | None = None

    # For a work's first statement: "WITH <CTE> SELECT <COLUMNS>, ..." with ``params`` first;
    # then ``took`` with the first column. That statement's commit does not wait for the disk
    # (synchronous_commit off for its transaction only): losing an in-flight record in a
    # crash loses nothing, as the work itself commits later, durably, and the log is written
    # in order, so the work's commit writes the record too. The work's own commit waits.
    CTE = f"claim AS ({_INSERT})"
    COLUMNS = "(SELECT id FROM claim), set_config('synchronous_commit', 'off', true)"

    def params(self) -> list[Any]:
        return [self.institution_id, self.key, self.fingerprint, IdempotencyState.IN_FLIGHT, self.now]

    def took(self, record_id: int | None) -> int:
        if record_id is None:
            raise Taken
        self.record_id = record_id
        return record_id

    def take(self) -> int:
        """Take the claim in a statement of its own (unless it is held already)."""
        if self.record_id is not None:
            return self.record_id
        with prepared_cursor() as cursor:
            cursor.execute(_INSERT, self.params())
            row = cursor.fetchone()
        return self.took(row[0] if row else None)


def begin(institution: Institution, key: str, fp: str, now: datetime.datetime | None = None) -> Outcome:
    now = now or timezone.now()
    with prepared_cursor() as cursor:
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
