"""Designated institutions and their API keys.

A key is a random token shown once (on creation or rotation); only its SHA-256 is stored, so
a database leak reveals no usable key. Revoking clears the hash: the next request is refused.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import AuditChannel, Region, audit

from . import ledger
from .models import Institution, InstitutionKind

KEY_PREFIX = "fpk_"

# What each kind of institution may charge (besides the patient's region policy).
KIND_CATEGORIES: dict[str, frozenset[str]] = {
    InstitutionKind.HOSPITAL: frozenset({"outpatient", "inpatient", "vaccine_class2", "medical_device", "medical_consumable"}),
    InstitutionKind.PHARMACY: frozenset({"pharmacy_drug", "medical_device", "medical_consumable"}),
}


class InstitutionError(Exception):
    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


def hash_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def _set_key(institution: Institution) -> str:
    token = _new_key()
    institution.api_key_hash = hash_key(token)
    institution.api_key_hint = token[-4:]
    institution.api_key_set_at = timezone.now()
    return token


@transaction.atomic
def create_institution(code: str, name: str, kind: str, region_code: str, *, actor: Any = None,
                       channel: str = AuditChannel.COMMAND) -> tuple[Institution, str]:
    """Register an institution; returns it and its new API key (the only time the key is seen)."""
    code, name = (code or "").strip(), (name or "").strip()
    if not code or len(code) > 40:
        raise InstitutionError(_("The code must be 1 to 40 characters long."))
    if not name:
        raise InstitutionError(_("The name cannot be empty."))
    if kind not in InstitutionKind.values:
        raise InstitutionError(_("The kind must be one of: %(kinds)s.") % {"kinds": ", ".join(InstitutionKind.values)})
    region = Region.objects.filter(code=(region_code or "").strip()).first()
    if region is None:
        raise InstitutionError(_("Unknown region code %(code)s: use a 6-digit division code.") % {"code": region_code})
    if Institution.objects.filter(code=code).exists():
        raise InstitutionError(_("An institution with the code %(code)s already exists.") % {"code": code})
    institution = Institution(code=code, name=name, kind=kind, region=region)
    token = _set_key(institution)
    institution.save()
    for shard in range(ledger.CLEARING_SHARDS):
        ledger.institution_account(institution, shard)
    audit("institution.create", channel=channel, actor=actor, obj=institution,
          after={"code": code, "name": name, "kind": kind, "region": region.code})
    return institution, token


@transaction.atomic
def rotate_api_key(institution: Institution, *, actor: Any = None, channel: str = AuditChannel.ADMIN) -> str:
    """Replace the institution's key; the old one stops working at once. Returns the new key."""
    institution = Institution.objects.select_for_update().get(pk=institution.pk)
    token = _set_key(institution)
    institution.save(update_fields=["api_key_hash", "api_key_hint", "api_key_set_at"])
    audit("institution.rotate_key", channel=channel, actor=actor, obj=institution)
    return token


@transaction.atomic
def revoke_api_key(institution: Institution, *, actor: Any = None, channel: str = AuditChannel.ADMIN) -> None:
    """Withdraw the key: the institution can no longer call the API until a new key is issued."""
    institution = Institution.objects.select_for_update().get(pk=institution.pk)
    institution.api_key_hash = None
    institution.api_key_hint = ""
    institution.save(update_fields=["api_key_hash", "api_key_hint"])
    audit("institution.revoke_key", channel=channel, actor=actor, obj=institution)


KEY_TTL = 5.0
_institutions: dict[str, tuple[float, Institution | None]] = {}


def institution_by_key_hash(key_hash: str) -> Institution | None:
    hit = _institutions.get(key_hash)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    institution = Institution.objects.filter(api_key_hash=key_hash, active=True).first()
    _institutions[key_hash] = (time.monotonic() + KEY_TTL, institution)
    return institution


@receiver(post_save, sender=Institution)
def _forget_institutions(**_: Any) -> None:
    _institutions.clear()


def authenticate(token: str) -> Institution | None:
    """The active institution holding this key, or None."""
    if not token or not token.startswith(KEY_PREFIX) or len(token) > 200:
        return None
    return institution_by_key_hash(hash_key(token))


def may_charge(institution: Institution, category: str) -> bool:
    return category in KIND_CATEGORIES.get(institution.kind, frozenset())
