"""Users, the insured registry, regions and their policies, notifications and the audit trail.

This is the bottom layer: it knows nothing of bindings or money.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from . import crypto
from .idnumbers import age_on, mask_id_number, mask_name, mask_phone


class Scheme(models.TextChoices):
    EMPLOYEE = "employee", _("Employee medical insurance")
    FLEXIBLE = "flexible", _("Flexible employment (employee scheme)")
    RESIDENT = "resident", _("Urban-rural resident insurance")


PERSONAL_ACCOUNT_SCHEMES = (Scheme.EMPLOYEE, Scheme.FLEXIBLE)


class InsuranceStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("insurance status", "Active")
    SUSPENDED = "suspended", pgettext_lazy("insurance status", "Suspended")
    TERMINATED = "terminated", pgettext_lazy("insurance status", "Terminated")


class Relationship(models.TextChoices):
    """How the beneficiary is related to the holder ("my mother" = PARENT)."""

    SPOUSE = "spouse", _("Spouse")
    PARENT = "parent", _("Parent")
    CHILD = "child", _("Child")
    SIBLING = "sibling", _("Brother or sister")
    GRANDPARENT = "grandparent", _("Grandparent")
    GRANDCHILD = "grandchild", _("Grandchild")
    PARENT_IN_LAW = "parent_in_law", _("Spouse's parent")


class PoolingScope(models.TextChoices):
    REGION = "region", _("Same pooling region only")
    PROVINCE = "province", _("Same province")
    NATIONAL = "national", _("Anywhere in the country")


class SpendingCategory(models.TextChoices):
    OUTPATIENT = "outpatient", _("Outpatient care")
    INPATIENT = "inpatient", _("Inpatient care")
    PHARMACY_DRUG = "pharmacy_drug", _("Drugs at a pharmacy")
    MEDICAL_DEVICE = "medical_device", _("Medical devices")
    MEDICAL_CONSUMABLE = "medical_consumable", _("Medical consumables")
    VACCINE_CLASS2 = "vaccine_class2", _("Class-II vaccines")
    RESIDENT_PREMIUM = "resident_premium", _("Resident insurance premium")


# -- Regions and policies ---------------------------------------------------------------------


class Region(models.Model):
    """A 6-digit administrative division code; pooling regions are usually prefecture cities."""

    code = models.CharField(_("division code"), max_length=6, primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    province_code = models.CharField(max_length=2, db_index=True)
    current = models.BooleanField(default=True, help_text=_("False for divisions that no longer exist."))

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return f"{self.code} {self.full_name}"

    @property
    def full_name(self) -> str:
        """Province plus name, e.g. 海南省海口市; the province alone for XX0000."""
        if self.code.endswith("0000"):
            return self.name
        province = Region.province_names().get(self.province_code, "")
        return f"{province}{self.name}" if province and not self.name.startswith(province) else self.name

    @staticmethod
    def province_names() -> dict[str, str]:
        cached = getattr(Region, "_province_cache", None)
        if cached is None:
            cached = dict(
                Region.objects.filter(code__endswith="0000").values_list("province_code", "name")
            )
            Region._province_cache = cached  # type: ignore[attr-defined]
        return cached


class RegionPolicyQuerySet(models.QuerySet["RegionPolicy"]):
    def in_force(self, region: Region | str | None, day: datetime.date | None = None) -> RegionPolicy:
        """The policy for a region on a day: the region's own, else its province's, else national."""
        day = day or timezone.localdate()
        code = region.code if isinstance(region, Region) else region
        candidates: list[str | None] = [None]
        if code:
            candidates = [code, f"{code[:4]}00", f"{code[:2]}0000", None]
        policies = list(
            self.filter(effective_from__lte=day)
            .filter(Q(region_id__in=[c for c in candidates if c]) | Q(region__isnull=True))
            .order_by("-effective_from")
        )
        for candidate in candidates:
            for policy in policies:
                if policy.region_id == candidate:
                    return policy
        return RegionPolicy.national_default()


ALL_RELATIONSHIPS = [choice.value for choice in Relationship]
# The close relatives of the Civil Code (民法典 第一千零四十五条): the national default.
# A spouse's parent (配偶父母) is allowed only where a region's policy adds it.
LEGAL_CLOSE_RELATIVES = [r for r in ALL_RELATIONSHIPS if r != Relationship.PARENT_IN_LAW]
DEFAULT_CATEGORIES = [choice.value for choice in SpendingCategory]


def _default_relationships() -> list[str]:
    return list(LEGAL_CLOSE_RELATIVES)


def _default_categories() -> list[str]:
    return list(DEFAULT_CATEGORIES)


class RegionPolicy(models.Model):
    """Every region-configurable rule of the spec, as data with an effective date.

    A row with no region is the national default. Lookups fall back region -> city ->
    province -> national, and take the newest row already in force.
    """

    region = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.PROTECT, related_name="policies",
        verbose_name=_("region"), help_text=_("Leave empty for the national default."),
    )
    effective_from = models.DateField(_("effective from"), default=datetime.date(2020, 1, 1))
    allowed_relationships = models.JSONField(_("allowed relationships"), default=_default_relationships)
    max_beneficiaries = models.PositiveSmallIntegerField(_("maximum relatives per holder"), default=6)
    pooling_scope = models.CharField(
        _("where relatives may be insured"), max_length=10, choices=PoolingScope.choices, default=PoolingScope.REGION
    )
    consent_days = models.PositiveSmallIntegerField(_("days to answer a request"), default=7)
    minor_age = models.PositiveSmallIntegerField(_("age below which children join without consent"), default=16)
    cooling_days = models.PositiveSmallIntegerField(_("days before re-binding after an unbind"), default=0)
    annual_cap_fen = models.BigIntegerField(
        _("annual cap per relative (fen)"), null=True, blank=True, help_text=_("Empty: no regional cap.")
    )
    allowed_categories = models.JSONField(_("what pooled money may pay"), default=_default_categories)
    resident_premium_fen = models.BigIntegerField(_("resident premium per year (fen)"), default=40000)
    undo_minutes = models.PositiveSmallIntegerField(_("minutes to undo a change"), default=10)
    reminder_days = models.PositiveSmallIntegerField(_("days before an end date to remind"), default=7)
    marriage_age = models.PositiveSmallIntegerField(_("legal marriage age for plausibility checks"), default=20)
    premium_scope = models.CharField(
        _("where relatives' resident premiums may be paid"), max_length=10, choices=PoolingScope.choices,
        default=PoolingScope.REGION, help_text=_("Independent of where relatives may be insured for pooling."),
    )
    pooled_outside_province = models.BooleanField(
        _("pooled money may be spent outside the holder's province"), default=True,
    )
    confirmation_days = models.PositiveSmallIntegerField(
        _("days for a young person who turned the consent age to confirm"), default=30,
    )
    outpatient_cap_fen = models.BigIntegerField(
        _("annual outpatient cap per relative (fen)"), null=True, blank=True, help_text=_("Empty: no cap."))
    pharmacy_cap_fen = models.BigIntegerField(
        _("annual pharmacy cap per relative (fen)"), null=True, blank=True, help_text=_("Empty: no cap."))
    inpatient_cap_fen = models.BigIntegerField(
        _("annual inpatient cap per relative (fen)"), null=True, blank=True, help_text=_("Empty: no cap."))
    reserve_fen = models.BigIntegerField(
        _("balance a holder always keeps (fen)"), default=0,
        help_text=_("Pooled payments never take the holder's balance below this amount."),
    )
    notes = models.TextField(_("notes"), blank=True)

    objects = RegionPolicyQuerySet.as_manager()

    class Meta:
        verbose_name = _("region policy")
        verbose_name_plural = _("region policies")
        ordering = ["region_id", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["region", "effective_from"], name="one_policy_per_region_and_day"),
            models.UniqueConstraint(
                fields=["effective_from"], condition=Q(region__isnull=True), name="one_national_policy_per_day"
            ),
            models.CheckConstraint(condition=Q(max_beneficiaries__gte=1), name="policy_max_beneficiaries_positive"),
            models.CheckConstraint(
                condition=Q(annual_cap_fen__isnull=True) | Q(annual_cap_fen__gte=0), name="policy_cap_not_negative"
            ),
            models.CheckConstraint(
                condition=(Q(outpatient_cap_fen__isnull=True) | Q(outpatient_cap_fen__gte=0))
                & (Q(pharmacy_cap_fen__isnull=True) | Q(pharmacy_cap_fen__gte=0))
                & (Q(inpatient_cap_fen__isnull=True) | Q(inpatient_cap_fen__gte=0))
                & Q(reserve_fen__gte=0),
                name="policy_care_caps_not_negative",
            ),
        ]

    def __str__(self) -> str:
        where = self.region.full_name if self.region_id and self.region else _("National default")
        return f"{where} ({self.effective_from})"

    @classmethod
    def national_default(cls) -> RegionPolicy:
        """The newest national row, or an unsaved default if the table is empty."""
        policy = cls.objects.filter(region__isnull=True).order_by("-effective_from").first()
        return policy or cls()

    @property
    def scope_label(self) -> str:
        return str(PoolingScope(self.pooling_scope).label)


# -- The insured registry ---------------------------------------------------------------------


class InsuredPersonQuerySet(models.QuerySet["InsuredPerson"]):
    def by_id_number(self, number: str) -> InsuredPerson | None:
        from .idnumbers import normalize_id_number

        return self.filter(id_hash=crypto.lookup_hash(normalize_id_number(number))).first()

    def by_phone(self, phone: str) -> models.QuerySet[InsuredPerson]:
        return self.filter(phone_hash=crypto.lookup_hash(normalize_phone(phone)))

    def active(self) -> InsuredPersonQuerySet:
        return self.filter(status=InsuranceStatus.ACTIVE)

    def in_region(self, region_code: str) -> InsuredPersonQuerySet:
        return self.filter(region_id=region_code)


def normalize_phone(phone: str) -> str:
    phone = "".join(ch for ch in (phone or "") if ch.isdigit() or ch == "+")
    if phone.startswith("+86"):
        phone = phone[3:]
    elif phone.startswith("86") and len(phone) == 13:
        phone = phone[2:]
    return phone


class InsuredPerson(models.Model):
    """One person in the medical-insurance registry, whether or not they use the portal."""

    id_number_encrypted = models.TextField(editable=False)
    id_hash = models.CharField(max_length=64, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=50)
    phone_encrypted = models.TextField(blank=True, editable=False)
    phone_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    scheme = models.CharField(_("insurance scheme"), max_length=10, choices=Scheme.choices)
    status = models.CharField(_("insurance status"), max_length=10, choices=InsuranceStatus.choices)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("pooling region"))
    birth_date = models.DateField(_("birth date"))
    sex = models.CharField(_("sex"), max_length=1, choices=[("M", _("Male")), ("F", _("Female"))])
    died_on = models.DateField(_("date of death"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = InsuredPersonQuerySet.as_manager()

    class Meta:
        verbose_name = _("insured person")
        verbose_name_plural = _("insured persons")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(scheme__in=[c.value for c in Scheme]), name="person_scheme_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[c.value for c in InsuranceStatus]), name="person_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{mask_name(self.name)} ({self.masked_id_number})"

    # Sensitive fields are properties so that no code can read the ciphertext by mistake.
    @property
    def id_number(self) -> str:
        return crypto.decrypt(self.id_number_encrypted) if self.id_number_encrypted else ""

    @id_number.setter
    def id_number(self, value: str) -> None:
        from .idnumbers import normalize_id_number

        value = normalize_id_number(value)
        self.id_number_encrypted = crypto.encrypt(value)
        self.id_hash = crypto.lookup_hash(value)

    @property
    def phone(self) -> str:
        return crypto.decrypt(self.phone_encrypted) if self.phone_encrypted else ""

    @phone.setter
    def phone(self, value: str) -> None:
        value = normalize_phone(value)
        self.phone_encrypted = crypto.encrypt(value) if value else ""
        self.phone_hash = crypto.lookup_hash(value) if value else ""

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)

    @property
    def has_personal_account(self) -> bool:
        return self.scheme in PERSONAL_ACCOUNT_SCHEMES

    @property
    def is_active(self) -> bool:
        return self.status == InsuranceStatus.ACTIVE and self.died_on is None

    def age(self, day: datetime.date | None = None) -> int:
        return age_on(self.birth_date, day or timezone.localdate())


# -- Users and roles --------------------------------------------------------------------------


class Role(models.TextChoices):
    CITIZEN = "citizen", _("Citizen")
    COUNTER = "counter", _("Counter assistant")
    BUREAU = "bureau", _("Bureau staff")


class Office(models.Model):
    """An elderly-assist counter (适老化窗口) of a bureau, serving one region."""

    name = models.CharField(_("name"), max_length=100)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("region"))
    address = models.CharField(_("address"), max_length=200, blank=True)
    opening_hours = models.CharField(_("opening hours"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("office")
        verbose_name_plural = _("offices")

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A portal log-in. Citizens are linked to their registry record; staff have a role."""

    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.CITIZEN)
    person = models.OneToOneField(
        InsuredPerson, null=True, blank=True, on_delete=models.PROTECT, related_name="user",
        verbose_name=_("insured person"),
    )
    office = models.ForeignKey(
        Office, null=True, blank=True, on_delete=models.PROTECT, related_name="staff", verbose_name=_("office")
    )
    language = models.CharField(
        _("language"), max_length=10, default="zh-hans", choices=[("zh-hans", "简体中文"), ("en", "English")]
    )
    notify_sms = models.BooleanField(_("text messages"), default=True)
    notify_email = models.BooleanField(_("e-mail"), default=False)
    age_friendly = models.BooleanField(_("age-friendly mode"), default=False)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=~Q(role="counter") | Q(office__isnull=False), name="counter_staff_have_office"
            ),
        ]

    @property
    def is_citizen(self) -> bool:
        return self.role == Role.CITIZEN and self.person_id is not None

    @property
    def is_counter(self) -> bool:
        return self.role == Role.COUNTER and self.office_id is not None

    @property
    def display_name(self) -> str:
        if self.person_id and self.person:
            return self.person.name
        return self.get_full_name() or self.username


class CodePurpose(models.TextChoices):
    SIGNUP = "signup", _("Sign-up")
    PASSWORD_RESET = "reset", _("Password reset")


class OneTimeCode(models.Model):
    """A 6-digit code sent to a person's registered phone. Only a hash is stored."""

    person = models.ForeignKey(InsuredPerson, on_delete=models.CASCADE, related_name="+")
    purpose = models.CharField(max_length=10, choices=CodePurpose.choices)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["person", "purpose", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.purpose} code {self.pk}"


# -- Notifications (inbox + outbox) -----------------------------------------------------------


class Notification(models.Model):
    """A message to a person: shown in their portal inbox and delivered by their channels.

    Rows are written in the same transaction as the change they announce (a transactional
    outbox); delivery happens afterwards in Celery, once per (notification, channel).
    """

    person = models.ForeignKey(
        InsuredPerson, on_delete=models.CASCADE, related_name="notifications", db_index=False,  # (the inbox index)
        verbose_name=_("insured person"),
    )
    kind = models.CharField(_("kind"), max_length=50)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"))
    link = models.CharField(_("link"), max_length=300, blank=True)
    dedupe_key = models.CharField(max_length=200, null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    relayed_at = models.DateTimeField(_("handed over for delivery at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        # Every payment from a relative writes a notification: only the indexes that are read.
        constraints = [models.UniqueConstraint(fields=["dedupe_key"], name="one_notification_per_event")]
        indexes = [
            models.Index(fields=["person", "-created_at"], name="notification_inbox"),
            # The outbox relay's rows only (they leave the index once delivered).
            models.Index(fields=["created_at"], condition=Q(relayed_at__isnull=True), name="notification_outbox"),
        ]

    def __str__(self) -> str:
        return self.subject


class Channel(models.TextChoices):
    INBOX = "inbox", _("Portal inbox")
    SMS = "sms", _("Text message")
    EMAIL = "email", _("E-mail")


class Delivery(models.Model):
    """One attempt-proof delivery of a notification on one channel (unique: never twice)."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    # Masked (138****0001): the address is read from the registry and the account at send time.
    address = models.CharField(max_length=200, blank=True, help_text=_("Masked; never the full address."))
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["notification", "channel"], name="one_delivery_per_channel"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} delivery of notification {self.notification_id}"


# -- Audit trail ------------------------------------------------------------------------------


class AuditChannel(models.TextChoices):
    WEB = "web", _("Portal")
    COUNTER = "counter", _("Counter")
    ADMIN = "admin", _("Bureau admin")
    API = "api", _("Settlement API")
    COMMAND = "command", _("Command line")
    SYSTEM = "system", _("System")


class AuditEvent(models.Model):
    """Who did what, when, on whose behalf and through which channel. Append-only."""

    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                              verbose_name=_("done by"))
    on_behalf_of = models.ForeignKey(
        InsuredPerson, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events",
        verbose_name=_("on behalf of"),
    )
    channel = models.CharField(_("channel"), max_length=10, choices=AuditChannel.choices)
    action = models.CharField(_("action"), max_length=60)
    object_type = models.CharField(_("object type"), max_length=60, blank=True)
    object_id = models.CharField(_("object number"), max_length=60, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        # Actions are matched exactly, so a plain index (db_index on a CharField would add a
        # second, LIKE-pattern index that every write maintains for nothing).
        indexes = [models.Index(fields=["object_type", "object_id"]), models.Index(fields=["action"], name="audit_action")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action}"


def audit(
    action: str,
    *,
    channel: str,
    actor: Any = None,
    on_behalf_of: InsuredPerson | None = None,
    obj: models.Model | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str = "",
) -> AuditEvent:
    """Record one audit row. Call inside the transaction of the change it records."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return AuditEvent.objects.create(
        actor=actor,
        on_behalf_of=on_behalf_of,
        channel=channel,
        action=action,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        before=before,
        after=after,
        note=note,
    )


class HouseholdRole(models.TextChoices):
    """A person's relationship to the head of their registered household (户主), as in the 户口簿."""

    HEAD = "head", _("Head of household")
    SPOUSE = "spouse", _("Spouse of the head")
    CHILD = "child", _("Child of the head")
    PARENT = "parent", _("Parent of the head")
    SIBLING = "sibling", _("Brother or sister of the head")
    GRANDPARENT = "grandparent", _("Grandparent of the head")
    GRANDCHILD = "grandchild", _("Grandchild of the head")
    SPOUSE_PARENT = "spouse_parent", _("Parent of the head's spouse")
    OTHER = "other", _("Other")


class HouseholdMember(models.Model):
    """One person's place in a registered household (户籍), imported from the bureau's file.

    A person is registered in one household at a time; the pooling rules compare two members'
    relationships to the head to confirm or contradict a relationship a holder claims.
    """

    household_id = models.CharField(_("household number"), max_length=40, db_index=True)
    person = models.OneToOneField(InsuredPerson, on_delete=models.CASCADE, related_name="household",
                                  verbose_name=_("person"))
    relationship_to_head = models.CharField(_("relationship to the head"), max_length=15,
                                            choices=HouseholdRole.choices)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("household member")
        verbose_name_plural = _("household members")
        ordering = ["household_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(relationship_to_head__in=[r.value for r in HouseholdRole]),
                                   name="household_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.household_id}: {self.person.masked_name} ({self.get_relationship_to_head_display()})"
