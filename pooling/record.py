"""The authorisation record (授权记录): every binding a person was ever part of, holder or
relative, with every event of it from the audit trail; filterable and printable."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import activity
from accounts.activity import DetailContext, choice_label, data
from accounts.models import AuditEvent, InsuredPerson, User

from .models import Binding, EndReason, UndoAction

BINDING_LABEL = Binding._meta.label

# The event types one can filter by (the audit action without "pooling.").
EVENT_TYPES = (
    "proposed", "pledged", "confirmation_requested", "consented", "declined", "cancelled", "expired", "limits_set",
    "paused", "resumed", "end_date_set", "unbound", "ended", "undone", "suspended", "unsuspended", "reviewed",
    "proof_requested", "proof_verified", "rejected", "premium_only_added",
)


def bindings_of(person: InsuredPerson) -> Any:
    return Binding.objects.filter(Q(holder=person) | Q(beneficiary=person))


def binding_scope(person: InsuredPerson) -> Q:
    """Audit rows about any binding of the person (for "who saw or changed my information")."""
    ids = [str(pk) for pk in bindings_of(person).values_list("pk", flat=True)]
    return Q(object_type=BINDING_LABEL, object_id__in=ids) if ids else Q(pk__in=[])


@dataclass
class BindingRecord:
    binding: Binding
    i_am_holder: bool
    other: InsuredPerson
    events: list[dict[str, Any]] = field(default_factory=list)


def _yuan(fen: Any) -> str:
    return f"{fen / 100:.2f}" if isinstance(fen, int) else _("no limit")


# -- details of pooling's audit rows, in plain words (for this record and the activity page) ------

# The notes propose_binding writes (stored as they are in older rows too).
PROPOSED_NOTES = {
    "minor: confirmed by the household register, active at once": gettext_lazy(
        "A child: the household register confirms the relationship, so pooling started at once"),
    "consent recorded at the counter": gettext_lazy("Consent was recorded at a counter"),
    "minor: waits for a counter to see the documents": gettext_lazy(
        "A child: a counter must check the documents before pooling starts"),
}


def _limits(event: AuditEvent, context: DetailContext) -> str:
    after = data(event)
    return _("per payment %(p)s, per month %(m)s, per year %(y)s (yuan)") % {
        "p": _yuan(after.get("per_payment_cap_fen")), "m": _yuan(after.get("monthly_cap_fen")),
        "y": _yuan(after.get("annual_cap_fen")),
    }


def _end_date(event: AuditEvent, context: DetailContext) -> str:
    day = data(event).get("end_date")
    return _("Ends on %(date)s") % {"date": day} if day else _("no end date")


def _proposed(event: AuditEvent, context: DetailContext) -> str:
    note = PROPOSED_NOTES.get(event.note)
    return str(note) if note else ""


def _end_reason(event: AuditEvent, context: DetailContext) -> str:
    reason = data(event).get("end_reason")
    return _("Reason: %(reason)s") % {"reason": choice_label(EndReason, reason)} if reason else ""


def _rejected(event: AuditEvent, context: DetailContext) -> str:
    from .review import RejectReason

    return _("Reason: %(reason)s") % {"reason": choice_label(RejectReason.LABELS, event.note)}


def _reviewed(event: AuditEvent, context: DetailContext) -> str:
    return _("The relationship was confirmed") if event.note == "confirmed" else ""


def _proof_verified(event: AuditEvent, context: DetailContext) -> str:
    from .proposals import DOCUMENT_LABELS

    codes = [code for code in event.note.split(",") if code]
    if not codes:
        return ""
    return _("Documents seen: %(documents)s") % {
        "documents": activity.listed(choice_label(DOCUMENT_LABELS, code) for code in codes)}


def _paused(event: AuditEvent, context: DetailContext) -> str:
    return _("All family pooling was paused at once") if event.note == "pause all" else ""


def _undone(event: AuditEvent, context: DetailContext) -> str:
    what = event.note.removeprefix("undo of ") if event.note.startswith("undo of ") else ""
    return _("Undone: %(change)s") % {"change": choice_label(UndoAction, what)} if what else ""


DETAILS = {
    "pooling.limits_set": _limits,
    "pooling.end_date_set": _end_date,
    "pooling.proposed": _proposed,
    "pooling.ended": _end_reason,
    "pooling.unbound": _end_reason,
    "pooling.cancelled": _end_reason,
    "pooling.declined": _end_reason,
    "pooling.expired": _end_reason,
    "pooling.rejected": _rejected,
    "pooling.reviewed": _reviewed,
    "pooling.proof_verified": _proof_verified,
    "pooling.paused": _paused,
    "pooling.undone": _undone,
}


def register_details() -> None:
    for action, describe in DETAILS.items():
        activity.register_detail([action], describe)


def authorisation_record(person: InsuredPerson, relative: int | None = None, event_type: str = "") -> list[BindingRecord]:
    bindings = bindings_of(person).select_related("holder", "beneficiary").order_by("-created_at", "-id")
    if relative:
        bindings = bindings.filter(Q(holder_id=relative) | Q(beneficiary_id=relative))
    records = {
        str(b.pk): BindingRecord(b, b.holder_id == person.pk, b.beneficiary if b.holder_id == person.pk else b.holder)
        for b in bindings
    }
    events = AuditEvent.objects.filter(object_type=BINDING_LABEL, object_id__in=list(records))
    if event_type:
        events = events.filter(action=f"pooling.{event_type}")
    context = DetailContext(person)
    for event in events.select_related("actor", "actor__office", "actor__person", "on_behalf_of").order_by("created_at", "id"):
        records[event.object_id].events.append({
            "at": event.created_at,
            "type": event.action.removeprefix("pooling."),
            "what": activity.action_label(event.action),
            "who": activity.who_label(event, person),
            "channel": activity.channel_label(event.channel),
            "on_behalf": activity.behalf_label(event, person),
            "detail": activity.detail_of(event, context),
        })
    result = list(records.values())
    if event_type:
        result = [r for r in result if r.events]
    return result


def counterparts(person: InsuredPerson) -> list[InsuredPerson]:
    seen: dict[int, InsuredPerson] = {}
    for b in bindings_of(person).select_related("holder", "beneficiary"):
        other = b.beneficiary if b.holder_id == person.pk else b.holder
        seen.setdefault(other.pk, other)
    return sorted(seen.values(), key=lambda p: p.pk)


@login_required
def record_view(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if not user.person_id:
        return redirect("portal:dashboard")
    person = user.person
    assert person is not None
    others = counterparts(person)
    raw = request.GET.get("relative", "")
    relative = int(raw) if raw.isdigit() and any(o.pk == int(raw) for o in others) else None
    event_type = request.GET.get("event", "")
    event_type = event_type if event_type in EVENT_TYPES else ""
    return render(request, "pooling/record.html", {
        "records": authorisation_record(person, relative, event_type),
        "others": others, "relative": relative, "event_type": event_type,
        "event_types": [(t, activity.action_label(f"pooling.{t}")) for t in EVENT_TYPES],
        "person": person,
    })
