"""Deduction order and caps -> a plan: which accounts pay how much of one payment.

CONTRACT shared by the pooling and payments apps (payments/settlement.py executes plans; the
beneficiary's preview page shows them). Implemented by the pooling app.

    plan_payment(beneficiary, category, amount_fen, at, balances=None, sources_read=None) -> PaymentPlan

- Sources in the beneficiary's chosen order; default: their own personal account first (if they
  have one), then each holder pooling to them, oldest binding first.
- Only usable sources: own account of an active employee-scheme person; bindings that are
  ACTIVE (not pending, paused, ended...), not past their end date, whose holder is active and
  whose policy allows ``category``.
- Each step pays min(what is left, the owner's balance above the reserve they keep (the larger
  of the region's and the binding's), every cap still free: the binding's per-payment, monthly
  and annual caps, the policy's annual cap per relative, and the region's and the binding's
  annual caps for the kind of care (outpatient, pharmacy, inpatient)).
- Premium-only bindings never pay for care; bindings pay only inside their start and end dates. Spending so
  far is read from payments.ledger (spent_from), never from bindings.
- ``balances``: {person_id: fen} to use instead of reading the ledger (the settlement passes
  the balances of the rows it has locked); a person missing from it counts as balance 0.
- ``sources_read``: the beneficiary's bindings and chosen order as read by ``SOURCES_SQL`` and
  ``read_sources`` (the settlement reads them in the same query as the e-voucher) instead of
  reading them here. The same filters and order apply.
- A step's ``spending_capped`` says its room depends on spending so far (a monthly or annual
  cap of the binding, or the policy's annual cap): such a step must be planned under the
  paying account's lock (payments.fastpath).
- ``remaining_fen`` is what the patient pays in cash. A step may have amount_fen 0 (shown in
  the preview as "¥0 from ..."); the settlement skips zero steps when it posts.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any, Literal

from django.utils import timezone

from accounts.models import InsuredPerson, RegionPolicy
from accounts.policies import policy_in_force


@dataclass(frozen=True)
class PlanStep:
    source: Literal["own", "pooled"]
    owner: InsuredPerson  # whose personal account pays
    binding_id: int | None  # None for the own account
    relationship: str | None  # the beneficiary's relationship to the holder ("parent"), None for own
    amount_fen: int  # what this source pays in this plan
    limit_reason: str = ""  # why it pays less than asked: "balance", "per_payment_cap", "monthly_cap", ...
    spending_capped: bool = False  # a cap of this source depends on spending so far


@dataclass(frozen=True)
class PaymentPlan:
    beneficiary: InsuredPerson
    category: str
    amount_fen: int
    steps: list[PlanStep] = field(default_factory=list)
    # Bindings left out because pooled money may not be spent at an institution outside the
    # holder's province (RegionPolicy.pooled_outside_province).
    outside_area: list[int] = field(default_factory=list)

    @property
    def paid_fen(self) -> int:
        return sum(step.amount_fen for step in self.steps)

    @property
    def remaining_fen(self) -> int:
        return self.amount_fen - self.paid_fen

    @property
    def owner_ids(self) -> list[int]:
        return [step.owner.pk for step in self.steps]


# Why a step pays less than asked (PlanStep.limit_reason).
LIMIT_BALANCE = "balance"
LIMIT_PER_PAYMENT = "per_payment_cap"
LIMIT_MONTHLY = "monthly_cap"
LIMIT_ANNUAL = "annual_cap"
LIMIT_POLICY_ANNUAL = "policy_annual_cap"
LIMIT_NOT_NEEDED = "not_needed"
LIMIT_CARE = "care_cap"  # the holder's annual cap for this kind of care (outpatient, pharmacy, inpatient)
LIMIT_POLICY_CARE = "policy_care_cap"  # the region's annual cap for this kind of care
LIMIT_RESERVE = "reserve"  # the balance the holder keeps (region's or holder's choice)
# Rooms computed from spending so far (or, for the reserve, guarded only under the account's lock).
SPENDING_LIMITS = (LIMIT_MONTHLY, LIMIT_ANNUAL, LIMIT_POLICY_ANNUAL, LIMIT_CARE, LIMIT_POLICY_CARE, LIMIT_RESERVE)


def care_kind(category: str) -> str | None:
    """The kind of care ("outpatient", "pharmacy", "inpatient") a category counts against, if any."""
    from .models import CARE_KINDS

    return next((kind for kind, categories in CARE_KINDS.items() if category in categories), None)


def month_start(at: datetime.datetime) -> datetime.datetime:
    local = timezone.localtime(at)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def year_start(at: datetime.datetime) -> datetime.datetime:
    local = timezone.localtime(at)
    return local.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class SourcesRead:
    """A beneficiary's ACTIVE bindings (oldest first, with their holders) and chosen order."""

    bindings: list[Any]
    order: list[str] | None


# The same rows as ordered_sources' ORM reads, as one JSON value, for a caller's own query:
# {person} is an SQL expression for the beneficiary's id. Holders come with the fields the
# planner and the settlement use; the others are deferred (read on access).
_BINDING_FIELDS = ("id", "holder_id", "beneficiary_id", "relationship", "status", "kind", "start_date", "end_date",
                   "per_payment_cap_fen", "monthly_cap_fen", "annual_cap_fen", "outpatient_cap_fen",
                   "pharmacy_cap_fen", "inpatient_cap_fen", "reserve_fen")
_HOLDER_FIELDS = ("id", "name", "scheme", "status", "died_on", "region_id")
_COLUMNS = ", ".join([f"b.{f}" for f in _BINDING_FIELDS] + [f"h.{f}" for f in _HOLDER_FIELDS])
SOURCES_SQL = (
    f"json_build_object('bindings', (SELECT coalesce(json_agg(json_build_array({_COLUMNS})"  # noqa: S608 - constants
    " ORDER BY b.activated_at, b.created_at, b.id), '[]'::json)"
    " FROM pooling_binding b JOIN accounts_insuredperson h ON h.id = b.holder_id"
    " WHERE b.beneficiary_id = {person} AND b.status = 'active' AND b.kind = 'full'),"
    " 'order', (SELECT d.sources FROM pooling_deductionorder d WHERE d.person_id = {person}))"
)


def read_sources(value: dict[str, Any]) -> SourcesRead:
    """Bindings with their holders from a SOURCES_SQL value (as model instances)."""
    from .models import Binding

    bindings = []
    n = len(_BINDING_FIELDS)
    for row in value["bindings"]:
        b, h = dict(zip(_BINDING_FIELDS, row[:n], strict=True)), dict(zip(_HOLDER_FIELDS, row[n:], strict=True))
        b["end_date"] = _date_or_none(b["end_date"])
        b["start_date"] = _date_or_none(b["start_date"])
        h["died_on"] = _date_or_none(h["died_on"])
        binding = _from_db(Binding, b)
        binding.holder = _from_db(InsuredPerson, h)
        bindings.append(binding)
    return SourcesRead(bindings, value.get("order"))


def _date_or_none(text: str | None) -> datetime.date | None:
    return None if text is None else datetime.date.fromisoformat(text)


def _from_db(model: Any, values: dict[str, Any]) -> Any:
    """An instance as loaded from the database with only these fields (the others deferred)."""
    names = [f.attname for f in model._meta.concrete_fields if f.attname in values]  # from_db wants this order
    return model.from_db("default", names, [values[name] for name in names])


def ordered_sources(
    beneficiary: InsuredPerson, day: datetime.date | None = None, read: SourcesRead | None = None
) -> list[Any]:
    """The beneficiary's sources in order: "own" (if they have an account) and bindings.

    Includes only bindings that can pay on ``day`` (active, not past their end date, holder
    active with a personal account, beneficiary active). Bindings come with their holder.
    ``read``: the rows already read by the caller (SOURCES_SQL); no query then.
    """
    from .models import Binding, DeductionOrder

    day = day or timezone.localdate()
    if read is not None:
        candidates = read.bindings
    else:
        candidates = list(Binding.objects.active().filter(kind="full").for_beneficiary(beneficiary)
                          .select_related("holder").order_by(
            "activated_at", "created_at", "id"
        ))
    bindings = [b for b in candidates if b.is_usable_on(day) and b.holder.is_active and b.holder.has_personal_account]
    if not beneficiary.is_active:
        bindings = []
    default: list[Any] = (["own"] if beneficiary.has_personal_account and beneficiary.is_active else []) + bindings
    if len(default) < 2:  # nothing to order (the common case at the pharmacy till): no query
        return default
    if read is not None:
        order = read.order
    else:
        order = DeductionOrder.objects.filter(person=beneficiary).values_list("sources", flat=True).first()
    return apply_order(default, order or [])


def source_key(source: Any) -> str:
    return "own" if source == "own" else f"binding:{source.pk}"


def apply_order(default: list[Any], chosen: list[str]) -> list[Any]:
    """Sources named in ``chosen`` first (in that order), the rest after in default order."""
    by_key = {source_key(s): s for s in default}
    result = [by_key.pop(key) for key in chosen if key in by_key]
    return result + [s for s in default if source_key(s) in by_key]


def plan_payment(
    beneficiary: InsuredPerson,
    category: str,
    amount_fen: int,
    at: datetime.datetime | None = None,
    balances: dict[int, int] | None = None,
    sources_read: SourcesRead | None = None,
    institution_region: str | None = None,
) -> PaymentPlan:
    """Split a payment over the beneficiary's sources (see the module docstring).

    ``institution_region``: where the care is given; a holder's policy may forbid pooled money
    outside the holder's province (the binding is then listed in ``outside_area``)."""
    from payments import ledger

    at = at or timezone.now()
    day = timezone.localdate(at)
    if balances is not None and sources_read is None and not set(balances) - {beneficiary.pk}:
        # Every holder would count as balance 0 and could pay nothing: no need to read bindings.
        sources: list[Any] = ["own"] if beneficiary.has_personal_account and beneficiary.is_active else []
    else:
        sources = ordered_sources(beneficiary, day, sources_read)
    owners = [beneficiary if s == "own" else s.holder for s in sources]
    if balances is None:
        balances = ledger.balances_of(owners) if owners else {}
    # Several steps never share an owner (one binding per pair), but keep a running balance anyway.
    left_in = dict(balances)
    remaining = max(0, int(amount_fen))
    policies: dict[str, RegionPolicy] = {}
    steps: list[PlanStep] = []
    outside: list[int] = []
    for source in sources:
        capped = False
        if source == "own":
            limits = [(left_in.get(beneficiary.pk, 0), LIMIT_BALANCE)]
            owner, binding_id, relationship, kind = beneficiary, None, None, "own"
        else:
            binding = source
            holder = binding.holder
            if holder.region_id not in policies:
                policies[holder.region_id] = policy_in_force(holder.region_id, day)
            policy = policies[holder.region_id]
            if category not in (policy.allowed_categories or []):
                continue
            if (institution_region and not policy.pooled_outside_province
                    and institution_region[:2] != (holder.region_id or "")[:2]):
                outside.append(binding.pk)
                continue
            limits = [(left_in.get(holder.pk, 0), LIMIT_BALANCE)]
            reserve = max(policy.reserve_fen or 0, binding.reserve_fen or 0)
            if reserve:
                limits.append((max(0, left_in.get(holder.pk, 0) - reserve), LIMIT_RESERVE))
            limits += _cap_room(binding, policy, beneficiary, at, remaining, category)
            capped = any(reason in SPENDING_LIMITS for _limit, reason in limits)
            owner, binding_id, relationship, kind = holder, binding.pk, binding.relationship, "pooled"
        room = min(limit for limit, _reason in limits)
        pay = max(0, min(remaining, room))
        reason = ""
        if remaining == 0:
            reason = LIMIT_NOT_NEEDED
        elif pay < remaining:
            reason = next(r for limit, r in limits if limit == room)
        steps.append(PlanStep(kind, owner, binding_id, relationship, pay, reason, capped))  # type: ignore[arg-type]
        left_in[owner.pk] = left_in.get(owner.pk, 0) - pay
        remaining -= pay
    return PaymentPlan(beneficiary=beneficiary, category=category, amount_fen=max(0, int(amount_fen)), steps=steps,
                       outside_area=outside)


def _cap_room(
    binding: Any, policy: RegionPolicy, beneficiary: InsuredPerson, at: datetime.datetime, remaining: int,
    category: str = "",
) -> list[tuple[int, str]]:
    """What each cap still allows, read from the ledger's spending (never from bindings)."""
    from payments import ledger

    room: list[tuple[int, str]] = []
    if binding.per_payment_cap_fen is not None:
        room.append((binding.per_payment_cap_fen, LIMIT_PER_PAYMENT))
    if binding.monthly_cap_fen is not None:
        spent = ledger.spent_from(binding.holder, beneficiary, since=month_start(at))
        room.append((max(0, binding.monthly_cap_fen - spent), LIMIT_MONTHLY))
    if binding.annual_cap_fen is not None or policy.annual_cap_fen is not None:
        spent_year = ledger.spent_from(binding.holder, beneficiary, since=year_start(at))
        if binding.annual_cap_fen is not None:
            room.append((max(0, binding.annual_cap_fen - spent_year), LIMIT_ANNUAL))
        if policy.annual_cap_fen is not None:
            room.append((max(0, policy.annual_cap_fen - spent_year), LIMIT_POLICY_ANNUAL))
    kind = care_kind(category)
    if kind is not None:
        own_cap = getattr(binding, f"{kind}_cap_fen", None)
        region_cap = getattr(policy, f"{kind}_cap_fen", None)
        if own_cap is not None or region_cap is not None:
            from .models import CARE_KINDS

            spent_kind = ledger.spent_from(binding.holder, beneficiary, since=year_start(at),
                                           categories=CARE_KINDS[kind])
            if own_cap is not None:
                room.append((max(0, own_cap - spent_kind), LIMIT_CARE))
            if region_cap is not None:
                room.append((max(0, region_cap - spent_kind), LIMIT_POLICY_CARE))
    return room
