"""Encryption at rest and keyed hashes for sensitive personal data.

ID numbers and phone numbers are stored encrypted (Fernet: AES with an HMAC) and, beside
them, as a keyed HMAC-SHA256 so that exact lookups work without decrypting every row.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


def _derive(info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(
        settings.SECRET_KEY.encode()
    )


@lru_cache(maxsize=4)
def _fernet(key: str) -> Fernet:
    if key:
        return Fernet(key.encode())
    return Fernet(base64.urlsafe_b64encode(_derive(b"portal field encryption")))


@lru_cache(maxsize=4)
def _hash_key(key: str) -> bytes:
    return key.encode() if key else _derive(b"portal lookup hash")


def encrypt(value: str) -> str:
    return _fernet(settings.FIELD_ENCRYPTION_KEY).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(settings.FIELD_ENCRYPTION_KEY).decrypt(token.encode()).decode()
    except InvalidToken as exc:  # pragma: no cover - only with a wrong key
        raise ValueError("cannot decrypt a protected field: wrong PORTAL_FIELD_ENCRYPTION_KEY?") from exc


def lookup_hash(value: str) -> str:
    """Keyed hash of a normalised value, for exact-match lookups."""
    return hmac.new(_hash_key(settings.LOOKUP_HASH_KEY), value.encode(), hashlib.sha256).hexdigest()
