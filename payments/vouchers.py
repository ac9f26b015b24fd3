"""E-vouchers (电子凭证): short-lived, single-use codes shown as a QR code and digits.

A person has at most one usable code: issuing a new one revokes the earlier ones. The
settlement consumes a code atomically (an UPDATE that only succeeds once, while it is valid).
"""

from __future__ import annotations

import datetime
import functools
import secrets
from typing import Any

import segno
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import crypto
from accounts.models import AuditChannel, InsuredPerson, audit
from portal.db import prepared_cursor

from .idempotency import Claim
from .models import Voucher

VOUCHER_SECONDS = 5 * 60
CODE_DIGITS = 18


class VoucherError(Exception):
    def __init__(self, code: str, message: Any) -> None:
        super().__init__(str(message))
        self.code = code
        self.message = message


def code_hash(code: str) -> str:
    return crypto.lookup_hash("voucher:" + code)


def normalize_code(code: str) -> str:
    return "".join(ch for ch in str(code) if not ch.isspace() and ch != "-")


@transaction.atomic
def issue_voucher(person: InsuredPerson, *, actor: Any = None, channel: str = AuditChannel.WEB,
                  now: datetime.datetime | None = None) -> tuple[Voucher, str]:
    """A fresh code for ``person`` (earlier unused codes stop working). Returns (voucher, code)."""
    if not person.is_active:
        raise VoucherError("not_insured", _(
            "Your insurance is not active, so no e-voucher can be issued. Please contact your "
            "medical-insurance bureau."
        ))
    now = now or timezone.now()
    Voucher.objects.filter(person=person, used_at__isnull=True, revoked_at__isnull=True).update(revoked_at=now)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    voucher = Voucher.objects.create(
        person=person, code_hash=code_hash(code), code_encrypted=crypto.encrypt(code),
        created_at=now, expires_at=now + datetime.timedelta(seconds=VOUCHER_SECONDS),
    )
    audit("voucher.issue", channel=channel, actor=actor, on_behalf_of=person, obj=voucher)
    return voucher, code


def current_voucher(person: InsuredPerson, now: datetime.datetime | None = None) -> Voucher | None:
    return Voucher.objects.usable(now).filter(person=person).order_by("-created_at").first()


def current_or_new_voucher(person: InsuredPerson, *, actor: Any = None) -> Voucher:
    """The person's usable code, or a new one (the voucher page shows a code on every visit)."""
    voucher = current_voucher(person)
    if voucher is None:
        voucher, _code = issue_voucher(person, actor=actor)
    return voucher


@transaction.atomic
def extend_voucher(person: InsuredPerson, *, actor: Any = None, now: datetime.datetime | None = None) -> Voucher:
    """Add another validity period to the code's current expiry (the same code if still unused, else a new one)."""
    now = now or timezone.now()
    voucher = Voucher.objects.usable(now).select_for_update().filter(person=person).order_by("-created_at").first()
    if voucher is None:
        voucher, _code = issue_voucher(person, actor=actor, now=now)
        return voucher
    voucher.expires_at = max(voucher.expires_at, now) + datetime.timedelta(seconds=VOUCHER_SECONDS)
    voucher.save(update_fields=["expires_at"])
    audit("voucher.extend", channel=AuditChannel.WEB, actor=actor, on_behalf_of=person, obj=voucher)
    return voucher


def grouped(code: str) -> str:
    """The code in groups of four digits, easier to read aloud: 4714 5862 5341 7689 84."""
    return " ".join(code[i:i + 4] for i in range(0, len(code), 4))


def find_voucher(code: str, extra_sql: str = "", claim: Claim | None = None) -> Voucher | None:
    """The voucher with this code (whatever its state), with its person.

    ``extra_sql``: more columns to read in the same query on PostgreSQL (``v`` is the voucher,
    ``p`` the person); their values are set on the voucher as ``extra``.
    ``claim``: an idempotency claim to take in the same statement on PostgreSQL (raises
    idempotency.Taken if the key has a record already; a malformed code reads nothing).
    """
    code = normalize_code(code)
    if not code.isdigit() or len(code) != CODE_DIGITS:
        return None
    if connection.vendor != "postgresql":
        return Voucher.objects.select_related("person").filter(code_hash=code_hash(code)).first()
    # The hottest read of a payment: plain SQL, no query compilation (same rows as above).
    claiming = claim is not None and claim.record_id is None
    sql = _voucher_sql(extra_sql, claiming)
    params = [*claim.params(), code_hash(code)] if claim is not None and claiming else [code_hash(code)]
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if claiming:
        assert claim is not None and row is not None
        claim.took(row[0])
        row = row[2:]
    if row is None or row[0] is None:
        return None
    v_fields, p_fields = Voucher._meta.concrete_fields, InsuredPerson._meta.concrete_fields
    n, m = len(v_fields), len(v_fields) + len(p_fields)
    voucher = Voucher.from_db("default", [f.attname for f in v_fields], row[:n])
    voucher.person = InsuredPerson.from_db("default", [f.attname for f in p_fields], row[n:m])
    voucher.extra = row[m:]  # type: ignore[attr-defined]
    return voucher


@functools.cache
def _voucher_sql(extra_sql: str, claiming: bool) -> str:
    """The voucher read of ``find_voucher`` (built once per variant, not on every payment)."""
    v_fields, p_fields = Voucher._meta.concrete_fields, InsuredPerson._meta.concrete_fields
    columns = ", ".join([f"v.{f.column}" for f in v_fields] + [f"p.{f.column}" for f in p_fields])
    tables = f"{Voucher._meta.db_table} v JOIN {InsuredPerson._meta.db_table} p ON p.id = v.person_id"
    if claiming:
        # A row even for an unknown code, to say whether the claim was taken.
        return (f"WITH {Claim.CTE} SELECT {Claim.COLUMNS}, {columns}{extra_sql}"  # noqa: S608 - as below
                f" FROM (SELECT 1) AS one LEFT JOIN ({tables}) ON v.code_hash = %s")
    return f"SELECT {columns}{extra_sql} FROM {tables} WHERE v.code_hash = %s"  # noqa: S608 - names from models


def check_usable(voucher: Voucher | None, now: datetime.datetime) -> None:
    """Raise VoucherError(voucher_invalid | voucher_expired) unless the code can pay now."""
    if voucher is None or voucher.revoked_at is not None or voucher.used_at is not None:
        raise VoucherError("voucher_invalid", _(
            "This e-voucher is not valid: it is unknown, was already used, or was replaced by a newer code. "
            "Ask the patient to show the code on their phone again."
        ))
    if voucher.expires_at <= now:
        raise VoucherError("voucher_expired", _(
            "This e-voucher has expired. Ask the patient to refresh the code on their phone."
        ))


def consume(voucher: Voucher, now: datetime.datetime) -> bool:
    """Mark the voucher used; False if another request used it (or it lapsed) first."""
    return bool(
        Voucher.objects.filter(pk=voucher.pk, used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now)
        .update(used_at=now)
    )


def qr_svg(code: str) -> bytes:
    """The code as an SVG QR code (no style attributes: the CSP forbids inline styles)."""
    import io

    buffer = io.BytesIO()
    segno.make(code, error="m", micro=False).save(buffer, kind="svg", scale=8, border=2, dark="#000", light="#fff")
    return buffer.getvalue()


def seconds_left(voucher: Voucher, now: datetime.datetime | None = None) -> int:
    return max(0, int((voucher.expires_at - (now or timezone.now())).total_seconds()))
