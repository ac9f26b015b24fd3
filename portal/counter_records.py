"""Counter records: what an assistant did for a citizen, the documents seen, and phone-less helpers.

``record_action`` is called by every counter view right after the service function it called,
inside the same transaction, so a receipt exists exactly when the change does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from accounts.idnumbers import validate_id_number
from accounts.models import AuditChannel, InsuredPerson, User, audit

from .models import CounterAction, CounterDocument, DocumentKind, DocumentOwner

RELATIONSHIP_PROOFS = (DocumentKind.HUKOU_PAGE, DocumentKind.MARRIAGE_CERTIFICATE, DocumentKind.BIRTH_CERTIFICATE)


@dataclass(frozen=True)
class SeenDocument:
    """One document as typed at the counter (the number is only held in memory)."""

    kind: str
    owner: str
    number: str
    present: bool


def check_documents(documents: Iterable[SeenDocument], person: InsuredPerson,
                    relative: InsuredPerson | None = None) -> list[Any]:
    """Plain reasons why the documents do not fit the people (an ID card of someone else...)."""
    problems: list[Any] = []
    for doc in documents:
        owner = person if doc.owner == DocumentOwner.PERSON else relative
        if doc.kind == DocumentKind.ID_CARD:
            try:
                number = validate_id_number(doc.number).number
            except ValidationError as error:
                problems.extend(error.messages)
                continue
            if owner is not None and number != owner.id_number:
                problems.append(_("The ID card number entered for %(name)s is not the number registered for them. "
                                  "Please check the card.") % {"name": owner.name})
        if doc.owner == DocumentOwner.RELATIVE and relative is None:
            problems.append(_("There is no relative in this action: record the documents as the person's own."))
    return problems


def consent_codes(documents: Iterable[SeenDocument]) -> list[str]:
    """The pooling services' document codes these documents satisfy (both ID cards, a card, a proof)."""
    documents = list(documents)
    codes = []
    owners = {d.owner for d in documents if d.kind == DocumentKind.ID_CARD}
    if {DocumentOwner.PERSON, DocumentOwner.RELATIVE} <= owners:
        codes.append("id_card")
    if any(d.kind == DocumentKind.INSURANCE_CARD for d in documents):
        codes.append("insurance_card")
    if any(d.kind in RELATIONSHIP_PROOFS for d in documents):
        codes.append("relationship_proof")
    if any(d.kind == DocumentKind.AUTHORISATION for d in documents):
        codes.append("authorisation")
    return codes


def has_id_card_of(documents: Iterable[SeenDocument], owner: str = DocumentOwner.PERSON) -> bool:
    return any(d.kind == DocumentKind.ID_CARD and d.owner == owner for d in documents)


def record_action(
    user: User, person: InsuredPerson, kind: str, *, relative: InsuredPerson | None = None,
    details: dict[str, Any] | None = None, obj: models.Model | None = None, documents: Iterable[SeenDocument] = (),
) -> CounterAction:
    """Write the counter action and its documents, audited as ``counter.action``."""
    assert user.office is not None
    with transaction.atomic():
        action = CounterAction.objects.create(
            office=user.office, staff=user, person=person, relative=relative, kind=kind, details=details or {},
            object_type=obj._meta.label if obj is not None else "", object_id=str(obj.pk) if obj is not None else "",
        )
        rows = []
        for doc in documents:
            row = CounterDocument(action=action, kind=doc.kind, owner=doc.owner, present=doc.present)
            row.number = doc.number
            rows.append(row)
        CounterDocument.objects.bulk_create(rows)
        event = audit(
            "counter.action", channel=AuditChannel.COUNTER, actor=user, on_behalf_of=person, obj=action,
            after={"kind": kind, "documents": [{"kind": r.kind, "owner": r.owner, "number": r.masked_number,
                                                "present": r.present} for r in rows]},
        )
        action.audit_event = event
        action.save(update_fields=["audit_event"])
    return action


# -- the receipt's sentence ----------------------------------------------------------------------

SUMMARIES = {
    "propose": _("Request sent: %(holder)s asks %(beneficiary)s to agree to family pooling. %(beneficiary)s is "
                 "told by text message and can answer on the phone, in the portal or at a counter."),
    "propose_active": _("Family pooling set up: %(beneficiary)s may pay medical costs from the personal account of "
                        "%(holder)s. Consent was recorded at the counter."),
    "consent": _("Consent recorded: %(beneficiary)s agrees to use the personal account of %(holder)s."),
    "limits": _("Spending limits for %(beneficiary)s on the account of %(holder)s: per payment %(per_payment)s, "
                "per month %(monthly)s, per year %(annual)s."),
    "pause": _("Paused: %(beneficiary)s cannot pay from the account of %(holder)s until it is resumed."),
    "resume": _("Resumed: %(beneficiary)s can pay from the account of %(holder)s again."),
    "end_date": _("Family pooling between %(holder)s and %(beneficiary)s ends on %(date)s."),
    "order": _("Order in which the payment sources of %(person)s are used: %(order)s."),
    "unbind": _("Ended: family pooling between %(holder)s and %(beneficiary)s. Future payments stop at once."),
    "undo": _("The last change for %(person)s was undone; everything is as before."),
    "premium": _("Resident insurance premium for %(year)s of %(beneficiary)s paid from the personal account of "
                 "%(holder)s: %(amount)s."),
    "voucher": _("A one-time e-voucher code of %(person)s was printed. It works once, until %(until)s."),
    "phone": _("The registered phone of %(person)s was changed from %(old)s to %(new)s after the ID card was "
               "checked."),
    "signup": _("A sign-up code for %(person)s was sent to the registered phone %(phone)s."),
}


def summary_of(action: CounterAction) -> str:
    """The receipt's sentence, in the current language."""
    values = {key: (_("no limit") if value is None else value) for key, value in (action.details or {}).items()}
    values.setdefault("person", action.person.name)
    template = SUMMARIES.get(action.kind)
    if template is None:
        return str(action.get_kind_display())
    try:
        return str(template) % values
    except (KeyError, TypeError, ValueError):
        return str(action.get_kind_display())
