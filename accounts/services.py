"""State changes of accounts: claiming a registry record, one-time codes, passwords, preferences."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .idnumbers import mask_phone, normalize_id_number
from .models import AuditChannel, CodePurpose, InsuredPerson, Notification, OneTimeCode, Role, User, audit
from .notifications import notify


class AccountError(Exception):
    """A citizen-facing failure with a code for tests and a message that says what to do."""

    def __init__(self, code: str, message: Any) -> None:
        super().__init__(str(message))
        self.code = code
        self.message = message


def _hash_code(code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), code.encode(), hashlib.sha256).hexdigest()


# The separator in names such as 阿卜杜·热合曼 is typed in many ways; all mean U+00B7.
_NAME_DOTS = str.maketrans(dict.fromkeys("•‧・.．⋅∙", "·"))


def name_key(name: str) -> str:
    """A name as compared at sign-up: full-width letters folded, spaces dropped, any dot as ·."""
    folded = unicodedata.normalize("NFKC", name or "").translate(_NAME_DOTS)
    return "".join(folded.split()).casefold()


def find_claimable_person(id_number: str, name: str) -> InsuredPerson:
    """The registry record a new citizen may claim, or an AccountError saying why not."""
    person = InsuredPerson.objects.by_id_number(normalize_id_number(id_number))
    if person is None:
        raise AccountError(
            "unknown_id",
            _("This ID number is not in the medical-insurance registry. If you are insured, "
              "please ask your local medical-insurance bureau to check your record."),
        )
    if name_key(person.name) != name_key(name):
        raise AccountError(
            "wrong_name",
            _("The name does not match the name registered for this ID number. "
              "Enter it exactly as on the ID card."),
        )
    if person.died_on is not None:
        raise AccountError(
            "record_closed",
            _("This insurance record is closed. If you think this is a mistake, please contact your "
              "medical-insurance bureau."),
        )
    if User.objects.filter(person=person).exists():
        raise AccountError(
            "already_claimed",
            _("This person already has a portal account. Please log in, or reset the password "
              "if it is forgotten."),
        )
    if not person.phone:
        raise AccountError(
            "no_phone",
            _("No phone number is registered for this person, so we cannot send a code. "
              "Please visit an elderly-assist counter with your ID card."),
        )
    return person


# Texts that anyone can make the portal send by typing an ID number: limited per day.
SIGNUP_NOTICE_KIND = "signup_existing_account"


def texts_today(person: InsuredPerson) -> int:
    """Codes and sign-up notices sent in the last 24 hours to this person or their phone number."""
    since = timezone.now() - timedelta(days=1)
    same_phone: Any = (
        InsuredPerson.objects.filter(phone_hash=person.phone_hash).values("pk") if person.phone_hash else [person.pk]
    )
    codes = OneTimeCode.objects.filter(person__in=same_phone, created_at__gt=since).count()
    notices = Notification.objects.filter(person__in=same_phone, kind=SIGNUP_NOTICE_KIND, created_at__gt=since).count()
    return codes + notices


def _check_daily_limit(person: InsuredPerson) -> None:
    if settings.OTP_PER_DAY > 0 and texts_today(person) >= settings.OTP_PER_DAY:
        raise AccountError(
            "daily_limit",
            _("Too many codes were asked for today. Please try again tomorrow, or visit an elderly-assist counter."),
        )


def request_signup_code(id_number: str, name: str) -> InsuredPerson | None:
    """Start a sign-up. Whatever the case, the caller gives the same answer.

    A code is texted only to a registry person whose name matches, who is alive, has a phone and
    no account yet; a person who already has an account is told so by text instead (someone
    may be trying their ID number). Returns the person a code went to, else None.
    """
    person = InsuredPerson.objects.by_id_number(normalize_id_number(id_number))
    if person is None or name_key(person.name) != name_key(name) or person.died_on is not None or not person.phone:
        return None
    if User.objects.filter(person=person).exists():
        _notify_existing_account(person)
        return None
    try:
        send_one_time_code(person, CodePurpose.SIGNUP)
    except AccountError:
        pass  # a code went out a moment ago (it still works), or today's limit is reached
    return person


def request_password_reset(id_number: str) -> InsuredPerson | None:
    """Start a password reset: a code to a person with an account and a phone, else nothing.

    The caller answers the same way in every case. Returns the person a code went to, else None.
    """
    person = InsuredPerson.objects.by_id_number(normalize_id_number(id_number))
    if person is None or not person.phone or not User.objects.filter(person=person).exists():
        return None
    try:
        send_one_time_code(person, CodePurpose.PASSWORD_RESET)
    except AccountError:
        pass
    return person


@transaction.atomic
def _notify_existing_account(person: InsuredPerson) -> None:
    InsuredPerson.objects.select_for_update().filter(pk=person.pk).first()
    try:
        _check_daily_limit(person)
    except AccountError:
        return
    notify(
        person,
        SIGNUP_NOTICE_KIND,
        _("Sign-up asked for with your ID number"),
        _("Someone asked to create a family pooling portal account with your ID number, but you already have "
          "one. If it was you, please log in, or reset your password if you have forgotten it. If it was not "
          "you, no code was sent and nothing has changed."),
    )
    audit("signup.existing_account", channel=AuditChannel.WEB, on_behalf_of=person)


@transaction.atomic
def send_one_time_code(person: InsuredPerson, purpose: str) -> OneTimeCode:
    """Create a code, store only its hash, and text it to the registered phone after commit.

    At most ``OTP_PER_DAY`` texts a day go to one person or one phone number.
    """
    InsuredPerson.objects.select_for_update().filter(pk=person.pk).first()  # one sender at a time
    now = timezone.now()
    recent = (
        OneTimeCode.objects.filter(person=person, purpose=purpose, created_at__gt=now - timedelta(seconds=settings.OTP_RESEND_SECONDS))
        .order_by("-created_at")
        .first()
    )
    if recent is not None:
        raise AccountError(
            "too_soon",
            _("A code was sent less than a minute ago. Please wait a moment before asking for another."),
        )
    _check_daily_limit(person)
    code = f"{secrets.randbelow(1_000_000):06d}"
    otp = OneTimeCode.objects.create(
        person=person,
        purpose=purpose,
        code_hash=_hash_code(code),
        expires_at=now + timedelta(seconds=settings.OTP_VALID_SECONDS),
    )
    minutes = settings.OTP_VALID_SECONDS // 60
    notify(
        person,
        "one_time_code",
        _("Your family pooling portal code"),
        _("Your code is %(code)s. It is valid for %(minutes)s minutes. Never tell this code to anyone, "
          "including bureau staff."),
        {"code": code, "minutes": minutes},
    )
    audit("code.sent", channel=AuditChannel.WEB, on_behalf_of=person, obj=otp, after={"purpose": purpose, "to": mask_phone(person.phone)})
    return otp


def consume_one_time_code(person: InsuredPerson, purpose: str, code: str) -> None:
    """Use up the newest code if it matches; explain precisely when it does not.

    Runs in its own transaction so that a wrong guess is counted even though the caller
    then fails: after OTP_MAX_ATTEMPTS wrong guesses the code is dead.
    """
    error: AccountError | None = None
    with transaction.atomic():
        otp = (
            OneTimeCode.objects.select_for_update()
            .filter(person=person, purpose=purpose, used_at__isnull=True)
            .order_by("-created_at")
            .first()
        )
        if otp is None:
            error = AccountError("no_code", _("Please ask for a new code first."))
        elif otp.expires_at <= timezone.now():
            error = AccountError("expired_code", _("This code has expired. Please ask for a new one."))
        elif otp.attempts >= settings.OTP_MAX_ATTEMPTS:
            error = AccountError("too_many_attempts", _("Too many wrong codes. Please ask for a new one."))
        elif not hmac.compare_digest(otp.code_hash, _hash_code(code.strip())):
            otp.attempts += 1
            otp.save(update_fields=["attempts"])
            error = AccountError(
                "wrong_code", _("That code is not correct. Please check the text message and try again.")
            )
        else:
            otp.used_at = timezone.now()
            otp.save(update_fields=["used_at"])
    if error is not None:
        raise error


def complete_signup(person: InsuredPerson, code: str, password: str) -> User:
    """Check the password, consume the code, then create the citizen's log-in."""
    validate_password(password, User(first_name=person.name))
    if User.objects.filter(person=person).exists():
        raise AccountError("already_claimed", _("This person already has a portal account. Please log in."))
    consume_one_time_code(person, CodePurpose.SIGNUP, code)
    return _create_citizen_user(person, password)


@transaction.atomic
def _create_citizen_user(person: InsuredPerson, password: str) -> User:
    person = InsuredPerson.objects.select_for_update().get(pk=person.pk)
    if User.objects.filter(person=person).exists():
        raise AccountError("already_claimed", _("This person already has a portal account. Please log in."))
    user = User(username=f"p{person.pk}", role=Role.CITIZEN, person=person, first_name=person.name)
    user.set_password(password)
    user.save()
    audit("account.created", channel=AuditChannel.WEB, actor=user, on_behalf_of=person, obj=user)
    return user


def reset_password(person: InsuredPerson, code: str, password: str) -> User:
    """Check the new password, consume the code, then set the password."""
    user = User.objects.get(person=person)
    validate_password(password, user)
    consume_one_time_code(person, CodePurpose.PASSWORD_RESET, code)
    return _set_password(user, password)


@transaction.atomic
def _set_password(user: User, password: str) -> User:
    person = user.person
    user.set_password(password)
    user.save(update_fields=["password"])
    audit("account.password_reset", channel=AuditChannel.WEB, actor=user, on_behalf_of=person, obj=user)
    # The lock-out page offers a reset: once it succeeded, the new password must work at once.
    transaction.on_commit(lambda: _lift_lockout(user.username))
    return user


def _lift_lockout(username: str) -> None:
    from axes.utils import reset

    reset(username=username)


@transaction.atomic
def change_password(user: User, password: str) -> User:
    """A logged-in citizen changes their password (the form checked the current one)."""
    user.set_password(password)
    user.save(update_fields=["password"])
    audit("account.password_changed", channel=AuditChannel.WEB, actor=user, on_behalf_of=user.person, obj=user)
    return user


@transaction.atomic
def update_preferences(user: User, *, language: str, notify_sms: bool, notify_email: bool, email: str) -> User:
    before = {"language": user.language, "notify_sms": user.notify_sms, "notify_email": user.notify_email}
    user.language = language
    user.notify_sms = notify_sms
    user.notify_email = notify_email
    user.email = email
    user.save(update_fields=["language", "notify_sms", "notify_email", "email"])
    audit("account.preferences", channel=AuditChannel.WEB, actor=user, on_behalf_of=user.person, obj=user,
          before=before, after={"language": language, "notify_sms": notify_sms, "notify_email": notify_email})
    return user
