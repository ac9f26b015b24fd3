"""What time and the registry change: end dates reached, reminders, turning the consent age, life events.

Tasks and the registry listener call these; see common.py for the shared rules.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.idnumbers import age_on
from accounts.models import PERSONAL_ACCOUNT_SCHEMES, AuditChannel, InsuranceStatus, InsuredPerson, User, audit
from accounts.notifications import notify

from . import eligibility
from .common import (
    By,
    absolute,
    audit_binding,
    link_to,
    lock_binding,
    lock_holder,
    names_of,
    policy_for,
    tell_both,
)
from .models import (
    Binding,
    BindingStatus,
    EndReason,
)
from .proposals import _new_answer_code, consent_token

S = BindingStatus


def end_by_end_date(binding_id: int, today: datetime.date | None = None) -> bool:
    today = today or timezone.localdate()
    with transaction.atomic():
        binding = lock_binding(binding_id)
        if not binding.is_live or binding.status == S.PENDING or not binding.end_date or binding.end_date >= today:
            return False
        _end(binding, EndReason.END_DATE, By.system())
    return True


def remind_end_date(binding_id: int, today: datetime.date | None = None) -> bool:
    """Tell both people a few days before the chosen end date. Once per end date."""
    today = today or timezone.localdate()
    with transaction.atomic():
        binding = lock_binding(binding_id)
        if not binding.is_live or not binding.end_date or binding.end_reminder_sent_on:
            return False
        days = policy_for(binding.holder, today).reminder_days
        if not today <= binding.end_date <= today + datetime.timedelta(days=days):
            return False
        binding.end_reminder_sent_on = today
        binding.save(update_fields=["end_reminder_sent_on", "updated_at"])
        tell_both(
            binding, "pooling.end_reminder",
            (_("Pooling with %(beneficiary)s ends on %(date)s"),
             _("If you want it to continue, change or remove the end date on your family pooling page.")),
            (_("Pooling with %(holder)s ends on %(date)s"),
             _("After that day you cannot pay from their account unless they change the end date.")),
            extra={"date": binding.end_date.isoformat()}, dedupe=f"pooling.end_reminder:{binding.pk}:{binding.end_date}",
        )
    return True


def ask_minor_to_confirm(binding_id: int, today: datetime.date | None = None) -> bool:
    """A child bound without consent has reached the consent age: ask them to confirm."""
    today = today or timezone.localdate()
    with transaction.atomic():
        binding = lock_binding(binding_id)
        if not binding.auto_activated or binding.confirmation_requested_at or not binding.is_live:
            return False
        if binding.consented_at is not None:
            return False
        if age_on(binding.beneficiary.birth_date, today) < policy_for(binding.holder, today).minor_age:
            return False
        before = binding.snapshot()
        binding.confirmation_requested_at = timezone.now()
        binding.version += 1
        binding.save()
        audit_binding("confirmation_requested", binding, By.system(), before)
        code = _new_answer_code(binding)
        notify(
            binding.beneficiary, "pooling.confirm",
            _("Please confirm family pooling with %(holder)s"),
            _("When you were younger, %(holder)s (your %(holder_is)s) let you use their medical insurance account. "
              "You are now old enough to decide yourself: please confirm or end it at %(url)s with the code "
              "%(code)s (the link alone does not answer). Never tell anyone this code, not even staff."),
            names_of(binding) | {"url": absolute(link_to("pooling:consent-link", token=consent_token(binding))),
                               "code": code},
            link=link_to("pooling:answer", pk=binding.pk),
            dedupe_key=f"pooling.confirm:{binding.pk}",
        )
        notify(
            binding.holder, "pooling.confirm",
            _("%(beneficiary)s is asked to confirm family pooling"),
            _("%(beneficiary)s has reached the age to decide for themselves. Pooling continues while they decide."),
            names_of(binding), link=link_to("portal:dashboard"), dedupe_key=f"pooling.confirm-holder:{binding.pk}",
        )
    return True


def confirmation_deadline_of(binding: Binding) -> datetime.datetime | None:
    """By when a young person asked to confirm must answer (the region's confirmation days)."""
    if binding.confirmation_requested_at is None:
        return None
    days = policy_for(binding.holder, timezone.localdate(binding.confirmation_requested_at)).confirmation_days
    return binding.confirmation_requested_at + datetime.timedelta(days=days)


def confirmation_deadline(binding_id: int, now: datetime.datetime | None = None) -> bool:
    """A young person asked to confirm: remind both before the deadline; after it, end with notices to both."""
    now = now or timezone.now()
    with transaction.atomic():
        binding = lock_binding(binding_id)
        deadline = confirmation_deadline_of(binding)
        if deadline is None or not binding.is_live:
            return False
        if now >= deadline:
            _end(binding, EndReason.MINOR_NO_ANSWER, By.system())
            return True
        days = policy_for(binding.holder, timezone.localdate(now)).reminder_days
        requested = binding.confirmation_requested_at
        already = binding.reminded_at is not None and requested is not None and binding.reminded_at >= requested
        if already or deadline - now > datetime.timedelta(days=days):
            return False
        binding.reminded_at = now
        binding.save(update_fields=["reminded_at", "updated_at"])
        when = timezone.localtime(deadline).strftime("%Y-%m-%d")
        link = link_to("pooling:consent-link", token=consent_token(binding))
        notify(
            binding.beneficiary, "pooling.confirm_reminder",
            _("Please confirm family pooling with %(holder)s by %(deadline)s"),
            _("If you do not confirm by %(deadline)s, family pooling with %(holder)s ends. Confirm or end it at "
              "%(url)s"), names_of(binding) | {"deadline": when, "url": absolute(link)}, link=link,
            dedupe_key=f"pooling.confirm_reminder:{binding.pk}:{when}",
        )
        notify(
            binding.holder, "pooling.confirm_reminder",
            _("%(beneficiary)s has not confirmed family pooling yet"),
            _("If %(beneficiary)s does not confirm by %(deadline)s, family pooling with them ends."),
            names_of(binding) | {"deadline": when}, link=link_to("portal:dashboard"),
            dedupe_key=f"pooling.confirm_reminder-holder:{binding.pk}:{when}",
        )
    return True


def _end(binding: Binding, reason: str, by: By, note: str = "") -> None:
    """End (or, while pending, cancel) a live binding for a life event or its end date. Holder row locked."""
    before = binding.snapshot()
    binding.set_status(S.CANCELLED if binding.status == S.PENDING else S.ENDED)
    binding.ended_at = timezone.now()
    binding.end_reason = reason
    binding.end_note = note
    binding.save()
    audit_binding("ended", binding, by, before, reason)
    tell_both(
        binding, "pooling.ended",
        (_("Family pooling with %(beneficiary)s has ended"), _("Reason: %(reason)s.")),
        (_("Family pooling with %(holder)s has ended"), _("Reason: %(reason)s. Your own insurance is not affected.")),
        extra={"reason": EndReason(reason).label},
    )


def handle_person_change(person: InsuredPerson, before: dict[str, Any], after: dict[str, Any], actor: Any,
                         channel: str) -> None:
    """React to a registry change: end or suspend bindings (SPEC §2 life events).

    Runs inside the import transaction. Locks each affected holder row in id order.
    """
    system = By(person, actor if isinstance(actor, User) else None,
                channel if channel in AuditChannel.values else AuditChannel.SYSTEM)
    bindings = list(Binding.objects.live().involving(person).values_list("pk", "holder_id"))
    for holder_id in sorted({h for _pk, h in bindings}):
        lock_holder(holder_id)
    live = list(Binding.objects.select_for_update().filter(pk__in=[pk for pk, _h in bindings])
                .select_related("holder", "beneficiary", "holder__region", "beneficiary__region").order_by("id"))
    today = timezone.localdate()
    for binding in live:
        as_holder = binding.holder_id == person.pk
        other = binding.beneficiary if as_holder else binding.holder
        if person.died_on is not None:
            _end(binding, EndReason.DEATH, system)
        elif person.status == InsuranceStatus.TERMINATED:
            _end(binding, EndReason.INSURANCE_TERMINATED, system)
        elif as_holder and person.scheme not in PERSONAL_ACCOUNT_SCHEMES:
            _end(binding, EndReason.HOLDER_LEFT_SCHEME, system)
        elif as_holder and before.get("region_id") and before.get("region_id") != person.region_id \
                and not _in_scope_after_move(binding, today):
            _end(binding, EndReason.HOLDER_LEFT_REGION, system)
        elif not as_holder and before.get("region_id") != person.region_id \
                and not _in_scope_after_move(binding, today):
            _end(binding, EndReason.BENEFICIARY_LEFT_REGION, system)
        elif person.status == InsuranceStatus.SUSPENDED:
            if binding.status == S.PENDING:
                _end(binding, EndReason.INSURANCE_SUSPENDED, system)
            elif binding.status in (S.ACTIVE, S.PAUSED):
                _suspend(binding, system)
        elif person.status == InsuranceStatus.ACTIVE and binding.status == S.SUSPENDED and other.is_active:
            _unsuspend(binding, system)


def _in_scope_after_move(binding: Binding, today: datetime.date) -> bool:
    """After a move, are both people still inside the scope of the holder's policy in force?

    A move inside the scope (海口 -> 三亚 under a Hainan-wide policy) keeps the binding; the
    policy's premium scope applies to a premium-only binding."""
    from .models import BindingKind

    policy = policy_for(binding.holder, today)
    scope = policy.premium_scope if binding.kind == BindingKind.PREMIUM_ONLY else policy.pooling_scope
    return eligibility._in_scope(scope, binding.holder.region_id, binding.beneficiary.region_id)


def _suspend(binding: Binding, by: By) -> None:
    before = binding.snapshot()
    binding.status_before_suspension = binding.status
    binding.set_status(S.SUSPENDED)
    binding.save()
    audit_binding("suspended", binding, by, before)
    tell_both(
        binding, "pooling.suspended",
        (_("Pooling with %(beneficiary)s is on hold"),
         _("Because an insurance is not active at the moment, no payments can be made. It starts again by itself "
           "when the insurance is active again.")),
        (_("Pooling with %(holder)s is on hold"),
         _("Because an insurance is not active at the moment, no payments can be made. It starts again by itself "
           "when the insurance is active again.")),
    )


def _unsuspend(binding: Binding, by: By) -> None:
    before = binding.snapshot()
    binding.set_status(binding.status_before_suspension or S.ACTIVE)
    binding.status_before_suspension = ""
    binding.save()
    audit_binding("unsuspended", binding, by, before)
    tell_both(
        binding, "pooling.resumed",
        (_("Pooling with %(beneficiary)s works again"), _("Insurance is active again, so pooling is back on.")),
        (_("Pooling with %(holder)s works again"), _("Insurance is active again, so pooling is back on.")),
    )


def record_death(person: InsuredPerson, died_on: datetime.date, by: By) -> None:
    """The bureau records a death: every binding of the person ends."""
    with transaction.atomic():
        InsuredPerson.objects.select_for_update().filter(pk=person.pk).update(died_on=died_on, updated_at=timezone.now())
        person.died_on = died_on
        audit("registry.death", channel=by.channel, actor=by.user, on_behalf_of=person, obj=person,
              after={"died_on": died_on.isoformat()})
        handle_person_change(person, {}, {}, by.user, by.channel)
