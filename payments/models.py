"""Money: institutions and the double-entry ledger.

Only payments/ledger.py writes ledger rows. The database itself keeps the invariants
(see migration 0002): entries are append-only, each transaction sums to zero, a stored
balance moves only with its entries, and a personal balance is never negative.
"""

from __future__ import annotations

import datetime

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
    # Only a SHA-256 of the API key is stored; the key itself is shown once (create/rotate).
    api_key_hash = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    api_key_hint = models.CharField(_("key ends with"), max_length=8, blank=True, editable=False)
    api_key_set_at = models.DateTimeField(_("key issued at"), null=True, blank=True, editable=False)

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
    # An institution's clearing account is split into a few shards (0..n-1): every payment
    # credits one of them, so concurrent payments at one institution do not queue on one row.
    institution = models.ForeignKey(
        Institution, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_accounts"
    )
    shard = models.PositiveSmallIntegerField(default=0)
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
            models.UniqueConstraint(
                fields=["institution", "shard"], condition=Q(institution__isnull=False),
                name="one_clearing_account_per_institution_shard",
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
    # (No index of its own: the two indexes below start with the account.)
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="entries", db_index=False)
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

    def __str__(self) -> str:
        return f"{self.account_id}: {self.amount_fen}"


# -- API idempotency ----------------------------------------------------------------------------


class IdempotencyState(models.TextChoices):
    IN_FLIGHT = "in_flight", _("In progress")
    DONE = "done", _("Done")


class IdempotencyRecord(models.Model):
    """One (institution, Idempotency-Key): the request's fingerprint and the stored response.

    A row is written (committed) before the work starts, so a concurrent request with the same
    key sees it in flight; the response is stored in the same transaction as the work. A failed
    request deletes its row, so the caller may retry with the same key.
    """

    # (Indexed by the (institution, key) unique constraint.)
    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="+", db_index=False)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=10, choices=IdempotencyState.choices, default=IdempotencyState.IN_FLIGHT)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["institution", "key"], name="one_record_per_institution_key")]

    def __str__(self) -> str:
        return f"{self.institution_id}:{self.key}"


# -- E-vouchers ---------------------------------------------------------------------------------


class VoucherQuerySet(models.QuerySet["Voucher"]):
    def usable(self, now: datetime.datetime | None = None) -> VoucherQuerySet:
        return self.filter(used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now or timezone.now())


class Voucher(models.Model):
    """A short-lived, single-use code that lets an institution charge this person's sources.

    The code is stored encrypted (to show it again on the person's page) and as a hash (to look
    it up); issuing a new code revokes the person's earlier unused ones.
    """

    person = models.ForeignKey(InsuredPerson, on_delete=models.CASCADE, related_name="vouchers")
    code_hash = models.CharField(max_length=64, unique=True)
    code_encrypted = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = VoucherQuerySet.as_manager()

    class Meta:
        verbose_name = _("e-voucher")
        verbose_name_plural = _("e-vouchers")
        indexes = [models.Index(fields=["person", "-created_at"])]

    def __str__(self) -> str:
        return f"#{self.pk} ({self.person_id})"

    @property
    def code(self) -> str:
        from accounts import crypto

        return crypto.decrypt(self.code_encrypted)


# -- Settlements --------------------------------------------------------------------------------


class Settlement(models.Model):
    """One payment by an institution against a patient's e-voucher (SPEC §6).

    The ledger transaction that moved the money has reference ``settlement:<id>``.
    """

    # (Indexed by (institution, -created_at) below.)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="settlements", db_index=False)
    patient = models.ForeignKey(InsuredPerson, on_delete=models.PROTECT, related_name="settlements")
    category = models.CharField(max_length=20, choices=SpendingCategory.choices)
    amount_fen = models.BigIntegerField()
    paid_fen = models.BigIntegerField()
    refunded_fen = models.BigIntegerField(default=0)
    reference = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # The clearing shard this payment credited; its refunds debit the same one.
    clearing_account = models.ForeignKey(
        LedgerAccount, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("settlement")
        verbose_name_plural = _("settlements")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="settlement_amount_positive"),
            models.CheckConstraint(
                condition=Q(paid_fen__gte=0) & Q(paid_fen__lte=models.F("amount_fen")), name="settlement_paid_in_range"
            ),
            models.CheckConstraint(
                condition=Q(refunded_fen__gte=0) & Q(refunded_fen__lte=models.F("paid_fen")),
                name="settlement_refund_not_above_paid",
            ),
        ]
        indexes = [models.Index(fields=["institution", "-created_at"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.institution.code} {self.amount_fen}"

    @property
    def remaining_fen(self) -> int:
        return self.amount_fen - self.paid_fen


class SettlementSource(models.Model):
    """The part of a settlement one personal account paid, in the order it was charged."""

    # (Indexed by the (settlement, position) unique constraint.)
    settlement = models.ForeignKey(Settlement, on_delete=models.PROTECT, related_name="sources", db_index=False)
    position = models.PositiveSmallIntegerField()
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="+")
    owner = models.ForeignKey(InsuredPerson, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=6)  # "own" | "pooled"
    relationship = models.CharField(max_length=15, blank=True)
    binding_id = models.BigIntegerField(null=True, blank=True)
    holder_masked = models.CharField(max_length=50)
    amount_fen = models.BigIntegerField()
    refunded_fen = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["settlement_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["settlement", "position"], name="one_source_per_position"),
            models.CheckConstraint(
                condition=Q(amount_fen__gt=0) & Q(refunded_fen__gte=0) & Q(refunded_fen__lte=models.F("amount_fen")),
                name="source_refund_not_above_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.settlement_id}/{self.position}: {self.amount_fen}"


class Refund(models.Model):
    settlement = models.ForeignKey(Settlement, on_delete=models.PROTECT, related_name="refunds")
    amount_fen = models.BigIntegerField()
    parts = models.JSONField(default=list)  # [{"source", "relationship", "holder", "amount_fen"}], newest-charged first
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount_fen__gt=0), name="refund_amount_positive")]

    def __str__(self) -> str:
        return f"refund #{self.pk} of {self.settlement_id}"


# -- Resident premiums (代缴) --------------------------------------------------------------------


class PremiumPayment(models.Model):
    """A holder paid a bound relative's resident-scheme premium for one year."""

    payer = models.ForeignKey(InsuredPerson, on_delete=models.PROTECT, related_name="premiums_paid")
    relative = models.ForeignKey(InsuredPerson, on_delete=models.PROTECT, related_name="premiums_received")
    year = models.PositiveSmallIntegerField(_("year"))
    amount_fen = models.BigIntegerField(_("amount (fen)"))
    binding_id = models.BigIntegerField(null=True, blank=True)
    relationship = models.CharField(max_length=15, blank=True)
    channel = models.CharField(max_length=10)
    created_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("resident premium payment")
        verbose_name_plural = _("resident premium payments")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["relative", "year"], name="one_premium_per_relative_and_year"),
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="premium_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.year}: {self.amount_fen}"

    @property
    def cover_pending(self) -> bool:
        """Paid for a relative whose insurance is not active yet: cover resumes when the bureau confirms."""
        return self.relative.status != "active"
