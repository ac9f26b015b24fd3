"""What both ways of writing a payment share: the locked path (settlement.py) and the
one-statement path (fastpath.py). The refusal, the result and its JSON, the clearing shard.

Knows models and the ledger only; both paths import it, it imports neither.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from . import ledger
from .models import Refund, Settlement, SettlementSource


class SettlementError(Exception):
    """A refusal the caller can act on: ``code`` for machines, ``message`` for people."""

    def __init__(self, code: str, message: Any, status: int = 422) -> None:
        super().__init__(str(message))
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True)
class SettlementView:
    settlement: Settlement
    sources: list[SettlementSource]
    refunds: list[Refund]


def voucher_gone() -> Any:
    return _("This e-voucher was used a moment ago. Ask the patient to show a new code.")


def clearing_shard() -> int:
    """Which clearing shard a new payment credits: any, so concurrent payments spread out."""
    return random.randrange(ledger.CLEARING_SHARDS)  # noqa: S311 - load spreading, not security


def source_json(source: SettlementSource) -> dict[str, Any]:
    return {
        "source": source.source,
        "relationship": source.relationship or ("self" if source.source == "own" else None),
        "holder": source.holder_masked,
        "amount_fen": source.amount_fen,
    }


def _time(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def settlement_json(view: SettlementView) -> dict[str, Any]:
    s = view.settlement
    return {
        "id": s.pk,
        "status": "completed",
        "amount_fen": s.amount_fen,
        "paid_fen": s.paid_fen,
        "remaining_fen": s.amount_fen - s.paid_fen,
        "refunded_fen": s.refunded_fen,
        "category": s.category,
        "reference": s.reference,
        "sources": [source_json(src) for src in sorted(view.sources, key=lambda x: x.position)],
        "refunds": [
            {"id": r.pk, "amount_fen": r.amount_fen, "sources": r.parts, "created_at": _time(r.created_at)}
            for r in view.refunds
        ],
        "created_at": _time(s.created_at),
    }
