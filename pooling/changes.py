"""What the people change on a live binding: unbind, pause and resume, limits, end dates, undo, order.

Views, the counter and admin actions call these; see common.py for the shared rules.
"""

from __future__ import annotations

import copy
import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import InsuredPerson, audit
from accounts.notifications import notify, person_language

from . import eligibility
from .common import (
    By,
    PoolingError,
    audit_binding,
    link_to,
    lock_binding,
    lock_holder,
    must_be,
    names_of,
    policy_for,
    tell_both,
)
from .models import (
    FINAL_STATUSES,
    Binding,
    BindingStatus,
    DeductionOrder,
    EndReason,
    UndoableChange,
    UndoAction,
)

S = BindingStatus


def unbind(binding: Binding, by: By, note: str = "") -> tuple[Binding, UndoableChange]:
    """Either side ends pooling at once (future payments stop). Undoable for a few minutes."""
    with transaction.atomic():
        binding = lock_binding(binding.pk)
        must_be(by, binding.holder, either=binding.beneficiary, allow_counter=True)
        if binding.status not in (S.ACTIVE, S.PAUSED, S.SUSPENDED):
            raise PoolingError(_("This pooling is not active, so there is nothing to end."), "not_live")
        before = binding.snapshot()
        binding.set_status(S.ENDED)
        binding.ended_at = timezone.now()
        assert by.person is not None
        by_holder = by.person.pk == binding.holder_id
        binding.end_reason = EndReason.UNBOUND_BY_HOLDER if by_holder else EndReason.UNBOUND_BY_BENEFICIARY
        binding.end_note = note[:500]
        binding.save()
        audit_binding("unbound", binding, by, before, note)
        change = _open_undo(UndoAction.UNBIND, by, [binding], {binding.pk: before})
        params = {"note": note or "-"}
        tell_both(
            binding, "pooling.ended",
            (_("Family pooling with %(beneficiary)s has ended"),
             _("From now on %(beneficiary)s (your %(beneficiary_is)s) cannot pay from your account. Note: %(note)s")),
            (_("Family pooling with %(holder)s has ended"),
             _("From now on you cannot pay from the account of %(holder)s (your %(holder_is)s). Your own insurance "
               "is not affected. Note: %(note)s")),
            extra=params, actor=by.person,
        )
    return binding, change


def pause_binding(binding: Binding, by: By) -> tuple[Binding, UndoableChange]:
    """The holder stops payments for one relative at once (e.g. a charge they don't recognise)."""
    with transaction.atomic():
        binding = lock_binding(binding.pk)
        must_be(by, binding.holder, allow_counter=True)
        if binding.status != S.ACTIVE:
            raise PoolingError(_("Only active pooling can be paused."), "not_active")
        before = binding.snapshot()
        _pause(binding)
        audit_binding("paused", binding, by, before)
        change = _open_undo(UndoAction.PAUSE, by, [binding], {binding.pk: before})
        _tell_paused(binding, by)
    return binding, change


def _pause(binding: Binding) -> None:
    binding.set_status(S.PAUSED)
    binding.paused_at = timezone.now()
    binding.save()


def _tell_paused(binding: Binding, by: By, tell_holder: bool = True) -> None:
    tell_both(
        binding, "pooling.paused",
        (_("Pooling with %(beneficiary)s is paused"),
         _("No payments for %(beneficiary)s can come from your account until you resume.")) if tell_holder else None,
        (_("%(holder)s paused family pooling"),
         _("For now you cannot pay from the account of %(holder)s. Please talk to them; your own insurance is "
           "not affected.")),
        actor=by.person,
    )


def _tell_holder_all(holder: InsuredPerson, kind: str, subject: Any, body: Any, bindings: list[Binding],
                     by: By) -> None:
    """One message to the holder for a change to all their relatives (not one per relative)."""
    separator = "、" if person_language(holder).startswith("zh") else ", "
    names = separator.join(b.beneficiary.name for b in bindings)
    notify(holder, kind, subject, body, {"names": names, "count": len(bindings)},
           link=link_to("portal:dashboard"), inbox_only=by.person is not None and by.person.pk == holder.pk)


def pause_all(holder: InsuredPerson, by: By) -> tuple[list[Binding], UndoableChange | None]:
    """Pause every active binding of the holder at once."""
    with transaction.atomic():
        must_be(by, holder, allow_counter=True)
        lock_holder(holder.pk)
        bindings = list(Binding.objects.select_for_update().active().for_holder(holder)
                        .select_related("holder", "beneficiary").order_by("id"))
        if not bindings:
            raise PoolingError(_("There is no active pooling to pause."), "nothing_active")
        befores = {}
        for binding in bindings:
            befores[binding.pk] = binding.snapshot()
            _pause(binding)
            audit_binding("paused", binding, by, befores[binding.pk], "pause all")
            _tell_paused(binding, by, tell_holder=False)
        change = _open_undo(UndoAction.PAUSE_ALL, by, bindings, befores)
        _tell_holder_all(holder, "pooling.paused", _("All family pooling is paused"),
                         _("No payments for %(names)s can come from your account until you resume."), bindings, by)
    return bindings, change


def resume_binding(binding: Binding, by: By) -> Binding:
    with transaction.atomic():
        binding = lock_binding(binding.pk)
        must_be(by, binding.holder, allow_counter=True)
        if binding.status != S.PAUSED:
            raise PoolingError(_("This pooling is not paused."), "not_paused")
        _resume(binding, by)
    return binding


def _resume(binding: Binding, by: By, tell_holder: bool = True) -> None:
    before = binding.snapshot()
    binding.set_status(S.ACTIVE)
    binding.paused_at = None
    binding.save()
    audit_binding("resumed", binding, by, before)
    tell_both(
        binding, "pooling.resumed",
        (_("Pooling with %(beneficiary)s is on again"),
         _("%(beneficiary)s can pay from your account again.")) if tell_holder else None,
        (_("%(holder)s resumed family pooling"), _("You can pay from the account of %(holder)s again.")),
        actor=by.person,
    )


def resume_all(holder: InsuredPerson, by: By) -> list[Binding]:
    with transaction.atomic():
        must_be(by, holder, allow_counter=True)
        lock_holder(holder.pk)
        bindings = list(Binding.objects.select_for_update().filter(status=S.PAUSED).for_holder(holder)
                        .select_related("holder", "beneficiary").order_by("id"))
        for binding in bindings:
            _resume(binding, by, tell_holder=False)
        if bindings:
            _tell_holder_all(holder, "pooling.resumed", _("All family pooling is on again"),
                             _("%(names)s can pay from your account again."), bindings, by)
    return bindings


_KEEP: Any = object()


def limits_problem(per_payment_fen: int | None, monthly_fen: int | None, annual_fen: int | None) -> Any:
    """Why these limits contradict each other, in plain words ("" when they fit together)."""
    from portal.templatetags.portal_tags import format_fen

    pairs = [
        (per_payment_fen, monthly_fen, _("The limit per payment (%(small)s) is above the limit per month "
                                         "(%(large)s). Please lower it, or raise the monthly limit.")),
        (monthly_fen, annual_fen, _("The limit per month (%(small)s) is above the limit per year (%(large)s). "
                                    "Please lower it, or raise the yearly limit.")),
        (per_payment_fen, annual_fen, _("The limit per payment (%(small)s) is above the limit per year "
                                        "(%(large)s). Please lower it, or raise the yearly limit.")),
    ]
    for small, large, message in pairs:
        if small is not None and large is not None and small > large:
            return message % {"small": format_fen(small), "large": format_fen(large)}
    return ""


def set_limits(
    binding: Binding, by: By, *, per_payment_fen: int | None, monthly_fen: int | None, annual_fen: int | None,
    outpatient_fen: Any = _KEEP, pharmacy_fen: Any = _KEEP, inpatient_fen: Any = _KEEP, reserve_fen: Any = _KEEP,
) -> tuple[Binding, UndoableChange]:
    """The holder sets the caps for one relative (None: no cap of that kind).

    Also, when given: annual caps per kind of care (outpatient, pharmacy, inpatient) and the
    balance the holder keeps (``reserve_fen``, 0 or None: none beyond the region's). Limits that
    contradict each other (per payment above monthly, monthly above annual) are refused."""
    extra = {"outpatient_cap_fen": outpatient_fen, "pharmacy_cap_fen": pharmacy_fen,
             "inpatient_cap_fen": inpatient_fen, "reserve_fen": reserve_fen}
    extra = {k: v for k, v in extra.items() if v is not _KEEP}
    if "reserve_fen" in extra:
        extra["reserve_fen"] = extra["reserve_fen"] or 0
    for value in (per_payment_fen, monthly_fen, annual_fen, *extra.values()):
        if value is not None and value < 0:
            raise PoolingError(_("A limit cannot be negative."), "negative")
    problem = limits_problem(per_payment_fen, monthly_fen, annual_fen)
    if problem:
        raise PoolingError(problem, "limits_contradict")
    with transaction.atomic():
        binding = lock_binding(binding.pk)
        must_be(by, binding.holder, allow_counter=True)
        if not binding.is_live:
            raise PoolingError(_("This pooling has ended; its limits can no longer be changed."), "not_live")
        before = binding.snapshot()
        binding.per_payment_cap_fen = per_payment_fen
        binding.monthly_cap_fen = monthly_fen
        binding.annual_cap_fen = annual_fen
        for field, value in extra.items():
            setattr(binding, field, value)
        binding.version += 1
        binding.save()
        audit_binding("limits_set", binding, by, before)
        change = _open_undo(UndoAction.LIMITS, by, [binding], {binding.pk: before})
        notify(
            binding.beneficiary, "pooling.limits",
            _("%(holder)s changed your spending limits"),
            _("%(holder)s changed how much you can pay from their account. See the details on your family "
              "pooling page."), names_of(binding), link=link_to("portal:dashboard"),
        )
        notify(
            binding.holder, "pooling.limits", _("Limits for %(beneficiary)s saved"),
            _("The new limits for %(beneficiary)s apply from now on. You can undo this for a few minutes."),
            names_of(binding), link=link_to("portal:dashboard"),
            inbox_only=by.person is not None and by.person.pk == binding.holder_id,
        )
    return binding, change


def set_end_date(binding: Binding, by: By, end_date: datetime.date | None,
                 start_date: datetime.date | None | Any = _KEEP) -> Binding:
    """The holder chooses when pooling ends by itself (None: no end date), and when given, from
    which day it may be used (``start_date``, None: at once). Payments only inside them."""
    if end_date is not None and end_date <= timezone.localdate():
        raise PoolingError(_("The end date must be in the future."), "end_date_past")
    if start_date is not _KEEP and start_date is not None and end_date is not None and start_date > end_date:
        raise PoolingError(_("The start date must be on or before the end date."), "start_after_end")
    with transaction.atomic():
        binding = lock_binding(binding.pk)
        must_be(by, binding.holder, allow_counter=True)
        if not binding.is_live:
            raise PoolingError(_("This pooling has ended."), "not_live")
        before = binding.snapshot()
        binding.end_date = end_date
        if start_date is not _KEEP:
            binding.start_date = start_date
        elif binding.start_date and end_date and binding.start_date > end_date:
            raise PoolingError(_("The start date must be on or before the end date."), "start_after_end")
        binding.end_reminder_sent_on = None
        binding.version += 1
        binding.save()
        audit_binding("end_date_set", binding, by, before)
        tell_both(
            binding, "pooling.end_date",
            (_("End date for %(beneficiary)s saved"), _("Pooling with %(beneficiary)s ends on %(date)s.")),
            (_("%(holder)s set an end date"), _("You can pay from the account of %(holder)s until %(date)s.")),
            extra={"date": end_date.isoformat() if end_date else _("no end date")}, actor=by.person,
        )
    return binding


def _open_undo(action: str, by: By, bindings: list[Binding], befores: dict[int, dict[str, Any]]) -> UndoableChange:
    assert by.person is not None
    holder = bindings[0].holder
    minutes = policy_for(holder).undo_minutes
    now = timezone.now()
    return UndoableChange.objects.create(
        action=action, person=by.person, actor=by.user, channel=by.channel, created_at=now,
        expires_at=now + datetime.timedelta(minutes=minutes),
        states={str(b.pk): {"before": befores[b.pk], "version": b.version} for b in bindings},
    )


def undo_change(change_id: int, by: By) -> list[Binding]:
    """Put back what a recent unbind, pause or limit change did, if nobody changed it since."""
    with transaction.atomic():
        change = UndoableChange.objects.select_for_update().filter(pk=change_id).first()
        if change is None or by.person is None or change.person_id != by.person.pk:
            raise PoolingError(_("There is nothing to undo."), "no_change")
        if not change.is_open():
            raise PoolingError(_("It is too late to undo this change. You can make the change again instead."),
                               "undo_expired")
        ids = sorted(int(pk) for pk in change.states)
        holder_ids = sorted(set(Binding.objects.filter(pk__in=ids).values_list("holder_id", flat=True)))
        for holder_id in holder_ids:
            lock_holder(holder_id)
        bindings = list(Binding.objects.select_for_update().filter(pk__in=ids).select_related("holder", "beneficiary")
                        .order_by("id"))
        restored = []
        refusals: list[str] = []
        for binding in bindings:
            state = change.states[str(binding.pk)]
            if binding.version != state["version"]:
                continue
            before = state["before"]
            current = binding.snapshot()
            problem = _undo_problem(binding, before["status"])
            if problem:
                refusals.append(problem)
                continue
            binding.set_status(before["status"])
            binding.per_payment_cap_fen = before["per_payment_cap_fen"]
            binding.monthly_cap_fen = before["monthly_cap_fen"]
            binding.annual_cap_fen = before["annual_cap_fen"]
            for field in ("outpatient_cap_fen", "pharmacy_cap_fen", "inpatient_cap_fen", "reserve_fen"):
                if field in before:
                    setattr(binding, field, before[field])
            binding.paused_at = _dt(before["paused_at"])
            binding.ended_at = _dt(before["ended_at"])
            binding.end_reason = before["end_reason"]
            binding.end_note = before["end_note"]
            binding.save()
            audit_binding("undone", binding, by, current, f"undo of {change.action}")
            tell_both(
                binding, "pooling.undone",
                (_("Change undone for %(beneficiary)s"),
                 _("The last change to pooling with %(beneficiary)s was undone; everything is as before.")),
                (_("Change undone by %(holder)s"),
                 _("The last change to pooling with %(holder)s was undone; everything is as before.")),
            )
            restored.append(binding)
        if not restored:
            if refusals:
                raise PoolingError(" ".join(refusals), "undo_refused")
            raise PoolingError(_("This change cannot be undone because something else changed since."),
                               "undo_conflict")
        change.undone_at = timezone.now()
        change.save(update_fields=["undone_at"])
    return restored


def _undo_problem(binding: Binding, target: str) -> str:
    """Why ``binding`` cannot go back to ``target`` now, in plain words ("" when it can).

    An undo is a new act: it checks, at this moment and under the holder's lock (taken by
    ``undo_change``), what the original action checked: the slot maximum (active and waiting
    requests), both people's insurance, the region's rules, and that the pair is not bound again.
    """
    if target == binding.status or target not in (S.ACTIVE, S.PAUSED, S.SUSPENDED):
        return ""
    holder, relative = binding.holder, binding.beneficiary
    names = {"name": relative.name}
    if target == S.ACTIVE:
        if not (holder.is_active and holder.has_personal_account):
            return str(_("Pooling with %(name)s cannot be turned back on: your own employee insurance is not "
                         "active at the moment.") % names)
        premium_only = binding.kind == "premium_only"  # paying a lapsed relative's premium is its point
        if not relative.is_active and not (premium_only and relative.status == "suspended"
                                           and relative.died_on is None):
            return str(_("Pooling with %(name)s cannot be turned back on: their insurance is not active at the "
                         "moment.") % names)
    if binding.status not in (S.ENDED, *FINAL_STATUSES):
        return ""
    # Bringing an ended binding back is a new binding: the same checks as a proposal.
    if Binding.objects.live().filter(holder=holder, beneficiary=relative).exclude(pk=binding.pk).exists():
        return str(_("Ending pooling with %(name)s cannot be undone: they are already on your list again.") % names)
    policy = policy_for(holder)
    used = Binding.objects.live().for_holder(holder).exclude(pk=binding.pk).count()
    if used >= policy.max_beneficiaries:
        return str(_("Ending pooling with %(name)s cannot be undone: you already have %(used)s relatives (active "
                     "or waiting for an answer) and your region allows at most %(max)s. End pooling with someone "
                     "else or cancel a waiting request first.") % (names | {"used": used,
                                                                             "max": policy.max_beneficiaries}))
    if binding.kind == "premium_only":  # where premiums may be paid, not where pooling may be
        policy = copy.copy(policy)
        policy.pooling_scope = policy.premium_scope
    answer = eligibility.check_binding(
        eligibility.PersonFacts.of(holder), eligibility.PersonFacts.of(relative), binding.relationship, policy,
        timezone.localdate(), eligibility.Counts(),
    )
    skip: tuple[str, ...] = ("candidate_not_active",) if binding.kind == "premium_only" else ()
    if target != S.ACTIVE:
        skip = ("candidate_not_active", "holder_not_active")
    reasons = [r for r in answer.reasons if r.code not in skip]
    if reasons:
        return str(_("Ending pooling with %(name)s cannot be undone: %(reason)s")
                   % (names | {"reason": reasons[0].message}))
    return ""


def _dt(value: str | None) -> datetime.datetime | None:
    return datetime.datetime.fromisoformat(value) if value else None


def open_undo_for(person: InsuredPerson) -> UndoableChange | None:
    """The latest change this person can still undo (for the undo banner)."""
    return UndoableChange.objects.filter(person=person, undone_at__isnull=True,
                                         expires_at__gt=timezone.now()).first()


def set_deduction_order(person: InsuredPerson, sources: list[str], by: By) -> DeductionOrder:
    """The beneficiary chooses which source pays first ("own", "binding:<id>")."""
    from .planning import ordered_sources, source_key

    must_be(by, person, allow_counter=True)
    valid = {source_key(s) for s in ordered_sources(person)}
    valid |= {f"binding:{pk}" for pk in Binding.objects.live().for_beneficiary(person).values_list("pk", flat=True)}
    if person.has_personal_account:
        valid.add("own")
    cleaned: list[str] = []
    for key in sources:
        if key not in valid:
            raise PoolingError(_("That payment source is not yours to order."), "bad_source")
        if key not in cleaned:
            cleaned.append(key)
    with transaction.atomic():
        order, _created = DeductionOrder.objects.select_for_update().get_or_create(person=person)
        before = {"sources": order.sources}
        order.sources = cleaned
        order.save()
        audit("pooling.order_set", channel=by.channel, actor=by.user, on_behalf_of=person, obj=order,
              before=before, after={"sources": cleaned})
    return order
