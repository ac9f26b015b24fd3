"""Context builders for the dashboard sections and the counter's person page.

Each builder runs a fixed number of queries, however many relatives there are.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from accounts.models import InsuredPerson, User

from .changes import open_undo_for
from .models import FINAL_STATUSES, LIVE_STATUSES, Binding, BindingStatus
from .planning import (
    PaymentPlan,
    SourcesRead,
    apply_order,
    month_start,
    ordered_sources,
    plan_payment,
    source_key,
    year_start,
)
from .relations import beneficiary_word, holder_word

RECENT_DAYS = 60
PREVIEW_AMOUNT_FEN = 30_000
PREVIEW_CATEGORY = "pharmacy_drug"


@dataclass
class Row:
    binding: Binding
    word: Any  # "mother" / "son": what the other person is to the viewer
    spent_month_fen: int = 0
    spent_year_fen: int = 0
    premiums_year_fen: int = 0  # resident premiums the holder paid for this relative (not spending)


@dataclass
class SlotCounter:
    used: int
    pending: int
    maximum: int

    @property
    def active(self) -> int:
        return self.used - self.pending

    @property
    def free(self) -> int:
        return max(0, self.maximum - self.used)


def holder_blockers(person: InsuredPerson) -> list[tuple[Any, Any]]:
    """Why this person cannot add any relative at all, before they fill in a form: (reason, what to do)."""
    from django.utils.translation import gettext_lazy as _

    blockers: list[tuple[Any, Any]] = []
    if not person.has_personal_account:
        blockers.append((
            _("Only people with employee medical insurance have a personal account to share. "
              "Your insurance is urban-rural resident insurance, which has no personal account."),
            _("A relative with employee insurance can add you instead, and pay for your care from their account."),
        ))
    if not person.is_active:
        blockers.append((
            _("Your own insurance is not active at the moment, so your account cannot be shared."),
            _("Please contact your medical insurance bureau to restore your insurance, then try again."),
        ))
    return blockers


@dataclass
class DashboardBindings:
    """A person's bindings as the dashboard shows them, read in one query (``read_bindings``)."""

    as_holder: list[Binding]  # live, oldest first
    ended_as_holder: list[Binding]  # ended in the last RECENT_DAYS, latest first, at most 5
    as_beneficiary: list[Binding]  # live, oldest first


def read_bindings(person: InsuredPerson, now: datetime.datetime | None = None) -> DashboardBindings:
    """The person's live bindings on both sides and those that recently ended as holder, in one
    query with the other person of each (what three ``with_people()`` queries read: the
    dashboard's sections show names, sexes and masked IDs of the other side, never regions)."""
    from django.db.models import Q

    now = now or timezone.now()
    since = now - datetime.timedelta(days=RECENT_DAYS)
    found = list(
        Binding.objects.filter(
            Q(holder=person, status__in=LIVE_STATUSES)
            | Q(holder=person, status__in=FINAL_STATUSES, ended_at__gte=since)
            | Q(beneficiary=person, status__in=LIVE_STATUSES)
        ).select_related("holder", "beneficiary")
    )
    for binding in found:  # the person is one side of every binding: the same object as the caller's
        if binding.holder_id == person.pk:
            binding.holder = person
        else:
            binding.beneficiary = person
    oldest_first = sorted(found, key=lambda b: (b.created_at, b.pk))
    ended = sorted((b for b in found if b.holder_id == person.pk and b.status in FINAL_STATUSES),
                   key=lambda b: (b.ended_at, b.pk), reverse=True)
    return DashboardBindings(
        as_holder=[b for b in oldest_first if b.holder_id == person.pk and b.status in LIVE_STATUSES],
        ended_as_holder=ended[:5],
        as_beneficiary=[b for b in oldest_first if b.beneficiary_id == person.pk and b.status in LIVE_STATUSES],
    )


def holder_context(person: InsuredPerson, read: DashboardBindings | None = None) -> dict[str, Any]:
    from accounts.policies import policy_in_force
    from payments import ledger

    now = timezone.now()
    read = read or read_bindings(person, now)
    bindings = read.as_holder
    figures = ledger.figures_by_patient(person, month_start(now), year_start(now)) if bindings else {}
    rows = [Row(b, beneficiary_word(b), *figures.get(b.beneficiary_id, (0, 0, 0))) for b in bindings]
    policy = policy_in_force(person.region_id, timezone.localdate(now))
    pending = sum(1 for b in bindings if b.status == BindingStatus.PENDING)
    return {
        "pooling_is_holder": person.has_personal_account or bool(bindings),
        "pooling_balance_fen": ledger.balance_of(person) if person.has_personal_account else 0,
        "pooling_rows": rows,
        "pooling_slots": SlotCounter(len(bindings), pending, policy.max_beneficiaries),
        "pooling_blockers": holder_blockers(person),
        "pooling_policy": policy,
        "pooling_any_active": any(b.status == BindingStatus.ACTIVE for b in bindings),
        "pooling_any_paused": any(b.status == BindingStatus.PAUSED for b in bindings),
        "pooling_undo": open_undo_for(person),
        "pooling_recently_ended": [
            Row(b, beneficiary_word(b)) for b in read.ended_as_holder
        ] if person.has_personal_account else [],
    }


@dataclass
class Allowance:
    """What the relative may still use from one holder (None: no cap of that kind)."""

    binding: Binding
    word: Any
    monthly_left_fen: int | None
    annual_left_fen: int | None
    balance_left_fen: int  # the holder's balance above the reserve they keep
    reserve_fen: int


def allowances(person: InsuredPerson, rows: list[Row], balances: dict[int, int] | None = None) -> list[Allowance]:
    """Per holder: the month's and the year's cap left, and the balance above any reserve.

    Two queries whatever the number of holders (spending per holder, balances; none for the
    balances already in ``balances``); policies are cached per region."""
    from django.db.models import Case, IntegerField, Sum, When
    from django.db.models.functions import Coalesce

    from accounts.policies import policy_in_force
    from payments import ledger
    from payments.models import LedgerEntry

    usable = [r for r in rows if r.binding.status in (BindingStatus.ACTIVE, BindingStatus.PAUSED)
              and r.binding.kind == "full"]
    if not usable:
        return []
    now = timezone.now()
    since_month, since_year = month_start(now), year_start(now)
    holder_ids = [r.binding.holder_id for r in usable]
    spent = {
        row["account__person_id"]: row
        for row in LedgerEntry.objects.filter(
            account__person_id__in=holder_ids, patient=person, transaction__kind__in=ledger.SPENDING_KINDS,
            created_at__gte=since_year,
        ).exclude(category=ledger.PREMIUM_CATEGORY).values("account__person_id").annotate(
            year=Coalesce(Sum("amount_fen"), 0),
            month=Coalesce(Sum(Case(When(created_at__gte=since_month, then="amount_fen"), default=0,
                                    output_field=IntegerField())), 0),
        ).order_by()
    }
    balances = dict(balances or {})
    missing = [r.binding.holder for r in usable if r.binding.holder_id not in balances]
    if missing:
        balances.update(ledger.balances_of(missing))
    today = timezone.localdate(now)
    result = []
    for row in usable:
        binding = row.binding
        policy = policy_in_force(binding.holder.region_id, today)
        figures = spent.get(binding.holder_id, {"year": 0, "month": 0})
        spent_month, spent_year = max(0, -int(figures["month"])), max(0, -int(figures["year"]))
        monthly = None if binding.monthly_cap_fen is None else max(0, binding.monthly_cap_fen - spent_month)
        annual_caps = [c for c in (binding.annual_cap_fen, policy.annual_cap_fen) if c is not None]
        annual = None if not annual_caps else max(0, min(annual_caps) - spent_year)
        reserve = max(policy.reserve_fen or 0, binding.reserve_fen or 0)
        balance = max(0, balances.get(binding.holder_id, 0) - reserve)
        result.append(Allowance(binding, row.word, monthly, annual, balance, reserve))
    return result


def beneficiary_context(person: InsuredPerson, amount_fen: int = PREVIEW_AMOUNT_FEN,
                        category: str = PREVIEW_CATEGORY, read: DashboardBindings | None = None) -> dict[str, Any]:
    from payments import ledger

    if read is not None:
        bindings = read.as_beneficiary
        sources = _sources_among(person, bindings) if bindings else []
    else:
        bindings = list(Binding.objects.live().for_beneficiary(person).with_people().order_by("created_at", "id"))
        sources = ordered_sources(person) if bindings else []
    rows = [Row(b, holder_word(b)) for b in bindings]
    requests = [r for r in rows if r.binding.status == BindingStatus.PENDING or r.binding.confirmation_requested_at]
    incoming = [r for r in rows if r not in requests]
    # The balances of every account the preview and the allowances show, read once; the preview
    # plans over the sources read here instead of reading them again.
    owners = {person.pk: person} if "own" in sources else {}
    owners |= {s.holder_id: s.holder for s in sources if s != "own"}
    owners |= {r.binding.holder_id: r.binding.holder for r in incoming
               if r.binding.status in (BindingStatus.ACTIVE, BindingStatus.PAUSED) and r.binding.kind == "full"}
    balances = ledger.balances_of(list(owners.values())) if owners else {}
    preview: PaymentPlan | None = plan_payment(
        person, category, amount_fen, balances=balances,
        sources_read=SourcesRead([s for s in sources if s != "own"], [source_key(s) for s in sources]),
    ) if sources else None
    words = {r.binding.pk: r.word for r in rows}
    return {
        "pooling_is_beneficiary": bool(bindings),
        "pooling_sources": [_source_view(s, words) for s in sources],
        "pooling_incoming": incoming,
        "pooling_allowances": allowances(person, incoming, balances),
        "pooling_requests": requests,
        "pooling_preview": preview,
        "pooling_preview_steps": [(step, words.get(step.binding_id or 0)) for step in preview.steps] if preview else [],
        "pooling_preview_amount_fen": amount_fen,
        "pooling_preview_category": category,
    }


def _sources_among(person: InsuredPerson, live: list[Binding]) -> list[Any]:
    """What ordered_sources(person) gives, from the person's live bindings already read (with
    their holders): only the chosen order is read, and only when there is something to order."""
    from django.db import connection

    from .models import BindingKind, DeductionOrder

    nulls_last = connection.features.nulls_order_largest  # as the database sorts "activated_at"

    def activation(b: Binding) -> tuple[Any, ...]:
        missing = b.activated_at is None
        return (missing if nulls_last else not missing, b.activated_at or b.created_at, b.created_at, b.pk)

    candidates = sorted((b for b in live if b.status == BindingStatus.ACTIVE and b.kind == BindingKind.FULL),
                        key=activation)
    default = ordered_sources(person, read=SourcesRead(candidates, []))
    if len(default) < 2:
        return default
    order = DeductionOrder.objects.filter(person=person).values_list("sources", flat=True).first()
    return apply_order(default, order or [])


def _source_view(source: Any, words: dict[int, Any]) -> dict[str, Any]:
    if source == "own":
        return {"key": "own", "own": True}
    return {"key": source_key(source), "own": False, "binding": source, "word": words.get(source.pk)}


def _dashboard_read(user: User) -> DashboardBindings:
    """Both pooling sections of one dashboard share one read of the bindings (kept on the user
    object of that request)."""
    assert user.person is not None
    read = getattr(user, "_pooling_dashboard_read", None)
    if read is None:
        read = read_bindings(user.person)
        user._pooling_dashboard_read = read  # type: ignore[attr-defined]
    return read


def holder_section(user: User) -> dict[str, Any]:
    assert user.person is not None
    context = holder_context(user.person, _dashboard_read(user))
    user._pooling_dashboard_undo = context["pooling_undo"]  # type: ignore[attr-defined]
    return context


def beneficiary_section(user: User) -> dict[str, Any]:
    assert user.person is not None
    context = beneficiary_context(user.person, read=_dashboard_read(user))
    if not user.person.has_personal_account:  # the holder section shows the banner otherwise
        undo = getattr(user, "_pooling_dashboard_undo", False)  # (read by the holder section already)
        context["pooling_undo_mine"] = open_undo_for(user.person) if undo is False else undo
    return context


def dashboard_state() -> list[str]:
    """What of the pooling sections a kept dashboard must match (portal/pagecache.py), as scalar
    subqueries where every %s is the person: their bindings on both sides (how many, the last
    change), the people on the other side (the last change to any of them), those people's
    accounts (balances and last entries: a relative's allowance shows the holder's balance), the
    undo banner and the chosen deduction order."""
    from payments.models import LedgerAccount, LedgerEntry

    from .models import DeductionOrder, UndoableChange

    binding, person = Binding._meta.db_table, InsuredPerson._meta.db_table
    account, entry = LedgerAccount._meta.db_table, LedgerEntry._meta.db_table
    undo, order = UndoableChange._meta.db_table, DeductionOrder._meta.db_table
    others = f"SELECT holder_id FROM {binding} WHERE beneficiary_id = %s UNION SELECT beneficiary_id FROM {binding} WHERE holder_id = %s"  # noqa: E501, S608
    last_entry = f"(SELECT MAX(e.created_at) FROM {entry} e WHERE e.account_id = a.id)"  # noqa: S608
    return [
        f"(SELECT COUNT(*) FROM {binding} WHERE holder_id = %s OR beneficiary_id = %s)",  # noqa: S608
        f"(SELECT MAX(updated_at) FROM {binding} WHERE holder_id = %s OR beneficiary_id = %s)",  # noqa: S608
        f"(SELECT MAX(updated_at) FROM {person} WHERE id IN ({others}))",  # noqa: S608
        f"(SELECT SUM(balance_fen) FROM {account} WHERE person_id IN ({others}))",  # noqa: S608
        # The last entry of each of those accounts: the (account, created_at) index, per account.
        f"(SELECT MAX({last_entry}) FROM {account} a WHERE a.person_id IN ({others}))",  # noqa: S608
        f"(SELECT COUNT(*) FROM {undo} WHERE person_id = %s AND undone_at IS NULL)",  # noqa: S608
        f"(SELECT MAX(id) FROM {undo} WHERE person_id = %s)",  # noqa: S608
        f"(SELECT MAX(updated_at) FROM {order} WHERE person_id = %s)",  # noqa: S608
    ]


def counter_section(request: HttpRequest, person: InsuredPerson) -> dict[str, Any]:
    return {
        "pooling_undo": open_undo_for(person),
        "pooling_as_holder": list(Binding.objects.live().for_holder(person).with_people()
                                  .select_related("beneficiary__region").order_by("created_at")),
        "pooling_as_beneficiary": list(
            Binding.objects.live().for_beneficiary(person).with_people().order_by("created_at")
        ),
    }
