"""What every change of a binding shares: who acts, the error, the lock order, the audit, the notices.

Each change is atomic and locks what it changes (the holder's registry row first, then the
binding: one fixed order), audits the change (actor, on whose behalf, channel) and notifies
both people through ``accounts.notifications.notify`` inside the transaction (delivery is
enqueued after commit). The changes themselves live in proposals.py (asking and answering),
changes.py (what the people change later) and lifecycle.py (what time and the registry change).

Errors are ``PoolingError`` with a plain, translated message for the person who tried.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import AuditChannel, InsuredPerson, RegionPolicy, User, audit
from accounts.notifications import notify

from . import eligibility
from .models import Binding, BindingStatus
from .relations import beneficiary_word, holder_word

S = BindingStatus


class PoolingError(Exception):
    """A change that cannot be made; ``message`` says why in plain words."""

    def __init__(self, message: Any, code: str = "error") -> None:
        self.message, self.code = message, code
        super().__init__(str(message))


class NotEligible(PoolingError):
    def __init__(self, answer: eligibility.Answer) -> None:
        self.answer = answer
        super().__init__(_("This relative cannot be added yet. The reasons are listed below."), "not_eligible")


@dataclass(frozen=True)
class By:
    """Who acts: the person on whose behalf, the log-in doing it (a citizen or an assistant), the channel."""

    person: InsuredPerson | None
    user: User | None = None
    channel: str = AuditChannel.WEB

    @classmethod
    def system(cls) -> By:
        return cls(None, None, AuditChannel.SYSTEM)


def policy_for(holder: InsuredPerson, day: datetime.date | None = None) -> RegionPolicy:
    return RegionPolicy.objects.in_force(holder.region_id, day or timezone.localdate())


def lock_holder(holder_id: int) -> InsuredPerson:
    """The holder's registry row is the lock that serialises all changes to their bindings."""
    return InsuredPerson.objects.select_for_update().get(pk=holder_id)


def lock_binding(binding_id: int) -> Binding:
    """Lock the holder row, then the binding (always in this order)."""
    holder_id = Binding.objects.values_list("holder_id", flat=True).get(pk=binding_id)
    lock_holder(holder_id)
    return Binding.objects.select_for_update().select_related("holder", "beneficiary").get(pk=binding_id)


def audit_binding(action: str, binding: Binding, by: By, before: dict[str, Any] | None = None, note: str = "") -> None:
    audit(
        f"pooling.{action}", channel=by.channel, actor=by.user, on_behalf_of=by.person, obj=binding,
        before=before, after=binding.snapshot(), note=note,
    )


def names_of(binding: Binding) -> dict[str, Any]:
    return {
        "holder": binding.holder.name,
        "beneficiary": binding.beneficiary.name,
        "holder_is": holder_word(binding),
        "beneficiary_is": beneficiary_word(binding),
    }


def link_to(name: str, **kwargs: Any) -> str:
    return reverse(name, kwargs=kwargs or None)


def absolute(path: str) -> str:
    """Text messages need the full address (the inbox uses the path)."""
    from django.conf import settings

    return settings.PORTAL_BASE_URL.rstrip("/") + path


def tell_both(
    binding: Binding, kind: str, to_holder: tuple[Any, Any] | None, to_beneficiary: tuple[Any, Any],
    extra: dict[str, Any] | None = None, dedupe: str | None = None, actor: InsuredPerson | None = None,
) -> None:
    """Notify both people. The ``actor`` (the one who did it) is told in the inbox only: nobody
    gets a text message about their own action. ``to_holder`` None: the holder is told elsewhere
    (one message for a change to several relatives)."""
    params = names_of(binding) | (extra or {})
    actor_id = actor.pk if actor is not None else None
    if to_holder is not None:
        notify(binding.holder, kind, to_holder[0], to_holder[1], params, link=link_to("portal:dashboard"),
               dedupe_key=f"{dedupe}:h" if dedupe else None, inbox_only=actor_id == binding.holder_id)
    notify(binding.beneficiary, kind, to_beneficiary[0], to_beneficiary[1], params, link=link_to("portal:dashboard"),
           dedupe_key=f"{dedupe}:b" if dedupe else None, inbox_only=actor_id == binding.beneficiary_id)


def must_be(by: By, person: InsuredPerson, *, allow_counter: bool = False, either: InsuredPerson | None = None,
            home: InsuredPerson | None = None) -> None:
    """The acting person must be ``person`` (or ``either``); counter staff act on their behalf.

    ``home``: the holder of the binding, whose counter may also act for a relative insured
    elsewhere inside the holder's pooling scope (a province-wide or national policy)."""
    if by.channel == AuditChannel.SYSTEM:
        return
    allowed = {person.pk} | ({either.pk} if either is not None else set())
    if by.person is None or by.person.pk not in allowed:
        raise PoolingError(_("Only the people in this family pooling can change it."), "not_allowed")
    if by.channel == AuditChannel.COUNTER:
        if not allow_counter or by.user is None or not by.user.is_counter:
            raise PoolingError(_("Only a counter assistant can act at the counter."), "not_counter")
        office_region = by.user.office.region_id if by.user.office is not None else None
        at_home_counter = (
            home is not None and office_region == home.region_id
            and eligibility._in_scope(policy_for(home).pooling_scope, home.region_id, by.person.region_id)
        )
        if office_region is None or (office_region != by.person.region_id and not at_home_counter):
            raise PoolingError(_("Only a counter of the person's own region can help them."), "other_region")
