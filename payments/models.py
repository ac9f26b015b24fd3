"""Money: institutions and the double-entry ledger.

Only payments/ledger.py writes ledger rows. The database itself keeps the invariants
(see migration 0002): entries are append-only, each transaction sums to zero, a stored
balance moves only with its entries, and a personal balance is never negative.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import InsuredPerson, Region, SpendingCategory


class InstitutionKind(models.TextChoices):
    HOSPITAL = "hospital", _("Designated hospital or clinic")
    PHARMACY = "pharmacy", _("Designated retail pharmacy")


class Institution(models.Model):
    """A designated medical institution or pharmacy that calls the settlement API."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=InstitutionKind.choices)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("region"))
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("institution")
        verbose_name_plural = _("institutions")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class AccountKind(models.TextChoices):
    PERSONAL = "personal", _("Personal account")
    INSTITUTION = "institution", _("Institution clearing account")
    PREMIUM_FUND = "premium_fund", _("Resident premium fund")
    CONTRIBUTIONS = "contributions", _("Contributions (credits from the bureau)")


class LedgerAccount(models.Model):
    kind = models.CharField(max_length=15, choices=AccountKind.choices)
    person = models.OneToOneField(
        InsuredPerson, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_account"
    )
    institution = models.OneToOneField(
        Institution, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_account"
    )
    balance_fen = models.BigIntegerField(default=0)
    allow_negative = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")
        constraints = [
            models.CheckConstraint(
                condition=Q(allow_negative=True) | Q(balance_fen__gte=0), name="ledger_balance_not_negative"
            ),
            models.CheckConstraint(
                condition=~Q(kind="personal") | (Q(allow_negative=False) & Q(person__isnull=False)),
                name="personal_account_has_person_and_no_overdraft",
            ),
            models.CheckConstraint(
                condition=~Q(kind="institution") | Q(institution__isnull=False),
                name="institution_account_has_institution",
            ),
            models.UniqueConstraint(
                fields=["kind"], condition=Q(kind__in=["premium_fund", "contributions"]), name="one_system_account_per_kind"
            ),
        ]

    def __str__(self) -> str:
        if self.person_id:
            return f"{self.get_kind_display()} #{self.pk}"
        if self.institution_id:
            return f"{self.get_kind_display()}: {self.institution}"
        return str(self.get_kind_display())


class TransactionKind(models.TextChoices):
    CREDIT = "credit", _("Monthly contribution")
    SETTLEMENT = "settlement", _("Payment")
    REFUND = "refund", _("Refund")
    PREMIUM = "premium", _("Resident premium")
    REVERSAL = "reversal", _("Correction")


class LedgerTransaction(models.Model):
    """One balanced movement of money. Immutable: corrections are reversing transactions."""

    kind = models.CharField(max_length=12, choices=TransactionKind.choices)
    reference = models.CharField(max_length=100, blank=True)
    memo = models.CharField(max_length=200, blank=True)
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("ledger transaction")
        verbose_name_plural = _("ledger transactions")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "reference"], condition=Q(kind="credit") & ~Q(reference=""),
                name="credit_reference_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class LedgerEntry(models.Model):
    """One line of a transaction: a signed amount on one account (positive = balance grows).

    ``patient`` and ``category`` say whose care, and what kind, a personal-account movement
    paid for; they let the pooling rules and statements read spending without knowing bindings.
    """

    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="entries")
    amount_fen = models.BigIntegerField()
    patient = models.ForeignKey(InsuredPerson, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    category = models.CharField(max_length=20, blank=True, choices=SpendingCategory.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        constraints = [
            models.CheckConstraint(condition=~Q(amount_fen=0), name="ledger_entry_not_zero"),
        ]
        indexes = [
            models.Index(fields=["account", "created_at"]),
            models.Index(fields=["account", "patient", "created_at"]),
        ]
