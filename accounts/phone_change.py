"""Changing a person's registered phone at a counter, after the assistant checked the ID card."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from .idnumbers import mask_phone, normalize_id_number
from .models import AuditChannel, InsuredPerson, User, audit, normalize_phone
from .notifications import notify
from .services import AccountError


def valid_mobile(phone: str) -> bool:
    return len(phone) == 11 and phone.isdigit() and phone.startswith("1")


def change_registered_phone(person: InsuredPerson, new_phone: str, *, id_number_seen: str, actor: User,
                            channel: str = AuditChannel.COUNTER) -> InsuredPerson:
    """Set a new registered phone. ``id_number_seen`` is the number read off the ID card shown."""
    phone = normalize_phone(new_phone)
    if not valid_mobile(phone):
        raise AccountError("bad_phone", _("Please enter an 11-digit mobile number, for example 13812345678."))
    if not getattr(actor, "is_counter", False) or actor.office is None:
        raise AccountError("not_counter", _("Only a counter assistant can change a registered phone."))
    with transaction.atomic():
        person = InsuredPerson.objects.select_for_update().get(pk=person.pk)
        if actor.office.region_id != person.region_id:
            raise AccountError("other_region", _("Only a counter of the person's own region can help them."))
        if normalize_id_number(id_number_seen) != person.id_number:
            raise AccountError("id_mismatch", _("The ID card number does not match this person's record. "
                                                "The phone was not changed."))
        if phone == person.phone:
            raise AccountError("same_phone", _("This is already the registered phone."))
        before = {"phone": mask_phone(person.phone)}
        person.phone = phone
        person.save(update_fields=["phone_encrypted", "phone_hash", "updated_at"])
        audit("registry.phone_changed", channel=channel, actor=actor, on_behalf_of=person, obj=person,
              before=before, after={"phone": mask_phone(phone)}, note="ID card checked")
        notify(person, "account.phone_changed", _("Your registered phone was changed"),
               _("Your registered phone number was changed at a service counter. If you did not ask for this, "
                 "please contact your medical-insurance bureau at once."), {})
    return person
