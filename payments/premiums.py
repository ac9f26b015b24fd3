"""Resident premium payment (代缴居民医保费): a holder pays a bound relative's yearly premium.

Allowed only for an ACTIVE binding, a relative in the resident scheme, once per relative and
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

from accounts.models import AuditChannel, InsuredPerson, RegionPolicy, Scheme, audit
from accounts.notifications import notify
from pooling.selectors import active_binding

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


def premium_year(today: datetime.date | None = None) -> int:
    """Premiums are collected in advance: from September on, for the next year."""
    today = today or timezone.localdate()
    return today.year + 1 if today.month >= 9 else today.year


def premium_amount(relative: InsuredPerson, day: datetime.date | None = None) -> int:
    return int(RegionPolicy.objects.in_force(relative.region_id, day or timezone.localdate()).resident_premium_fen)


def _problem(holder: InsuredPerson, relative: InsuredPerson, amount: int, balance: int, paid: bool) -> Any:
    if paid:
        return _("Already paid for this year.")
    if relative.scheme != Scheme.RESIDENT:
        return _("This relative is not in urban-rural resident insurance, so there is no resident premium to pay.")
    if not holder.is_active or not holder.has_personal_account:
        return _("Your own insurance must be active employee insurance to pay from your personal account.")
    if amount <= 0:
        return _("No resident premium is set for the relative's region. Please ask your medical-insurance bureau.")
    if balance < amount:
        return _("Your balance is too low for this premium. The relative can pay it another way, for example at a bank or a counter.")
    return ""


def premium_options(holder: InsuredPerson, bindings: list[Any], year: int | None = None) -> list[PremiumOption]:
    """One option per ACTIVE binding of the holder (callers pass pooling's live bindings)."""
    year = year or premium_year()
    balance = ledger.balance_of(holder)
    relatives = [b for b in bindings if b.status == "active"]
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
            _problem(holder, relative, amount, balance, relative.pk in paid),
        ))
    return options


def pay_resident_premium(
    holder: InsuredPerson, relative: InsuredPerson, year: int, *, actor: Any = None, channel: str = AuditChannel.WEB,
    now: datetime.datetime | None = None,
) -> PremiumPayment:
    """Pay ``relative``'s resident premium for ``year`` from ``holder``'s personal account.

    ``now``: when it is booked (default: now; the demo books last month's history)."""
    if year not in (timezone.localdate().year, premium_year()):
        raise PremiumError(_("Premiums can be paid for the current or the coming year only."))
    binding = active_binding(holder, relative)
    if binding is None:
        raise PremiumError(_(
            "You can pay a premium only for a relative whose family pooling with you is active. "
            "Bind the relative first, or resume a paused binding."
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
            notify(relative, "premium_paid", _("Your resident insurance premium for %(year)s has been paid"),
                   _("%(holder)s paid your urban-rural resident insurance premium for %(year)s (%(amount)s) "
                     "from their medical-insurance personal account."),
                   params={"holder": holder.name, "year": year, "amount": _fen(amount)})
    except IntegrityError:
        raise PremiumError(_("The premium for this relative and year has already been paid."))
    except ledger.LedgerError:
        raise PremiumError(_("Your personal account cannot pay this premium."))
    return payment


def _fen(fen: int) -> str:
    from portal.templatetags.portal_tags import format_fen

    return format_fen(fen)
