"""Bindings between a holder (共济人) and the close relatives who may spend their balance.

Rules about *who may bind* live in eligibility.py; every state change lives in proposals.py,
changes.py and lifecycle.py (shared rules in common.py).
The database keeps the invariants that must never break: one live binding per pair, nobody
binds themselves, caps are never negative.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts.models import InsuredPerson, Region, Relationship, User


class BindingStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for an answer")
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    SUSPENDED = "suspended", _("Suspended (insurance not active)")
    AWAITING_PROOF = "proof", _("On hold until proof of the relationship is shown at a counter")
    DECLINED = "declined", _("Declined by the relative")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired without an answer")
    ENDED = "ended", _("Ended")


S = BindingStatus

# A binding is "live" while it holds a slot and blocks a second binding of the same pair.
LIVE_STATUSES = (S.PENDING, S.ACTIVE, S.PAUSED, S.SUSPENDED, S.AWAITING_PROOF)
FINAL_STATUSES = (S.DECLINED, S.CANCELLED, S.EXPIRED, S.ENDED)

# The allowed moves. ENDED -> ACTIVE exists only for the 10-minute undo of an unbind.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING: frozenset({S.ACTIVE, S.DECLINED, S.CANCELLED, S.EXPIRED, S.ENDED}),
    S.ACTIVE: frozenset({S.PAUSED, S.SUSPENDED, S.ENDED, S.AWAITING_PROOF}),
    S.PAUSED: frozenset({S.ACTIVE, S.SUSPENDED, S.ENDED, S.AWAITING_PROOF}),
    S.SUSPENDED: frozenset({S.ACTIVE, S.PAUSED, S.ENDED}),
    # The bureau asked for proof of the relationship: no payments until a counter has seen it.
    S.AWAITING_PROOF: frozenset({S.ACTIVE, S.ENDED}),
    S.DECLINED: frozenset(),
    S.CANCELLED: frozenset(),
    S.EXPIRED: frozenset(),
    S.ENDED: frozenset({S.ACTIVE, S.PAUSED, S.SUSPENDED}),
}


class EndReason(models.TextChoices):
    UNBOUND_BY_HOLDER = "unbound_by_holder", _("Ended by the account holder")
    UNBOUND_BY_BENEFICIARY = "unbound_by_beneficiary", _("Ended by the relative")
    END_DATE = "end_date", _("The chosen end date was reached")
    HOLDER_LEFT_SCHEME = "holder_left_scheme", _("The account holder left employee insurance")
    HOLDER_LEFT_REGION = "holder_left_region", _("The account holder moved to another pooling region")
    BENEFICIARY_LEFT_REGION = "beneficiary_left_region", _("The relative moved outside the allowed area")
    INSURANCE_TERMINATED = "insurance_terminated", _("Insurance was terminated")
    INSURANCE_SUSPENDED = "insurance_suspended", _("Insurance was suspended")
    DEATH = "death", _("A person died")
    MINOR_DECLINED = "minor_declined", _("The young person chose not to continue")
    MINOR_NO_ANSWER = "minor_no_answer", _("The young person did not confirm in time")
    COUNTER = "counter", _("Ended at a counter")
    BUREAU_REJECTED = "bureau_rejected", _("The bureau could not accept the relationship")


class BindingKind(models.TextChoices):
    FULL = "full", _("Pooling (spending and premiums)")
    PREMIUM_ONLY = "premium_only", _("Premiums only (no spending)")


# Kinds of care a region or a holder may cap per year, and the categories each covers.
CARE_KINDS: dict[str, tuple[str, ...]] = {
    "outpatient": ("outpatient",),
    "pharmacy": ("pharmacy_drug",),
    "inpatient": ("inpatient",),
}


class InvalidTransition(Exception):
    """A status move the map does not allow; views turn it into a plain message."""

    def __init__(self, current: str, target: str) -> None:
        self.current, self.target = current, target
        super().__init__(f"binding cannot go from {current} to {target}")


class BindingQuerySet(models.QuerySet["Binding"]):
    def live(self) -> BindingQuerySet:
        return self.filter(status__in=LIVE_STATUSES)

    def active(self) -> BindingQuerySet:
        return self.filter(status=S.ACTIVE)

    def pending(self) -> BindingQuerySet:
        return self.filter(status=S.PENDING)

    def for_holder(self, person: InsuredPerson | int) -> BindingQuerySet:
        return self.filter(holder=person)

    def for_beneficiary(self, person: InsuredPerson | int) -> BindingQuerySet:
        return self.filter(beneficiary=person)

    def involving(self, person: InsuredPerson | int) -> BindingQuerySet:
        return self.filter(Q(holder=person) | Q(beneficiary=person))

    def with_people(self) -> BindingQuerySet:
        return self.select_related("holder", "beneficiary", "holder__region", "beneficiary__region")


class Binding(models.Model):
    """One holder's authorisation for one relative to spend their personal-account balance."""

    holder = models.ForeignKey(
        InsuredPerson, on_delete=models.PROTECT, related_name="bindings_as_holder", verbose_name=_("account holder")
    )
    beneficiary = models.ForeignKey(
        InsuredPerson, on_delete=models.PROTECT, related_name="bindings_as_beneficiary", verbose_name=_("relative")
    )
    relationship = models.CharField(
        _("relationship"), max_length=15, choices=Relationship.choices,
        help_text=_("What the relative is to the account holder."),
    )
    status = models.CharField(_("status"), max_length=10, choices=BindingStatus.choices, default=S.PENDING)
    kind = models.CharField(_("kind"), max_length=12, choices=BindingKind.choices, default=BindingKind.FULL)
    version = models.PositiveIntegerField(default=1, help_text=_("Grows with every change (undo checks it)."))

    created_at = models.DateTimeField(_("proposed at"), default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    consent_deadline = models.DateTimeField(_("answer by"), null=True, blank=True)
    consented_at = models.DateTimeField(_("consented at"), null=True, blank=True)
    consent_channel = models.CharField(max_length=10, blank=True)
    consent_documents = models.JSONField(default=list, blank=True)
    activated_at = models.DateTimeField(_("active since"), null=True, blank=True)
    auto_activated = models.BooleanField(
        _("joined without consent (minor)"), default=False,
        help_text=_("A child under the policy age bound by a parent or grandparent."),
    )
    awaits_counter = models.BooleanField(
        _("waits for a counter to see documents"), default=False,
        help_text=_("A minor the household register does not show as the holder's child or grandchild: only a "
                    "counter that has seen the household register or birth certificate can complete it."),
    )
    confirmation_requested_at = models.DateTimeField(
        _("asked to confirm (turned the consent age)"), null=True, blank=True
    )
    reminded_at = models.DateTimeField(null=True, blank=True)
    answer_code_hash = models.CharField(max_length=64, blank=True, editable=False,
                                        help_text=_("Hash of the 6-digit code in the request message."))
    answer_code_attempts = models.PositiveSmallIntegerField(default=0, editable=False)

    per_payment_cap_fen = models.BigIntegerField(_("limit per payment (fen)"), null=True, blank=True)
    monthly_cap_fen = models.BigIntegerField(_("limit per month (fen)"), null=True, blank=True)
    annual_cap_fen = models.BigIntegerField(_("limit per year (fen)"), null=True, blank=True)

    outpatient_cap_fen = models.BigIntegerField(_("outpatient limit per year (fen)"), null=True, blank=True)
    pharmacy_cap_fen = models.BigIntegerField(_("pharmacy limit per year (fen)"), null=True, blank=True)
    inpatient_cap_fen = models.BigIntegerField(_("inpatient limit per year (fen)"), null=True, blank=True)
    reserve_fen = models.BigIntegerField(
        _("balance the holder keeps (fen)"), default=0,
        help_text=_("Payments for this relative never take the holder's balance below this amount."),
    )

    start_date = models.DateField(_("starts on"), null=True, blank=True)
    end_date = models.DateField(_("ends on"), null=True, blank=True)
    end_reminder_sent_on = models.DateField(null=True, blank=True)
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True)
    status_before_suspension = models.CharField(max_length=10, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    end_reason = models.CharField(_("why it ended"), max_length=30, blank=True, choices=EndReason.choices)
    end_note = models.TextField(_("note"), blank=True)

    pledge_version = models.PositiveIntegerField(_("pledge version"), null=True, blank=True,
                                                 help_text=_("The terms and personal pledge the holder confirmed."))
    pledge_language = models.CharField(_("pledge language"), max_length=10, blank=True)
    pledged_at = models.DateTimeField(_("pledged at"), null=True, blank=True)
    consent_terms_version = models.PositiveIntegerField(_("terms version seen by the relative"), null=True, blank=True)
    consent_terms_language = models.CharField(max_length=10, blank=True)

    flagged_for_review = models.BooleanField(_("flagged for bureau review"), default=False)
    review_reasons = models.JSONField(_("why it was flagged"), default=list, blank=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                    verbose_name=_("reviewed by"))
    proof_requested_at = models.DateTimeField(_("proof asked for at"), null=True, blank=True)

    objects = BindingQuerySet.as_manager()

    class Meta:
        verbose_name = _("family pooling binding")
        verbose_name_plural = _("family pooling bindings")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["holder", "beneficiary"], condition=Q(status__in=[s.value for s in LIVE_STATUSES]),
                name="one_live_binding_per_pair",
            ),
            models.CheckConstraint(condition=~Q(holder=models.F("beneficiary")), name="binding_not_self"),
            models.CheckConstraint(
                condition=(Q(per_payment_cap_fen__isnull=True) | Q(per_payment_cap_fen__gte=0))
                & (Q(monthly_cap_fen__isnull=True) | Q(monthly_cap_fen__gte=0))
                & (Q(annual_cap_fen__isnull=True) | Q(annual_cap_fen__gte=0)),
                name="binding_caps_not_negative",
            ),
            models.CheckConstraint(
                condition=(Q(outpatient_cap_fen__isnull=True) | Q(outpatient_cap_fen__gte=0))
                & (Q(pharmacy_cap_fen__isnull=True) | Q(pharmacy_cap_fen__gte=0))
                & (Q(inpatient_cap_fen__isnull=True) | Q(inpatient_cap_fen__gte=0))
                & Q(reserve_fen__gte=0),
                name="binding_care_caps_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in BindingStatus]), name="binding_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "consent_deadline"]),
            models.Index(fields=["beneficiary", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.holder.masked_name} → {self.beneficiary.masked_name} ({self.get_relationship_display()})"

    # -- state -----------------------------------------------------------------------------

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES

    def can_move_to(self, target: str) -> bool:
        return target in ALLOWED_TRANSITIONS.get(self.status, frozenset())

    def set_status(self, target: str) -> None:
        """Move to ``target`` or raise InvalidTransition. The caller saves."""
        if target != self.status and not self.can_move_to(target):
            raise InvalidTransition(self.status, target)
        self.status = target
        self.version += 1

    def is_usable_on(self, day: datetime.date) -> bool:
        """May this binding pay today? (Active, for spending, inside its start and end dates.)"""
        return (
            self.status == S.ACTIVE and self.kind == BindingKind.FULL
            and (self.start_date is None or self.start_date <= day)
            and (self.end_date is None or self.end_date >= day)
        )

    def snapshot(self) -> dict[str, Any]:
        """The fields an undo restores and the audit trail records."""
        return {
            "status": self.status,
            "per_payment_cap_fen": self.per_payment_cap_fen,
            "monthly_cap_fen": self.monthly_cap_fen,
            "annual_cap_fen": self.annual_cap_fen,
            "outpatient_cap_fen": self.outpatient_cap_fen,
            "pharmacy_cap_fen": self.pharmacy_cap_fen,
            "inpatient_cap_fen": self.inpatient_cap_fen,
            "reserve_fen": self.reserve_fen,
            "end_date": self.end_date.isoformat() if self.end_date else None,
            "paused_at": self.paused_at.isoformat() if self.paused_at else None,
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "end_reason": self.end_reason,
            "end_note": self.end_note,
        }

    @property
    def relationship_label(self) -> str:
        return str(Relationship(self.relationship).label) if self.relationship in Relationship.values else self.relationship


class DeductionOrder(models.Model):
    """A beneficiary's chosen order of sources: ["own", "binding:12", "binding:7"].

    Sources missing from the list (a new binding) come after the listed ones, in the default
    order. No row means the default: own account first, then the oldest binding first.
    """

    person = models.OneToOneField(InsuredPerson, on_delete=models.CASCADE, related_name="deduction_order")
    sources = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("deduction order")
        verbose_name_plural = _("deduction orders")

    def __str__(self) -> str:
        return f"{self.person.masked_name}: {', '.join(self.sources)}"


class UndoAction(models.TextChoices):
    UNBIND = "unbind", _("Ending pooling")
    PAUSE = "pause", _("Pausing")
    PAUSE_ALL = "pause_all", _("Pausing all pooling")
    LIMITS = "limits", _("Changing limits")


class UndoableChange(models.Model):
    """A change with legal or financial effect that can be undone for a few minutes.

    ``states`` maps binding id -> {"before": snapshot, "version": version after the change};
    the undo restores only bindings nobody changed since.
    """

    action = models.CharField(max_length=12, choices=UndoAction.choices)
    person = models.ForeignKey(InsuredPerson, on_delete=models.CASCADE, related_name="+",
                               help_text=_("Who made the change (the holder or the relative)."))
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    channel = models.CharField(max_length=10)
    states = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["person", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.action} #{self.pk}"

    def is_open(self, now: datetime.datetime | None = None) -> bool:
        return self.undone_at is None and (now or timezone.now()) < self.expires_at


# -- Terms and personal pledge (办理须知、个人承诺书), versioned per language ---------------------------


class PledgeLanguage(models.TextChoices):
    ZH_HANS = "zh-hans", "简体中文"
    EN = "en", "English"


class PledgeTextQuerySet(models.QuerySet["PledgeText"]):
    def current(self, language: str | None) -> PledgeText | None:
        """The latest published version in ``language`` (Chinese when there is none in it)."""
        code = PledgeLanguage.EN if (language or "").startswith("en") else PledgeLanguage.ZH_HANS
        published = self.filter(published=True).order_by("-version", "-id")
        return published.filter(language=code).first() or published.filter(language=PledgeLanguage.ZH_HANS).first()


class PledgeText(models.Model):
    """The short terms (办理须知) and the personal pledge (个人承诺书) shown before proposing and
    consenting. A new text is a new row with the next version: bindings keep the version they saw."""

    language = models.CharField(_("language"), max_length=10, choices=PledgeLanguage.choices)
    version = models.PositiveIntegerField(_("version"))
    terms = models.TextField(_("terms"), help_text=_("One point per line."))
    pledge = models.TextField(_("personal pledge"))
    published = models.BooleanField(_("published"), default=True,
                                    help_text=_("The latest published version of a language applies."))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = PledgeTextQuerySet.as_manager()

    class Meta:
        verbose_name = _("terms and pledge text")
        verbose_name_plural = _("terms and pledge texts")
        ordering = ["language", "-version"]
        constraints = [models.UniqueConstraint(fields=["language", "version"], name="one_pledge_text_per_version")]

    def __str__(self) -> str:
        return f"{self.get_language_display()} v{self.version}"

    @property
    def terms_lines(self) -> list[str]:
        return [line.strip() for line in self.terms.splitlines() if line.strip()]


# -- Guides (办理指南) as data --------------------------------------------------------------------


class GuideChannel(models.TextChoices):
    WECHAT = "wechat", _("WeChat")
    WECHAT_ACCOUNT = "wechat_account", _("WeChat official account of your local bureau")
    ALIPAY = "alipay", _("Alipay")
    NATIONAL_APP = "national_app", _("National medical insurance app")
    REGIONAL_APP = "regional_app", _("Your region's medical insurance app")
    COUNTER = "counter", _("At a service counter")


class GuidePurpose(models.TextChoices):
    POOLING = "pooling", _("Set up family pooling")
    PREMIUM = "premium", _("Pay a relative's resident insurance premium")


def _in_english() -> bool:
    return (get_language() or "").startswith("en")


class GuideQuerySet(models.QuerySet["Guide"]):
    def for_region(self, region: Region | str | None, purpose: str = GuidePurpose.POOLING) -> list[Guide]:
        """One guide per channel: the region's own (or its province's), else the national one."""
        code = region.code if isinstance(region, Region) else region
        candidates = [code, f"{code[:2]}0000"] if code else []
        rows: list[Guide] = list(
            self.filter(Q(region__isnull=True) | Q(region_id__in=candidates), purpose=purpose).prefetch_related("steps")
        )
        chosen: dict[str, Guide] = {}
        rank: dict[str | None, int] = {c: i for i, c in enumerate([*candidates, None])}
        rows.sort(key=lambda g: rank.get(g.region_id, 99))
        for guide in rows:
            chosen.setdefault(guide.channel, guide)
        order = list(GuideChannel.values)
        return sorted(chosen.values(), key=lambda g: order.index(g.channel) if g.channel in order else 99)

    def one(self, channel: str, region: Region | str | None, purpose: str = GuidePurpose.POOLING) -> Guide | None:
        for guide in self.for_region(region, purpose):
            if guide.channel == channel:
                return guide
        return None


class Guide(models.Model):
    """Step-by-step instructions for one channel; a region row overrides the national one.

    Title, summary and note are kept per language: Chinese pages show the Chinese fields, English
    pages the English ones (the Chinese text when the English one is empty).
    """

    purpose = models.CharField(_("what it is for"), max_length=10, choices=GuidePurpose.choices,
                               default=GuidePurpose.POOLING)
    channel = models.CharField(_("channel"), max_length=15, choices=GuideChannel.choices)
    region = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("region"),
        help_text=_("Leave empty for the national text used everywhere without its own guide."),
    )
    title = models.CharField(_("title in Chinese"), max_length=200)
    title_en = models.CharField(_("title in English"), max_length=200, blank=True)
    summary = models.TextField(_("summary in Chinese"), blank=True)
    summary_en = models.TextField(_("summary in English"), blank=True)
    note = models.TextField(_("note in Chinese"), blank=True, help_text=_("A caution shown in a box under the steps."))
    note_en = models.TextField(_("note in English"), blank=True)
    app_name = models.CharField(_("app or place"), max_length=100, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = GuideQuerySet.as_manager()

    class Meta:
        verbose_name = _("guide")
        verbose_name_plural = _("guides")
        ordering = ["purpose", "channel", "region_id"]
        constraints = [
            models.UniqueConstraint(fields=["purpose", "channel", "region"], name="one_guide_per_purpose_channel_region"),
            models.UniqueConstraint(
                fields=["purpose", "channel"], condition=Q(region__isnull=True),
                name="one_national_guide_per_purpose_channel",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def local_title(self) -> str:
        return self.title_en if _in_english() and self.title_en else self.title

    @property
    def local_summary(self) -> str:
        return self.summary_en if _in_english() and self.summary_en else self.summary

    @property
    def local_note(self) -> str:
        return self.note_en if _in_english() and self.note_en else self.note


class GuideStep(models.Model):
    guide = models.ForeignKey(Guide, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(_("position"), default=1)
    text = models.TextField(_("the step in Chinese"))
    detail = models.TextField(_("the step in English"), blank=True, help_text=_("Shown to people who use the portal in English."))

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("guide step")
        verbose_name_plural = _("guide steps")

    def __str__(self) -> str:
        return f"{self.position}. {self.text[:40]}"

    @property
    def local_text(self) -> str:
        return self.detail if _in_english() and self.detail else self.text
