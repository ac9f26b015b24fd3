"""Who saw or changed a person's information: the audit trail as its subject sees it.

Rows come from the audit trail (``AuditEvent``): staff look-ups (counter and bureau admin), every
change to the person's record, account and bindings, and every sign-in. Higher layers add the
objects that concern a person (pooling adds their bindings) with ``register_audit_scope``.
Staff appear as office and staff number, never by personal name; other citizens by masked name
and masked ID number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import AuditChannel, AuditEvent, InsuredPerson, Role, User

HISTORY_DAYS = 2 * 365

LOOKUP_ACTIONS = ("staff.lookup", "counter.lookup", "counter.search")
SIGN_IN_ACTIONS = ("account.login",)
# Rows that say nothing about the person (a search that found nobody is not about them).
NOT_ABOUT_ANYONE = ("staff.search",)

KINDS = {
    "lookup": gettext_lazy("Looked at"),
    "change": gettext_lazy("Changed"),
    "signin": gettext_lazy("Signed in"),
}

ACTION_LABELS: dict[str, Any] = {
    "staff.lookup": gettext_lazy("Bureau staff opened your record"),
    "counter.lookup": gettext_lazy("A counter opened your record"),
    "counter.search": gettext_lazy("A counter looked up your ID number"),
    "account.login": gettext_lazy("You signed in"),
    "account.created": gettext_lazy("Portal account created"),
    "account.password_reset": gettext_lazy("Password reset with a code"),
    "account.password_changed": gettext_lazy("Password changed"),
    "account.preferences": gettext_lazy("Settings changed (language, messages)"),
    "code.sent": gettext_lazy("A code was texted to your phone"),
    "signup.existing_account": gettext_lazy("Someone asked to sign up with your ID number"),
    "registry.created": gettext_lazy("Insurance record created"),
    "registry.updated": gettext_lazy("Insurance record updated (registry import)"),
    "registry.edited": gettext_lazy("Insurance record corrected by the bureau"),
    "registry.death": gettext_lazy("Death recorded"),
    "voucher.issue": gettext_lazy("Payment code issued"),
    "voucher.extend": gettext_lazy("Payment code extended"),
    "premium.pay": gettext_lazy("Resident premium paid"),
    "settlement.create": gettext_lazy("Payment at a hospital or pharmacy"),
    "settlement.refund": gettext_lazy("Refund from a hospital or pharmacy"),
    "pooling.proposed": gettext_lazy("Family pooling requested"),
    "pooling.confirmation_requested": gettext_lazy("Family pooling: confirmation asked for"),
    "pooling.pledged": gettext_lazy("Personal pledge signed"),
    "pooling.consented": gettext_lazy("Family pooling consented"),
    "pooling.declined": gettext_lazy("Family pooling declined"),
    "pooling.cancelled": gettext_lazy("Family pooling request cancelled"),
    "pooling.expired": gettext_lazy("Family pooling request expired"),
    "pooling.limits_set": gettext_lazy("Family pooling limits set"),
    "pooling.paused": gettext_lazy("Family pooling paused"),
    "pooling.resumed": gettext_lazy("Family pooling resumed"),
    "pooling.end_date_set": gettext_lazy("Family pooling end date set"),
    "pooling.unbound": gettext_lazy("Family pooling ended"),
    "pooling.ended": gettext_lazy("Family pooling ended"),
    "pooling.undone": gettext_lazy("Family pooling change undone"),
    "pooling.suspended": gettext_lazy("Family pooling suspended (insurance not active)"),
    "pooling.unsuspended": gettext_lazy("Family pooling works again"),
    "pooling.order_set": gettext_lazy("Order of accounts to pay from changed"),
    "pooling.reviewed": gettext_lazy("Family pooling reviewed by the bureau"),
}

# Functions that add the objects concerning a person (e.g. their bindings) as a Q on AuditEvent.
audit_scopes: list[Callable[[InsuredPerson], Q]] = []


def register_audit_scope(scope: Callable[[InsuredPerson], Q]) -> None:
    if scope not in audit_scopes:
        audit_scopes.append(scope)


def kind_of(action: str) -> str:
    if action in LOOKUP_ACTIONS:
        return "lookup"
    if action in SIGN_IN_ACTIONS:
        return "signin"
    return "change"


def events_for(person: InsuredPerson, kind: str = "") -> QuerySet[AuditEvent]:
    """The person's audit rows of the last two years, newest first (optionally of one kind)."""
    scope = Q(on_behalf_of=person)
    for extra in audit_scopes:
        scope |= extra(person)
    events = AuditEvent.objects.filter(scope, created_at__gte=timezone.now() - timedelta(days=HISTORY_DAYS))
    events = events.exclude(action__in=NOT_ABOUT_ANYONE).exclude(action="counter.search", note="not found")
    if kind == "lookup":
        events = events.filter(action__in=LOOKUP_ACTIONS)
    elif kind == "signin":
        events = events.filter(action__in=SIGN_IN_ACTIONS)
    elif kind == "change":
        events = events.exclude(action__in=LOOKUP_ACTIONS + SIGN_IN_ACTIONS)
    return events.select_related("actor", "actor__office", "actor__person", "on_behalf_of").order_by("-created_at", "-id")


def masked_person(person: InsuredPerson) -> str:
    return f"{person.masked_name}（{person.masked_id_number}）"


def staff_label(user: User) -> str:
    """Staff as office and staff number, never their personal name."""
    if user.role == Role.COUNTER and user.office_id:
        return _("%(office)s, staff number %(number)s") % {"office": user.office, "number": user.username}
    return _("Medical-insurance bureau, staff number %(number)s") % {"number": user.username}


def who_label(event: AuditEvent, viewer: InsuredPerson) -> str:
    actor = event.actor
    if actor is None:
        if event.channel == AuditChannel.API:
            return _("A hospital or pharmacy")
        if event.channel == AuditChannel.COMMAND:
            return _("Medical-insurance bureau (data import)")
        return _("The portal (automatic)")
    if actor.person_id == viewer.pk:
        return _("You")
    if actor.role in (Role.COUNTER, Role.BUREAU) or actor.is_staff or actor.person_id is None:
        return staff_label(actor)
    return masked_person(actor.person)  # type: ignore[arg-type]


def behalf_label(event: AuditEvent, viewer: InsuredPerson) -> str:
    if event.on_behalf_of_id is None:
        return ""
    if event.on_behalf_of_id == viewer.pk:
        return _("you")
    return masked_person(event.on_behalf_of)  # type: ignore[arg-type]


def browser_summary(user_agent: str) -> dict[str, str]:
    """A short summary of a User-Agent (browser and system names only; never the full string)."""
    ua = user_agent or ""
    browsers = (("MicroMessenger", "WeChat"), ("Edg", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"),
                ("Chrome/", "Chrome"), ("Safari/", "Safari"))
    systems = (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Windows", "Windows"),
               ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"), ("HarmonyOS", "HarmonyOS"))
    browser = next((name for token, name in browsers if token in ua), "")
    system = next((name for token, name in systems if token in ua), "")
    return {"browser": browser, "system": system}


def browser_label(after: dict[str, Any] | None) -> str:
    after = after or {}
    browser, system = after.get("browser") or "", after.get("system") or ""
    if browser and system:
        return _("%(browser)s on %(system)s") % {"browser": browser, "system": system}
    return browser or system or _("an unknown browser")


@dataclass
class ActivityRow:
    at: Any
    kind: str
    kind_label: str
    what: str
    who: str
    channel: str
    on_behalf: str
    detail: str


def row_of(event: AuditEvent, viewer: InsuredPerson) -> ActivityRow:
    kind = kind_of(event.action)
    detail = ""
    if kind == "signin":
        detail = browser_label(event.after)
    elif kind == "lookup":
        detail = event.note if event.note not in ("", "found", "not found") else ""
    return ActivityRow(
        at=event.created_at,
        kind=kind,
        kind_label=str(KINDS[kind]),
        what=str(ACTION_LABELS.get(event.action, event.action)),
        who=who_label(event, viewer),
        channel=str(AuditChannel(event.channel).label) if event.channel in AuditChannel.values else event.channel,
        on_behalf=behalf_label(event, viewer),
        detail=detail,
    )


def to_csv(rows: Iterable[ActivityRow]) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel opens the Chinese text correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_("Time"), _("Kind"), _("What"), _("Who"), _("Channel"), _("On whose behalf"), _("Details")])
    for row in rows:
        writer.writerow([timezone.localtime(row.at).strftime("%Y-%m-%d %H:%M"), row.kind_label, row.what, row.who,
                         row.channel, row.on_behalf, row.detail])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def record_sign_in(sender: Any, request: Any, user: User, **kwargs: Any) -> None:
    """user_logged_in receiver: one audit row with a browser summary (never the IP address)."""
    agent = request.META.get("HTTP_USER_AGENT", "") if request is not None else ""
    AuditEvent.objects.create(
        actor=user, on_behalf_of=user.person if user.person_id else None, channel=AuditChannel.WEB,
        action="account.login", object_type=user._meta.label, object_id=str(user.pk), after=browser_summary(agent),
    )
