"""Deduction order and caps -> a plan: which accounts pay how much of one payment.

CONTRACT shared by the pooling and payments apps (payments/settlement.py executes plans; the
beneficiary's preview page shows them). Implemented by the pooling app.

    plan_payment(beneficiary, category, amount_fen, at, balances=None) -> PaymentPlan

- Sources in the beneficiary's chosen order; default: their own personal account first (if they
  have one), then each holder pooling to them, oldest binding first.
- Only usable sources: own account of an active employee-scheme person; bindings that are
  ACTIVE (not pending, paused, ended...), not past their end date, whose holder is active and
  whose policy allows ``category``.
- Each step pays min(what is left, the owner's balance, every cap still free: the binding's
  per-payment, monthly and annual caps, and the policy's annual cap per relative). Spending so
  far is read from payments.ledger (spent_from), never from bindings.
- ``balances``: {person_id: fen} to use instead of reading the ledger (the settlement passes
  the balances of the rows it has locked); a person missing from it counts as balance 0.
- ``remaining_fen`` is what the patient pays in cash. A step may have amount_fen 0 (shown in
  the preview as "¥0 from ..."); the settlement skips zero steps when it posts.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Literal

from accounts.models import InsuredPerson


@dataclass(frozen=True)
class PlanStep:
    source: Literal["own", "pooled"]
    owner: InsuredPerson  # whose personal account pays
    binding_id: int | None  # None for the own account
    relationship: str | None  # the beneficiary's relationship to the holder ("parent"), None for own
    amount_fen: int  # what this source pays in this plan
    limit_reason: str = ""  # why it pays less than asked: "balance", "per_payment_cap", "monthly_cap", ...


@dataclass(frozen=True)
class PaymentPlan:
    beneficiary: InsuredPerson
    category: str
    amount_fen: int
    steps: list[PlanStep] = field(default_factory=list)

    @property
    def paid_fen(self) -> int:
        return sum(step.amount_fen for step in self.steps)

    @property
    def remaining_fen(self) -> int:
        return self.amount_fen - self.paid_fen

    @property
    def owner_ids(self) -> list[int]:
        return [step.owner.pk for step in self.steps]


def plan_payment(
    beneficiary: InsuredPerson,
    category: str,
    amount_fen: int,
    at: datetime.datetime | None = None,
    balances: dict[int, int] | None = None,
) -> PaymentPlan:
    raise NotImplementedError("implemented by the pooling issue")
