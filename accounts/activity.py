"""Who saw or changed a person's information: the audit trail as its subject sees it.

Rows come from the audit trail (``AuditEvent``): staff look-ups (counter and bureau admin), every
change to the person's record, account and bindings, and every sign-in. Higher layers add the
objects that concern a person (pooling adds their bindings) with ``register_audit_scope``.
Staff appear as office and staff number, never by personal name; other citizens by masked name
and masked ID number.

Citizens never see the trail's internal codes: every action has a plain label (an action the
page does not know gets a generic one of its kind), and the details column is written from the
row's data by a describer per action. Accounts describes its own actions; higher layers register
theirs (``register_detail``), as they register their scopes. Free-text notes are never shown.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from .models import (
    AuditChannel,
    AuditEvent,
    CodePurpose,
    HouseholdRole,
    InsuranceStatus,
    InsuredPerson,
    Region,
    Role,
    Scheme,
    User,
)

HISTORY_DAYS = 2 * 365

LOOKUP_ACTIONS = ("staff.lookup", "counter.lookup", "counter.search", "counter.receipt")
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
    "counter.search": gettext_lazy("A counter looked you up"),
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
    "registry.phone_changed": gettext_lazy("Registered phone changed"),
    "registry.death": gettext_lazy("Death recorded"),
    "household.created": gettext_lazy("Household registration recorded"),
    "household.updated": gettext_lazy("Household registration updated"),
    "counter.receipt": gettext_lazy("A counter opened a receipt of yours"),
    "counter.action": gettext_lazy("Done for you at a counter"),
    "counter.signup_completed": gettext_lazy("Portal account created with help at a counter"),
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
    "pooling.rejected": gettext_lazy("Family pooling ended by the bureau"),
    "pooling.proof_requested": gettext_lazy("The bureau asked for proof of the relationship"),
    "pooling.proof_verified": gettext_lazy("Proof of the relationship checked"),
    "pooling.premium_only_added": gettext_lazy("Relative added for premium payments only"),
}

# For an action this page has no label for (a newer one): what kind of thing happened.
GENERIC_LABELS = {
    "lookup": gettext_lazy("Your information was looked at"),
    "change": gettext_lazy("Your record or account was changed"),
    "signin": gettext_lazy("You signed in"),
}

# Functions that add the objects concerning a person (e.g. their bindings) as a Q on AuditEvent.
audit_scopes: list[Callable[[InsuredPerson], Q]] = []


def register_audit_scope(scope: Callable[[InsuredPerson], Q]) -> None:
    if scope not in audit_scopes:
        audit_scopes.append(scope)


def action_label(action: str) -> str:
    """What happened, in plain words; never the action's code."""
    return str(ACTION_LABELS.get(action) or GENERIC_LABELS[kind_of(action)])


def channel_label(channel: str) -> str:
    return str(AuditChannel(channel).label) if channel in AuditChannel.values else _("Other")


@dataclass(frozen=True)
class DetailContext:
    """What a describer may need beside the row: who is reading, and names fetched once per page."""

    viewer: InsuredPerson | None = None
    region_names: dict[str, str] = field(default_factory=dict)

    def region(self, code: Any) -> str:
        return self.region_names.get(str(code or "")) or _("another region")


Describer = Callable[[AuditEvent, DetailContext], str]
detail_describers: dict[str, Describer] = {}


def register_detail(actions: Iterable[str], describe: Describer) -> None:
    """A higher layer describes the details of its own actions (e.g. pooling's end reasons)."""
    for action in actions:
        detail_describers[action] = describe


def detail_of(event: AuditEvent, context: DetailContext | None = None) -> str:
    """The details column: plain, translated words from the row's data, or nothing."""
    describe = detail_describers.get(event.action) or ACCOUNT_DETAILS.get(event.action)
    return str(describe(event, context or DetailContext())) if describe else ""


def data(event: AuditEvent, part: str = "after") -> dict[str, Any]:
    """The row's before or after data as a dict (old or odd rows may hold something else)."""
    value = getattr(event, part)
    return value if isinstance(value, dict) else {}


def choice_label(choices: Any, value: Any, unknown: Any = None) -> str:
    """The label of a code from a TextChoices class or a dict of labels; a generic word if unknown."""
    labels = choices if isinstance(choices, dict) else dict(choices.choices)
    label = labels.get(value)
    return str(label if label is not None else (unknown if unknown is not None else _("other")))


def joined(parts: Sequence[Any]) -> str:
    """Parts of a detail, one after the other ("a; b"; in Chinese "a；b")."""
    return pgettext("punctuation", "; ").join(str(p) for p in parts if p)


def listed(items: Iterable[Any]) -> str:
    """Items of a list ("a, b"; in Chinese "a、b"), each once."""
    return pgettext("list separator", ", ").join(dict.fromkeys(str(item) for item in items))


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


def row_of(event: AuditEvent, viewer: InsuredPerson, context: DetailContext | None = None) -> ActivityRow:
    kind = kind_of(event.action)
    return ActivityRow(
        at=event.created_at,
        kind=kind,
        kind_label=str(KINDS[kind]),
        what=action_label(event.action),
        who=who_label(event, viewer),
        channel=channel_label(event.channel),
        on_behalf=behalf_label(event, viewer),
        detail=detail_of(event, context or DetailContext(viewer)),
    )


def rows_of(events: Iterable[AuditEvent], viewer: InsuredPerson) -> list[ActivityRow]:
    """The rows of a page (or of the download), with the region names they mention read in one query."""
    events = list(events)
    codes = {str(d.get(key)) for e in events if e.action.startswith("registry.")
             for d in (data(e, "before"), data(e, "after")) for key in ("region", "region_id") if d.get(key)}
    names = {r.code: r.full_name for r in Region.objects.filter(code__in=codes)} if codes else {}
    context = DetailContext(viewer, names)
    return [row_of(event, viewer, context) for event in events]


# -- details of the actions accounts writes ------------------------------------------------------

PERSON_FIELDS = {
    "name": gettext_lazy("name"),
    "scheme": gettext_lazy("insurance scheme"),
    "status": gettext_lazy("insurance status"),
    "region": gettext_lazy("pooling region"),
    "region_id": gettext_lazy("pooling region"),
    "died_on": gettext_lazy("date of death"),
}


def _person_value(key: str, value: Any, context: DetailContext) -> str:
    if key == "scheme":
        return choice_label(Scheme, value)
    if key == "status":
        return choice_label(InsuranceStatus, value)
    if key in ("region", "region_id"):
        return context.region(value)
    return str(value) if value not in (None, "") else _("none")


def _login(event: AuditEvent, context: DetailContext) -> str:
    return browser_label(event.after)


def _code_sent(event: AuditEvent, context: DetailContext) -> str:
    after = data(event)
    purpose = _("For: %(purpose)s") % {"purpose": choice_label(CodePurpose, after.get("purpose"))}
    sent_to = _("sent to %(phone)s") % {"phone": after["to"]} if after.get("to") else ""
    return joined([purpose, sent_to])


def _preferences(event: AuditEvent, context: DetailContext) -> str:
    from django.conf import settings

    after = data(event)
    parts = []
    if after.get("language"):
        parts.append(_("Language: %(language)s") % {"language": choice_label(dict(settings.LANGUAGES), after["language"])})
    if "notify_sms" in after:
        parts.append(_("Text messages: %(choice)s") % {"choice": _("on") if after["notify_sms"] else _("off")})
    if "notify_email" in after:
        parts.append(_("E-mail: %(choice)s") % {"choice": _("on") if after["notify_email"] else _("off")})
    return joined(parts)


def _registry_created(event: AuditEvent, context: DetailContext) -> str:
    after = data(event)
    return joined([_person_value(key, after[key], context) for key in ("scheme", "status", "region") if key in after])


def _registry_updated(event: AuditEvent, context: DetailContext) -> str:
    before, after = data(event, "before"), data(event)
    return joined([
        _("%(what)s: %(before)s → %(after)s") % {
            "what": capfirst(PERSON_FIELDS[key]), "before": _person_value(key, before.get(key), context),
            "after": _person_value(key, after.get(key), context)}
        for key in PERSON_FIELDS if key in after and before.get(key) != after.get(key)
    ])


def _registry_edited(event: AuditEvent, context: DetailContext) -> str:
    changed = data(event).get("changed")
    if not isinstance(changed, list) or not changed:
        return ""
    fields = [str(PERSON_FIELDS.get(name, _("other details"))) for name in changed]
    return _("Changed: %(fields)s") % {"fields": listed(fields)}


def _phone_changed(event: AuditEvent, context: DetailContext) -> str:
    phone = data(event).get("phone")
    return _("New phone: %(phone)s") % {"phone": phone} if phone else ""


def _death(event: AuditEvent, context: DetailContext) -> str:
    day = data(event).get("died_on")
    return _("Date: %(date)s") % {"date": day} if day else ""


def _household(event: AuditEvent, context: DetailContext) -> str:
    role = data(event).get("relationship_to_head")
    if not role:
        return ""
    return _("Relationship to the head of household: %(role)s") % {"role": choice_label(HouseholdRole, role)}


ACCOUNT_DETAILS: dict[str, Describer] = {
    "account.login": _login,
    "code.sent": _code_sent,
    "account.preferences": _preferences,
    "registry.created": _registry_created,
    "registry.updated": _registry_updated,
    "registry.edited": _registry_edited,
    "registry.phone_changed": _phone_changed,
    "registry.death": _death,
    "household.created": _household,
    "household.updated": _household,
}


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
