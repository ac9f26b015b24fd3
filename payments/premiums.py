"""Resident premium payment (代缴居民医保费): a holder pays a bound relative's yearly premium.

A premium is the holder's own act, not the relative's spending: it never counts against nor is
limited by the relative's spending caps (ledger.spent_from leaves it out), and it needs no
spending rights. Allowed for a live binding (full or premium-only, not waiting for consent) of a
relative in the resident scheme whose insurance is active or suspended for non-payment (the
person who most needs it), inside the holder's policy's premium scope, when the holder's
region lets personal accounts pay premiums, within the holder's balance; once per relative and
year (a unique constraint makes sure, whatever races). The money moves from the holder's
personal account to the premium fund, recorded with patient=relative.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import (
    AuditChannel,
    InsuranceStatus,
    InsuredPerson,
    PoolingScope,
    RegionPolicy,
    Scheme,
    SpendingCategory,
    audit,
)
from accounts.notifications import notify
from pooling.selectors import premium_binding

from . import ledger
from .models import AccountKind, PremiumPayment, TransactionKind


class PremiumError(Exception):
    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class PremiumOption:
    """A relative whose premium the holder could pay for a year, or why not."""

    relative: InsuredPerson
    relationship: str
    year: int
    amount_fen: int
    paid: PremiumPayment | None
    problem: Any  # a plain-words reason it cannot be paid now, or ""


# Binding statuses under which the holder may pay: paused or suspended bindings stop spending,
# not the holder's own act of paying a premium.
PREMIUM_STATUSES = ("active", "paused", "suspended")


def premium_year(today: datetime.date | None = None) -> int:
    """Premiums are collected in advance: from September on, for the next year."""
    today = today or timezone.localdate()
    return today.year + 1 if today.month >= 9 else today.year


def premium_amount(relative: InsuredPerson, day: datetime.date | None = None) -> int:
    return int(RegionPolicy.objects.in_force(relative.region_id, day or timezone.localdate()).resident_premium_fen)


def in_premium_scope(policy: RegionPolicy, holder: InsuredPerson, relative: InsuredPerson) -> bool:
    """May the holder pay a premium for a relative insured there? (The policy's premium scope.)"""
    scope = policy.premium_scope
    if scope == PoolingScope.NATIONAL:
        return True
    if scope == PoolingScope.PROVINCE:
        return holder.region_id[:2] == relative.region_id[:2]
    return holder.region_id == relative.region_id


def _problem(holder: InsuredPerson, relative: InsuredPerson, amount: int, balance: int, paid: bool,
             policy: RegionPolicy | None = None) -> Any:
    if paid:
        return _("Already paid for this year.")
    if relative.scheme != Scheme.RESIDENT:
        return _("This relative is not in urban-rural resident insurance, so there is no resident premium to pay.")
    if relative.died_on is not None or relative.status not in (InsuranceStatus.ACTIVE, InsuranceStatus.SUSPENDED):
        return _("The relative's resident insurance has ended. Please ask their medical-insurance bureau how "
                 "to enrol again.")
    if not holder.is_active or not holder.has_personal_account:
        return _("Your own insurance must be active employee insurance to pay from your personal account.")
    policy = policy or RegionPolicy.objects.in_force(holder.region_id, timezone.localdate())
    if SpendingCategory.RESIDENT_PREMIUM not in (policy.allowed_categories or []):
        return _("In your region, personal accounts may not pay resident insurance premiums.")
    if not in_premium_scope(policy, holder, relative):
        if policy.premium_scope == PoolingScope.PROVINCE:
            return _("Your region lets you pay premiums only for relatives insured in your own province.")
        return _("Your region lets you pay premiums only for relatives insured in your own pooling region.")
    if amount <= 0:
        return _("No resident premium is set for the relative's region. Please ask your medical-insurance bureau.")
    if balance < amount:
        return _("Your balance is too low for this premium. The relative can pay it another way, for example at a bank or a counter.")
    return ""


def premium_options(holder: InsuredPerson, bindings: list[Any], year: int | None = None) -> list[PremiumOption]:
    """One option per live binding that is not waiting for consent (callers pass pooling's live bindings)."""
    year = year or premium_year()
    balance = ledger.balance_of(holder)
    policy = RegionPolicy.objects.in_force(holder.region_id, timezone.localdate())
    relatives = [b for b in bindings if b.status in PREMIUM_STATUSES]
    paid = {
        p.relative_id: p
        for p in PremiumPayment.objects.filter(relative_id__in=[b.beneficiary_id for b in relatives], year=year)
    }
    options = []
    for binding in relatives:
        relative = binding.beneficiary
        amount = premium_amount(relative)
        options.append(PremiumOption(
            relative, binding.relationship, year, amount, paid.get(relative.pk),
            _problem(holder, relative, amount, balance, relative.pk in paid, policy),
        ))
    return options


@dataclass(frozen=True)
class PremiumPreview:
    """What the confirmation page shows before money moves."""

    relative: InsuredPerson
    relationship: str
    year: int
    amount_fen: int
    balance_fen: int
    problem: Any

    @property
    def balance_after_fen(self) -> int:
        return self.balance_fen - self.amount_fen


def premium_preview(holder: InsuredPerson, relative: InsuredPerson, year: int) -> PremiumPreview:
    """The relative, year, amount and the balance after paying, or why it cannot be paid."""
    binding = premium_binding(holder, relative)
    amount = premium_amount(relative)
    balance = ledger.balance_of(holder)
    if year not in (timezone.localdate().year, premium_year()):
        problem: Any = _("Premiums can be paid for the current or the coming year only.")
    elif binding is None:
        problem = _("You can pay a premium only for a relative on your family pooling list who has agreed. "
                    "Add the relative first: for premiums only, if they cannot share your account for spending.")
    else:
        problem = _problem(holder, relative, amount, balance,
                           PremiumPayment.objects.filter(relative=relative, year=year).exists())
    return PremiumPreview(relative, binding.relationship if binding else "", year, amount, balance, problem)


def pay_resident_premium(
    holder: InsuredPerson, relative: InsuredPerson, year: int, *, actor: Any = None, channel: str = AuditChannel.WEB,
    now: datetime.datetime | None = None,
) -> PremiumPayment:
    """Pay ``relative``'s resident premium for ``year`` from ``holder``'s personal account.

    ``now``: when it is booked (default: now; the demo books last month's history)."""
    if year not in (timezone.localdate().year, premium_year()):
        raise PremiumError(_("Premiums can be paid for the current or the coming year only."))
    binding = premium_binding(holder, relative)
    if binding is None:
        raise PremiumError(_(
            "You can pay a premium only for a relative on your family pooling list who has agreed. "
            "Add the relative first: for premiums only, if they cannot share your account for spending."
        ))
    amount = premium_amount(relative)
    try:
        with transaction.atomic():
            account = ledger.personal_account(holder)
            fund = ledger.system_account(AccountKind.PREMIUM_FUND)
            locked = ledger.lock_accounts([account.pk, fund.pk])
            balance = locked[account.pk].balance_fen
            already = PremiumPayment.objects.filter(relative=relative, year=year).exists()
            problem = _problem(holder, relative, amount, balance, already)
            if problem:
                raise PremiumError(problem)
            payment = PremiumPayment.objects.create(
                payer=holder, relative=relative, year=year, amount_fen=amount, binding_id=binding.pk,
                relationship=binding.relationship, channel=channel,
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
                **({"created_at": now} if now else {}),
            )
            ledger.post(
                TransactionKind.PREMIUM,
                [ledger.Line(account, -amount, relative, "resident_premium"),
                 ledger.Line(fund, amount, relative, "resident_premium")],
                reference=f"premium:{payment.pk}", memo=f"resident premium {year}", at=now,
            )
            audit("premium.pay", channel=channel, actor=actor, on_behalf_of=holder, obj=payment,
                  after={"relative": relative.pk, "year": year, "amount_fen": amount})
            if relative.status == InsuranceStatus.ACTIVE:
                body = _("%(holder)s paid your urban-rural resident insurance premium for %(year)s (%(amount)s) "
                         "from their medical-insurance personal account.")
            else:
                body = _("%(holder)s paid your urban-rural resident insurance premium for %(year)s (%(amount)s) "
                         "from their medical-insurance personal account. Your cover resumes when the bureau "
                         "confirms the payment.")
            notify(relative, "premium_paid", _("Your resident insurance premium for %(year)s has been paid"),
                   body, params={"holder": holder.name, "year": year, "amount": _fen(amount)})
    except IntegrityError:
        raise PremiumError(_("The premium for this relative and year has already been paid."))
    except ledger.LedgerError:
        raise PremiumError(_("Your personal account cannot pay this premium."))
    return payment


def _fen(fen: int) -> str:
    from portal.templatetags.portal_tags import format_fen

    return format_fen(fen)
