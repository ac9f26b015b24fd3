"""Template filters shared by every app: money, masking."""

from __future__ import annotations

from typing import Any

from django import template

from accounts.idnumbers import mask_id_number, mask_name, mask_phone

register = template.Library()


def format_fen(fen: int | None) -> str:
    """12345 -> ¥123.45, with thousands separators; negative amounts keep their sign."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(int(fen)), 100)
    return f"{sign}¥{yuan:,}.{cents:02d}"


@register.filter
def money(fen: int | None) -> str:
    return format_fen(fen)


@register.filter
def masked_id(value: Any) -> str:
    """Masked ID number of a person or of a raw number."""
    number = getattr(value, "id_number", value)
    return mask_id_number(str(number or ""))


@register.filter
def masked_phone(value: Any) -> str:
    phone = getattr(value, "phone", value)
    return mask_phone(str(phone or ""))


@register.filter
def masked_name(value: Any) -> str:
    name = getattr(value, "name", value)
    return mask_name(str(name or ""))


@register.filter
def id_for_viewer(person: Any, user: Any) -> str:
    """The full ID number to its owner, masked to everyone else."""
    if user is not None and getattr(user, "person_id", None) == getattr(person, "pk", None):
        return str(person.id_number)
    return mask_id_number(str(getattr(person, "id_number", "")))


@register.filter
def isodatetime(value: Any) -> str:
    """A valid HTML `datetime` attribute: ISO 8601 to the second, with the offset, no microseconds."""
    if not value:
        return ""
    if hasattr(value, "microsecond"):
        from django.utils import timezone

        if timezone.is_aware(value):
            value = timezone.localtime(value)
        value = value.replace(microsecond=0)
    return value.isoformat()
