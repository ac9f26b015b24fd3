"""Records of the elderly-assist counter: each action done for a citizen, with the documents seen.

Document numbers are never stored in clear: encrypted (Fernet) beside a keyed hash, exactly like
``InsuredPerson``'s ID number (``accounts.crypto``). Rows are written by
``portal.counter_records`` only, in the same transaction as the change they record.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import crypto
from accounts.idnumbers import mask_id_number
from accounts.models import AuditEvent, InsuredPerson, Office


class DocumentKind(models.TextChoices):
    ID_CARD = "id_card", _("Resident identity card")
    INSURANCE_CARD = "insurance_card", _("Medical insurance card")
    HUKOU_PAGE = "hukou_page", _("Household register page")
    MARRIAGE_CERTIFICATE = "marriage_certificate", _("Marriage certificate")
    BIRTH_CERTIFICATE = "birth_certificate", _("Medical birth certificate")
    AUTHORISATION = "authorisation", _("Written authorisation")


class DocumentOwner(models.TextChoices):
    PERSON = "person", _("The person helped")
    RELATIVE = "relative", _("The relative")


class CounterActionKind(models.TextChoices):
    PROPOSE = "propose", _("Family pooling requested")
    PROPOSE_ACTIVE = "propose_active", _("Family pooling set up with consent recorded")
    CONSENT = "consent", _("Consent recorded")
    LIMITS = "limits", _("Spending limits set")
    PAUSE = "pause", _("Family pooling paused")
    RESUME = "resume", _("Family pooling resumed")
    END_DATE = "end_date", _("End date set")
    ORDER = "order", _("Payment order set")
    UNBIND = "unbind", _("Family pooling ended")
    UNDO = "undo", _("Last change undone")
    PREMIUM = "premium", _("Resident premium paid")
    VOUCHER = "voucher", _("One-time e-voucher code printed")
    PHONE = "phone", _("Registered phone changed")
    SIGNUP = "signup", _("Sign-up code sent to the registered phone")


class CounterAction(models.Model):
    """One thing a counter assistant did for a citizen; its receipt (回执) is printed from it."""

    created_at = models.DateTimeField(_("date and time"), default=timezone.now, db_index=True)
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="+", verbose_name=_("office"))
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                              verbose_name=_("counter assistant"))
    person = models.ForeignKey(InsuredPerson, on_delete=models.PROTECT, related_name="counter_actions",
                               verbose_name=_("person helped"))
    relative = models.ForeignKey(InsuredPerson, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("relative"))
    kind = models.CharField(_("what was done"), max_length=20, choices=CounterActionKind.choices)
    # Names, amounts and dates for the receipt's sentence; never an ID or phone number in clear.
    details = models.JSONField(default=dict, blank=True)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=60, blank=True)
    audit_event = models.ForeignKey(AuditEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("counter action")
        verbose_name_plural = _("counter actions")
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=[c.value for c in CounterActionKind]),
                                   name="counter_action_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.receipt_number} {self.get_kind_display()}"

    @property
    def receipt_number(self) -> str:
        return f"C{self.pk:08d}"


class CounterDocument(models.Model):
    """A document the assistant checked for an action: its type, number (protected) and who was present."""

    action = models.ForeignKey(CounterAction, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("document"), max_length=25, choices=DocumentKind.choices)
    owner = models.CharField(_("whose document"), max_length=10, choices=DocumentOwner.choices)
    number_encrypted = models.TextField(editable=False)
    number_hash = models.CharField(max_length=64, db_index=True, editable=False)
    present = models.BooleanField(_("the document's owner was present"))

    class Meta:
        ordering = ["id"]
        verbose_name = _("document checked at the counter")
        verbose_name_plural = _("documents checked at the counter")
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=[c.value for c in DocumentKind]),
                                   name="counter_document_kind_valid"),
            models.CheckConstraint(condition=models.Q(owner__in=[c.value for c in DocumentOwner]),
                                   name="counter_document_owner_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.masked_number}"

    @staticmethod
    def hash_number(kind: str, number: str) -> str:
        return crypto.lookup_hash(f"document:{kind}:{number}")

    @property
    def number(self) -> str:
        return crypto.decrypt(self.number_encrypted) if self.number_encrypted else ""

    @number.setter
    def number(self, value: str) -> None:
        self.number_encrypted = crypto.encrypt(value)
        self.number_hash = self.hash_number(self.kind, value)

    @property
    def masked_number(self) -> str:
        return mask_document_number(self.number)


def mask_document_number(number: str) -> str:
    """First 3 and last 4 characters shown (as ID numbers); short numbers keep only their last 2."""
    if len(number) >= 10:
        return mask_id_number(number)
    if len(number) <= 3:
        return "*" * len(number)
    return "*" * (len(number) - 2) + number[-2:]
