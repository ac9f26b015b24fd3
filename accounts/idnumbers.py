"""Resident identity card numbers (GB 11643-1999).

python-stdnum supplies the checksum and the birth date. Its birth-place check is not used:
it compares the county code with the year of birth, but numbers were assigned when cards were
issued (from 1984 on), so a citizen born in 1935 legitimately carries a county code created in
1986. Rejecting them would lock out exactly the elderly people this portal serves.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum.cn import ric

# Province-level prefixes: the 31 mainland divisions, Taiwan, Hong Kong, Macao, and 83 used by
# residence permits for Hong Kong, Macao and Taiwan residents.
PROVINCE_PREFIXES = frozenset(
    ["11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82", "83"]
)
EARLIEST_BIRTH_YEAR = 1880

_SEPARATORS = re.compile(r"[\s\-]")
# Full-width digits and X (typed with a Chinese input method) become their ASCII forms.
_FULL_WIDTH = {0xFF10 + i: ord("0") + i for i in range(10)} | {0xFF38: "X", 0xFF58: "X", 0xFF0D: "-"}


@dataclass(frozen=True)
class IdFacts:
    number: str
    birth_date: datetime.date
    sex: str  # "M" or "F"


def normalize_id_number(value: str) -> str:
    """Strip spaces and dashes, upper-case a final x, turn full-width digits into ASCII."""
    value = (value or "").translate(_FULL_WIDTH)
    return _SEPARATORS.sub("", value).upper()


def validate_id_number(value: str, today: datetime.date | None = None) -> IdFacts:
    """Validate an ID number; raise ValidationError with a message that says what to fix."""
    number = normalize_id_number(value)
    if not number:
        raise ValidationError(_("Please enter an ID number."), code="required")
    if len(number) == 15 and number.isdigit():
        raise ValidationError(
            _("This is an old 15-digit ID number. Please enter the 18-character number from your current ID card."),
            code="length",
        )
    if len(number) != 18:
        raise ValidationError(
            _("An ID number has 18 characters; you entered %(count)d. Please check it against the card.")
            % {"count": len(number)},
            code="length",
        )
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise ValidationError(
            _("An ID number has 17 digits followed by a digit or the letter X."), code="format"
        )
    if number[:2] not in PROVINCE_PREFIXES:
        raise ValidationError(
            _("The first two digits of an ID number name a province; %(prefix)s is not one.")
            % {"prefix": number[:2]},
            code="region",
        )
    try:
        birth_date = ric.get_birth_date(number)
    except Exception:
        raise ValidationError(
            _("Digits 7 to 14 of an ID number are a birth date (YYYYMMDD); %(digits)s is not a real date.")
            % {"digits": number[6:14]},
            code="date",
        ) from None
    today = today or timezone.localdate()
    if birth_date > today:
        raise ValidationError(
            _("The birth date in this ID number (%(date)s) is in the future.") % {"date": birth_date.isoformat()},
            code="future",
        )
    if birth_date.year < EARLIEST_BIRTH_YEAR:
        raise ValidationError(
            _("The birth date in this ID number (%(date)s) is not possible.") % {"date": birth_date.isoformat()},
            code="date",
        )
    if ric.calc_check_digit(number) != number[17]:
        raise ValidationError(
            _("This ID number's last character does not match the others (checksum). One digit is probably mistyped."),
            code="checksum",
        )
    sex = "M" if int(number[16]) % 2 == 1 else "F"
    return IdFacts(number=number, birth_date=birth_date, sex=sex)


def make_id_number(region: str, birth: datetime.date, sequence: int) -> str:
    """Build a valid ID number (for demo data and tests): region + date + 3-digit sequence."""
    body = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


def mask_id_number(number: str) -> str:
    """Show only the first 3 and last 4 characters: 110***********001X."""
    if not number:
        return ""
    if len(number) <= 7:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def mask_phone(phone: str) -> str:
    """138****5678"""
    if not phone:
        return ""
    if len(phone) < 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_email(email: str) -> str:
    """zhang.wei@example.com -> z***@example.com"""
    if not email:
        return ""
    local, _at, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else mask_phone(email)


def mask_address(channel: str, address: str) -> str:
    """A delivery address as kept in the deliveries table: masked (the real one is read at send time)."""
    return mask_email(address) if channel == "email" else mask_phone(address)


def mask_name(name: str) -> str:
    """张三 -> 张*, 张三丰 -> 张*丰, Alice -> A****"""
    if not name:
        return ""
    if len(name) == 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    if name.isascii():
        return name[0] + "*" * (len(name) - 1)
    return name[0] + "*" * (len(name) - 2) + name[-1]


def age_on(birth_date: datetime.date, day: datetime.date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))
