"""The settlement's fast path on PostgreSQL: one statement reads, one statement writes a payment.

Why: a payment touches a voucher, a settlement with its sources, a ledger transaction with its
entries, an audit row and the idempotency record. Written one ORM query at a time, that is a
dozen round trips and most of the request's CPU, and a hot account stays locked for all of it.

The read (``find_voucher_and_read``) claims the idempotency key and reads the voucher with all
its plan needs: balances, the patient's bindings with their holders and deduction order
(pooling.planning.SOURCES_SQL) and the holders' languages for spending notices. The planner
then runs without a query, and ``settle`` writes. Both are prepared statements (portal/db.py).

How it stays correct without locking first:
- the plan is computed from committed balances (no lock), then one INSERT ... statement with
  data-modifying CTEs writes everything; the ledger trigger updates the balances in a fixed
  order (personal accounts by ascending id, then the clearing account), which takes the row
  locks, and the CHECK constraint (balance >= 0) refuses the statement if a concurrent payment
  took the money first. The caller then plans again (and after a few tries locks first);
- this path is used only when no charged source has a cap that depends on spending so far
  (monthly, annual, policy annual): those caps must be read under the account's lock, which
  the locked path does. A per-payment cap does not depend on spending, so it is fine here;
- the voucher is consumed in the same statement (only if still unused and unexpired).

Small in-process caches (policies 10 s, institution keys 5 s in institutions.py) save a query per
request; saving a policy or an institution clears them in this process, other processes catch up
within the TTL.
"""

from __future__ import annotations

import contextlib
import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, connection, transaction
from django.utils import translation

from accounts.notifications import deliver_after_commit
from pooling.planning import SOURCES_SQL, SourcesRead, read_sources
from portal.db import prepared_cursor

from . import ledger
from .idempotency import Claim
from .models import Institution, Settlement, SettlementSource, Voucher
from .settlement_base import SettlementError, SettlementView, clearing_shard, settlement_json, voucher_gone

if TYPE_CHECKING:
    from pooling.planning import PaymentPlan


# What a payment will need, read with the voucher (``v``) in the same query: the balances of
# the patient and of the holders of their ACTIVE bindings (anyone else counts as 0 for
# plan_payment, which is safe), those bindings and the deduction order (pooling's SOURCES_SQL),
# and the holders' languages for spending notices.
# = ANY(ARRAY(...)) rather than OR ... IN (...): the OR made PostgreSQL scan every account.
_HOLDERS = "SELECT b.holder_id FROM pooling_binding b WHERE b.beneficiary_id = v.person_id AND b.status = 'active'"
_READ_SQL = f""", (SELECT coalesce(json_object_agg(a.person_id, a.balance_fen), '{{}}'::json)
   FROM payments_ledgeraccount a
   WHERE a.kind = 'personal' AND a.person_id = ANY (ARRAY(SELECT v.person_id UNION ALL {_HOLDERS})))
 , {SOURCES_SQL.format(person="v.person_id")}
 , (SELECT coalesce(json_object_agg(u.person_id, u.language), '{{}}'::json)
   FROM accounts_user u WHERE u.person_id = ANY (ARRAY({_HOLDERS})))"""  # noqa: S608 - constant SQL, no input


@dataclass(frozen=True)
class PaymentRead:
    """What the fast path read beside the voucher (PostgreSQL only)."""

    balances: dict[int, int]  # person id -> balance of their personal account
    sources: SourcesRead
    languages: dict[int, str]  # holder's person id -> the language of their spending notices


def find_voucher_and_read(code: str, claim: Claim | None = None) -> tuple[Voucher | None, PaymentRead | None]:
    """The voucher, and on PostgreSQL what its payment needs, in one query (which also takes
    the idempotency ``claim``, see vouchers.find_voucher)."""
    from .vouchers import find_voucher

    if connection.vendor != "postgresql":
        return find_voucher(code), None
    voucher = find_voucher(code, _READ_SQL, claim)
    if voucher is None:
        return None, None
    balances, sources_json, languages = voucher.extra  # type: ignore[attr-defined]
    sources = read_sources(sources_json)
    return voucher, PaymentRead(
        balances={int(k): int(v) for k, v in balances.items()},
        sources=sources,
        # Holders who never signed up have no language of their own: notices go out in Chinese.
        languages={b.holder_id: languages.get(str(b.holder_id)) or "zh-hans" for b in sources.bindings},
    )


def applies(plan: PaymentPlan) -> bool:
    """May this plan be written without locking first? (PostgreSQL, no spending-based cap.)"""
    return connection.vendor == "postgresql" and not any(step.spending_capped for step in plan.steps)


_STATEMENT = """
WITH v AS (
  UPDATE payments_voucher SET used_at = %(now)s
  WHERE id = %(voucher)s AND used_at IS NULL AND revoked_at IS NULL AND expires_at > %(now)s
  RETURNING id
), s AS (
  INSERT INTO payments_settlement (institution_id, patient_id, category, amount_fen, paid_fen, refunded_fen,
                                   reference, created_at, clearing_account_id)
  SELECT %(institution)s, %(patient)s, %(category)s, %(amount)s, %(paid)s, 0, %(reference)s, %(now)s, %(clearing)s
  FROM v
  RETURNING id
), src AS (
  SELECT u.position, u.person_id, u.source, u.relationship, u.binding_id, u.holder, u.amount, a.id AS account_id
  FROM unnest(%(positions)s::int[], %(owners)s::bigint[], %(sources)s::text[], %(relationships)s::text[],
              %(bindings)s::bigint[], %(holders)s::text[], %(amounts)s::bigint[])
       AS u(position, person_id, source, relationship, binding_id, holder, amount)
  JOIN payments_ledgeraccount a ON a.person_id = u.person_id AND a.kind = 'personal'
), ss AS (
  INSERT INTO payments_settlementsource (settlement_id, position, account_id, owner_id, source, relationship,
                                         binding_id, holder_masked, amount_fen, refunded_fen)
  SELECT s.id, src.position, src.account_id, src.person_id, src.source, src.relationship, src.binding_id,
         src.holder, src.amount, 0
  FROM s, src
  RETURNING position, account_id
), t AS (
  INSERT INTO payments_ledgertransaction (kind, reference, memo, reverses_id, created_at)
  SELECT 'settlement', 'settlement:' || s.id, '', NULL, %(now)s FROM s WHERE %(paid)s > 0
  RETURNING id
), e AS (
  INSERT INTO payments_ledgerentry (transaction_id, account_id, amount_fen, patient_id, category, created_at)
  SELECT t.id, x.account_id, x.amount, %(patient)s, %(category)s, %(now)s
  FROM t, (SELECT 0 AS grp, account_id, -amount AS amount FROM src
           UNION ALL SELECT 1, %(clearing)s, %(paid)s) x
  ORDER BY x.grp, x.account_id
), au AS (
  INSERT INTO accounts_auditevent (created_at, actor_id, on_behalf_of_id, channel, action, object_type, object_id,
                                   before, after, note)
  SELECT %(now)s, NULL, %(patient)s, 'api', 'settlement.create', 'payments.Settlement', s.id::text, NULL,
         %(audit)s::jsonb, ''
  FROM s
), n AS (
  INSERT INTO accounts_notification (person_id, kind, subject, body, link, dedupe_key, created_at, read_at, relayed_at)
  SELECT u.person_id, 'spending', u.subject, u.body, %(link)s, NULL, %(now)s, NULL, NULL
  FROM s, unnest(%(notice_people)s::bigint[], %(notice_subjects)s::text[], %(notice_bodies)s::text[])
       AS u(person_id, subject, body)
  RETURNING id
), idem AS (
  UPDATE payments_idempotencyrecord SET state = 'done', response_status = 201,
         response_body = jsonb_set(%(body)s::jsonb, '{id}', to_jsonb(s.id))
  FROM s WHERE payments_idempotencyrecord.id = %(record)s
)
SELECT s.id, (SELECT array_agg(account_id ORDER BY position) FROM ss), (SELECT array_agg(id) FROM n) FROM s
"""


def settle(
    institution: Institution,
    voucher: Voucher,
    plan: PaymentPlan,
    reference: str,
    now: datetime.datetime,
    record_id: int | None,
    notice: Callable[[SettlementSource, Settlement, Institution], tuple[Any, Any, dict[str, Any]]],
    languages: dict[int, str] | None = None,
) -> SettlementView | None:
    """Write the payment in one statement. None: a balance moved meanwhile, plan again.

    One statement is one transaction: no Python runs while the accounts' rows are locked.
    The holders' spending notices are part of it (rows of the notification outbox, rendered in
    each holder's language, as ``notify`` writes them) and are handed to delivery after commit.
    """
    from django.urls import reverse

    patient = plan.beneficiary
    steps = [s for s in plan.steps if s.amount_fen > 0]
    paid = sum(s.amount_fen for s in steps)
    settlement = Settlement(
        pk=0, institution=institution, patient=patient, category=plan.category, amount_fen=plan.amount_fen,
        paid_fen=paid, reference=reference, created_at=now,
    )
    sources = [
        SettlementSource(
            settlement=settlement, position=i, owner=s.owner, source=s.source, relationship=s.relationship or "",
            binding_id=s.binding_id, holder_masked=s.owner.masked_name, amount_fen=s.amount_fen,
        )
        for i, s in enumerate(steps, start=1)
    ]
    view = SettlementView(settlement, sources, [])
    notices = []
    for src in sources:
        if src.source == "pooled":
            subject, body, values = notice(src, settlement, institution)
            language = (languages or {}).get(src.owner.pk)
            notices.append((src.owner.pk, _render(src.owner, subject, values, language),
                            _render(src.owner, body, values, language)))
    params: dict[str, Any] = {
        "now": now, "voucher": voucher.pk, "institution": institution.pk, "patient": patient.pk,
        "category": plan.category, "amount": plan.amount_fen, "paid": paid, "reference": reference,
        "positions": [src.position for src in sources], "owners": [src.owner.pk for src in sources],
        "sources": [src.source for src in sources], "relationships": [src.relationship for src in sources],
        "bindings": [src.binding_id for src in sources], "holders": [src.holder_masked for src in sources],
        "amounts": [src.amount_fen for src in sources],
        "clearing": ledger.institution_account_ref(institution, clearing_shard()).pk,
        "audit": json.dumps({"institution": institution.code, "amount_fen": plan.amount_fen, "paid_fen": paid,
                             "category": plan.category, "reference": reference}),
        "body": json.dumps(settlement_json(view), ensure_ascii=False),
        "record": record_id or 0,
        "link": reverse("payments:spending") if notices else "",
        "notice_people": [n[0] for n in notices], "notice_subjects": [n[1] for n in notices],
        "notice_bodies": [n[2] for n in notices],
    }
    try:
        # A lone statement is its own transaction (inside a test's transaction: a savepoint).
        with transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext():
            with prepared_cursor() as cursor:
                cursor.execute(_STATEMENT, params)
                row = cursor.fetchone()
            if row is None:
                raise SettlementError("voucher_invalid", voucher_gone())
            if len(row[1] or []) != len(sources):
                raise IntegrityError("a paying account disappeared")
            deliver_after_commit(row[2] or [])
    except IntegrityError:
        return None  # an overdraft refused by the database: a concurrent payment came first
    settlement.pk = row[0]
    for src, account_id in zip(sources, row[1] or [], strict=True):
        src.account_id = account_id
        src.settlement_id = settlement.pk
    return view


def _render(person: Any, text: Any, params: dict[str, Any], language: str | None) -> str:
    """As accounts.notifications.render_in_language, with the language read beside the voucher."""
    from accounts.notifications import render_in_language

    if language is None:
        return render_in_language(person, text, params)
    with translation.override(language):
        return str(text) % {k: str(v) for k, v in params.items()}
