"""Every state change of a binding: one named function each.

Each function is atomic, locks what it changes (the holder's registry row first, then the
binding: one fixed order), audits the change (actor, on whose behalf, channel) and notifies
both people through ``accounts.notifications.notify`` inside the transaction (delivery is
enqueued after commit). Views, the counter, admin actions and tasks all call these.

Errors are ``PoolingError`` with a plain, translated message for the person who tried.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.idnumbers import age_on
from accounts.models import (
    PERSONAL_ACCOUNT_SCHEMES,
    AuditChannel,
    InsuranceStatus,
    InsuredPerson,
    RegionPolicy,
    User,
    audit,
)
from accounts.notifications import notify

from . import eligibility
from .models import (
    Binding,
    BindingStatus,
    DeductionOrder,
    EndReason,
    UndoableChange,
    UndoAction,
)
from .relations import beneficiary_word, holder_word

S = BindingStatus

# What a counter assistant must have seen before recording consent on the spot.
REQUIRED_DOCUMENTS = ("id_card", "insurance_card", "relationship_proof")
DOCUMENT_LABELS = {
    "id_card": _("Resident identity cards of both people"),
    "insurance_card": _("Medical insurance cards (or e-vouchers)"),
    "relationship_proof": _("Proof of the relationship (household register, marriage or birth certificate)"),
    "authorisation": _("Written authorisation, if the relative could not come"),
}

TOKEN_SALT = "pooling.consent"


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


# -- helpers -----------------------------------------------------------------------------------


def policy_for(holder: InsuredPerson, day: datetime.date | None = None) -> RegionPolicy:
    return RegionPolicy.objects.in_force(holder.region_id, day or timezone.localdate())


def _lock_holder(holder_id: int) -> InsuredPerson:
    """The holder's registry row is the lock that serialises all changes to their bindings."""
    return InsuredPerson.objects.select_for_update().get(pk=holder_id)


def _lock_binding(binding_id: int) -> Binding:
    """Lock the holder row, then the binding (always in this order)."""
    holder_id = Binding.objects.values_list("holder_id", flat=True).get(pk=binding_id)
    _lock_holder(holder_id)
    return Binding.objects.select_for_update().select_related("holder", "beneficiary").get(pk=binding_id)


def _audit(action: str, binding: Binding, by: By, before: dict[str, Any] | None = None, note: str = "") -> None:
    audit(
        f"pooling.{action}", channel=by.channel, actor=by.user, on_behalf_of=by.person, obj=binding,
        before=before, after=binding.snapshot(), note=note,
    )


def _names(binding: Binding) -> dict[str, Any]:
    return {
        "holder": binding.holder.name,
        "beneficiary": binding.beneficiary.name,
        "holder_is": holder_word(binding),
        "beneficiary_is": beneficiary_word(binding),
    }


def _link(name: str, **kwargs: Any) -> str:
    return reverse(name, kwargs=kwargs or None)


def _absolute(path: str) -> str:
    """Text messages need the full address (the inbox uses the path)."""
    from django.conf import settings

    return settings.PORTAL_BASE_URL.rstrip("/") + path


def _tell_both(
    binding: Binding, kind: str, to_holder: tuple[Any, Any], to_beneficiary: tuple[Any, Any],
    extra: dict[str, Any] | None = None, dedupe: str | None = None,
) -> None:
    params = _names(binding) | (extra or {})
    notify(binding.holder, kind, to_holder[0], to_holder[1], params, link=_link("portal:dashboard"),
           dedupe_key=f"{dedupe}:h" if dedupe else None)
    notify(binding.beneficiary, kind, to_beneficiary[0], to_beneficiary[1], params, link=_link("portal:dashboard"),
           dedupe_key=f"{dedupe}:b" if dedupe else None)


ANSWER_CODE_ATTEMPTS = 5


def _code_hash(binding_id: int, code: str) -> str:
    from django.utils.crypto import salted_hmac

    return salted_hmac("pooling.answer-code", f"{binding_id}:{code}").hexdigest()


def _new_answer_code(binding: Binding) -> str:
    """A 6-digit code for people who type rather than tap a link. Only its hash is kept."""
    import secrets

    code = f"{secrets.randbelow(10**6):06d}"
    binding.answer_code_hash = _code_hash(binding.pk, code)
    binding.answer_code_attempts = 0
    binding.save(update_fields=["answer_code_hash", "answer_code_attempts", "updated_at"])
    return code


def binding_from_code(person: InsuredPerson, code: str) -> Binding:
    """The waiting request of ``person`` that this code answers; wrong codes are counted and locked out."""
    from django.utils.crypto import constant_time_compare

    code = "".join(ch for ch in code if ch.isdigit())
    with transaction.atomic():
        waiting = list(
            Binding.objects.select_for_update().filter(beneficiary=person, status__in=[S.PENDING, S.ACTIVE, S.PAUSED])
            .exclude(answer_code_hash="").order_by("id")
        )
        waiting = [b for b in waiting if b.status == S.PENDING or b.confirmation_requested_at]
        if not waiting:
            # Same words as a wrong code: the page must not reveal who has a request waiting.
            raise PoolingError(_("This code is not right. Please check the text message and try again."),
                               "nothing_waiting")
        if all(b.answer_code_attempts >= ANSWER_CODE_ATTEMPTS for b in waiting):
            raise PoolingError(_("Too many wrong codes. Please log in to the portal or visit a service counter."),
                               "locked")
        for binding in waiting:
            if binding.answer_code_attempts < ANSWER_CODE_ATTEMPTS and constant_time_compare(
                binding.answer_code_hash, _code_hash(binding.pk, code)
            ):
                return Binding.objects.with_people().get(pk=binding.pk)
        for binding in waiting:
            binding.answer_code_attempts += 1
            binding.save(update_fields=["answer_code_attempts", "updated_at"])
    raise PoolingError(_("This code is not right. Please check the text message and try again."), "bad_code")


def consent_token(binding: Binding) -> str:
    """A signed token for the consent link; any change to the binding invalidates it."""
    return signing.dumps({"b": binding.pk, "v": binding.version}, salt=TOKEN_SALT)


def binding_from_token(token: str) -> Binding:
    """The pending binding a consent link points at, or a PoolingError saying why not."""
    try:
        data = signing.loads(token, salt=TOKEN_SALT, max_age=60 * 60 * 24 * 60)
    except signing.BadSignature:
        raise PoolingError(_("This link is not valid. Please log in to answer the request."), "bad_token") from None
    binding = Binding.objects.with_people().filter(pk=data.get("b")).first()
    if binding is None or binding.version != data.get("v"):
        raise PoolingError(_("This request has already been answered or has changed. Please log in to see it."),
                           "stale_token")
    return binding


def counts_for(holder: InsuredPerson, candidate: InsuredPerson | None, policy: RegionPolicy,
               balance_fen: int | None = None) -> eligibility.Counts:
    """The slot counter and this pair's history, for the rules."""
    live = list(Binding.objects.live().for_holder(holder).values_list("beneficiary_id", "status"))
    pending = sum(1 for _b, status in live if status == S.PENDING)
    pair_status = ""
    cooling_until = None
    if candidate is not None:
        pair_status = next((status for b, status in live if b == candidate.pk), "")
        if policy.cooling_days:
            last_end = (
                Binding.objects.filter(holder=holder, beneficiary=candidate, status=S.ENDED,
                                       end_reason__in=[EndReason.UNBOUND_BY_HOLDER, EndReason.UNBOUND_BY_BENEFICIARY])
                .order_by("-ended_at").values_list("ended_at", flat=True).first()
            )
            if last_end:
                cooling_until = timezone.localdate(last_end) + datetime.timedelta(days=policy.cooling_days)
    return eligibility.Counts(
        active=len(live) - pending, pending=pending, pair_status=pair_status, cooling_until=cooling_until,
        holder_balance_fen=balance_fen,
    )


def check_candidate(
    holder: InsuredPerson, candidate: InsuredPerson | None, relationship: str, today: datetime.date | None = None,
) -> eligibility.Answer:
    """The eligibility answer for a real holder and a registry lookup (None: not insured)."""
    from payments.ledger import balance_of

    today = today or timezone.localdate()
    policy = policy_for(holder, today)
    counts = counts_for(holder, candidate, policy, balance_of(holder) if holder.has_personal_account else None)
    holder_facts = eligibility.PersonFacts.of(holder)
    candidate_facts = eligibility.PersonFacts.of(candidate) if candidate else eligibility.PersonFacts.unknown()
    return eligibility.check_binding(
        holder_facts, candidate_facts, relationship, policy, today, counts,
        same_person=candidate is not None and candidate.pk == holder.pk,
    )


# -- proposing and answering -------------------------------------------------------------------


def find_candidate(id_number: str, name: str) -> InsuredPerson | None:
    """The registry person with this ID number, if the name matches too (else None)."""
    person = InsuredPerson.objects.select_related("region").by_id_number(id_number)
    if person is None:
        return None
    if _plain(person.name) != _plain(name):
        raise PoolingError(
            _("The name does not match the name registered for this ID number. Please enter the name exactly as "
              "on the ID card."), "name_mismatch",
        )
    return person


def _plain(name: str) -> str:
    return "".join((name or "").split()).casefold()


def propose_binding(
    holder: InsuredPerson, candidate: InsuredPerson | None, relationship: str, by: By, *,
    end_date: datetime.date | None = None, consent_documents: Iterable[str] = (),
) -> Binding:
    """The holder asks to share their account with ``candidate``.

    Refused with every reason when not eligible. A child under the policy age bound by a
    parent or grandparent is active at once; at a counter with the documents checked, the
    assistant may record the relative's consent on the spot (``consent_documents``).
    """
    today = timezone.localdate()
    now = timezone.now()
    documents = list(consent_documents)
    with transaction.atomic():
        holder = _lock_holder(holder.pk)
        answer = check_candidate(holder, candidate, relationship, today)
        if not answer.ok:
            raise NotEligible(answer)
        assert candidate is not None
        if end_date is not None and end_date <= today:
            raise PoolingError(_("The end date must be in the future."), "end_date_past")
        if documents:
            _check_documents(documents, by)
        policy = policy_for(holder, today)
        at_once = answer.joins_at_once or bool(documents)
        binding = Binding(
            holder=holder, beneficiary=candidate, relationship=relationship, end_date=end_date,
            status=S.ACTIVE if at_once else S.PENDING, created_at=now,
            consent_deadline=None if at_once else now + datetime.timedelta(days=policy.consent_days),
            activated_at=now if at_once else None, auto_activated=answer.joins_at_once,
            consented_at=now if documents else None, consent_channel=by.channel if documents else "",
            consent_documents=documents, flagged_for_review=bool(answer.review_flags),
            review_reasons=answer.review_flags,
        )
        try:
            with transaction.atomic():
                binding.save()
        except IntegrityError:
            raise PoolingError(_("This relative is already on your list."), "already_bound") from None
        _audit("proposed", binding, by, note="minor: active at once" if answer.joins_at_once else
               ("consent recorded at the counter" if documents else ""))
        if binding.status == S.ACTIVE:
            _tell_both(
                binding, "pooling.active",
                (_("%(beneficiary)s can now use your medical insurance account"),
                 _("Family pooling with %(beneficiary)s (your %(beneficiary_is)s) is active. You can set limits "
                   "or end it at any time on your family pooling page.")),
                (_("%(holder)s now shares their medical insurance account with you"),
                 _("%(holder)s (your %(holder_is)s) shares their personal account with you. Your own account is "
                   "used first, then theirs. You can end this at any time.")),
            )
        else:
            code = _new_answer_code(binding)
            link = _link("pooling:consent-link", token=consent_token(binding))
            notify(
                binding.beneficiary, "pooling.request",
                _("%(holder)s wants to share their medical insurance account with you"),
                _("%(holder)s (your %(holder_is)s) asks to let you pay your medical costs from their personal "
                  "account. Please answer by %(deadline)s: open %(url)s, or enter the code %(code)s at "
                  "%(code_url)s, log in to the portal, or visit a service counter."),
                _names(binding) | {"deadline": timezone.localtime(binding.consent_deadline).strftime("%Y-%m-%d"),
                                   "url": _absolute(link), "code": code,
                                   "code_url": _absolute(_link("pooling:answer-code"))},
                link=link,
            )
            notify(
                binding.holder, "pooling.proposed",
                _("Request sent to %(beneficiary)s"),
                _("We asked %(beneficiary)s (your %(beneficiary_is)s) to agree. The request waits until "
                  "%(deadline)s."),
                _names(binding) | {"deadline": timezone.localtime(binding.consent_deadline).strftime("%Y-%m-%d")},
                link=_link("portal:dashboard"),
            )
    return binding


def _check_documents(documents: list[str], by: By) -> None:
    if by.channel != AuditChannel.COUNTER or by.user is None or not by.user.is_counter:
        raise PoolingError(_("Only a counter assistant can record consent on the spot."), "not_counter")
    missing = [d for d in REQUIRED_DOCUMENTS if d not in documents]
    if missing:
        raise PoolingError(
            _("Please check all the documents before recording consent: %(missing)s.")
            % {"missing": "; ".join(str(DOCUMENT_LABELS[d]) for d in missing)}, "documents_missing",
        )


def consent_binding(binding: Binding, by: By, *, documents: Iterable[str] = ()) -> Binding:
    """The relative agrees (or, turned the consent age, confirms a binding made for them as a child)."""
    documents = list(documents)
    now = timezone.now()
    with transaction.atomic():
        binding = _lock_binding(binding.pk)
        _must_be(by, binding.beneficiary, allow_counter=True)
        if documents or by.channel == AuditChannel.COUNTER:
            _check_documents(documents, by)
        before = binding.snapshot()
        if binding.status == S.PENDING:
            if binding.consent_deadline and binding.consent_deadline <= now:
                raise PoolingError(_("This request has expired. The account holder can send a new one."), "expired")
            binding.set_status(S.ACTIVE)
            binding.activated_at = now
        elif binding.confirmation_requested_at and binding.status in (S.ACTIVE, S.PAUSED, S.SUSPENDED):
            binding.confirmation_requested_at = None
            binding.version += 1
        else:
            raise PoolingError(_("There is nothing to answer: this request is no longer waiting."), "not_pending")
        binding.consented_at = now
        binding.consent_channel = by.channel
        binding.consent_documents = documents
        binding.save()
        _audit("consented", binding, by, before)
        _tell_both(
            binding, "pooling.active",
            (_("%(beneficiary)s agreed to family pooling"),
             _("%(beneficiary)s (your %(beneficiary_is)s) agreed. They can now pay medical costs from your account. "
               "You can set limits or end it at any time.")),
            (_("Family pooling with %(holder)s is active"),
             _("You agreed to use the account of %(holder)s (your %(holder_is)s). Your own account is used first. "
               "You can end this at any time.")),
        )
    return binding


def decline_binding(binding: Binding, by: By, note: str = "") -> Binding:
    """The relative says no (a young person who turned the consent age ends the binding)."""
    with transaction.atomic():
        binding = _lock_binding(binding.pk)
        _must_be(by, binding.beneficiary, allow_counter=True)
        before = binding.snapshot()
        if binding.status == S.PENDING:
            binding.set_status(S.DECLINED)
        elif binding.confirmation_requested_at and binding.is_live:
            binding.set_status(S.ENDED)
            binding.end_reason = EndReason.MINOR_DECLINED
        else:
            raise PoolingError(_("There is nothing to answer: this request is no longer waiting."), "not_pending")
        binding.ended_at = timezone.now()
        binding.end_note = note[:500]
        binding.save()
        _audit("declined", binding, by, before, note)
        _tell_both(
            binding, "pooling.declined",
            (_("%(beneficiary)s said no to family pooling"),
             _("%(beneficiary)s (your %(beneficiary_is)s) decided not to use your account. Nothing was shared.")),
            (_("You said no to family pooling with %(holder)s"),
             _("You will not use the account of %(holder)s. If you change your mind, they can ask again.")),
        )
    return binding


def cancel_binding(binding: Binding, by: By) -> Binding:
    """The holder withdraws a request that is still waiting."""
    with transaction.atomic():
        binding = _lock_binding(binding.pk)
        _must_be(by, binding.holder, allow_counter=True)
        if binding.status != S.PENDING:
            raise PoolingError(_("Only a request that is still waiting can be withdrawn."), "not_pending")
        before = binding.snapshot()
        binding.set_status(S.CANCELLED)
        binding.ended_at = timezone.now()
        binding.save()
        _audit("cancelled", binding, by, before)
        _tell_both(
            binding, "pooling.cancelled",
            (_("You withdrew your request to %(beneficiary)s"), _("Nothing was shared. You can ask again later.")),
            (_("%(holder)s withdrew their request"),
             _("%(holder)s withdrew the request to share their account with you. You do not need to do anything.")),
        )
    return binding


def expire_binding(binding_id: int, now: datetime.datetime | None = None) -> bool:
    """End a request nobody answered in time. Idempotent: False when there was nothing to do."""
    now = now or timezone.now()
    with transaction.atomic():
        binding = _lock_binding(binding_id)
        if binding.status != S.PENDING or not binding.consent_deadline or binding.consent_deadline > now:
            return False
        before = binding.snapshot()
        binding.set_status(S.EXPIRED)
        binding.ended_at = now
        binding.save()
        _audit("expired", binding, By.system(), before)
        _tell_both(
            binding, "pooling.expired",
            (_("Your request to %(beneficiary)s expired"),
             _("%(beneficiary)s did not answer in time, so nothing was shared. You can send a new request, or "
               "you can both visit a service counter.")),
            (_("The request from %(holder)s expired"),
             _("You did not answer the request from %(holder)s in time. They can send a new one.")),
            dedupe=f"pooling.expired:{binding.pk}",
        )
    return True


def remind_pending(binding_id: int, now: datetime.datetime | None = None) -> bool:
    """Remind a relative once, two days before their request expires."""
    now = now or timezone.now()
    with transaction.atomic():
        binding = _lock_binding(binding_id)
        if binding.status != S.PENDING or binding.reminded_at or not binding.consent_deadline:
            return False
        if binding.consent_deadline - now > datetime.timedelta(days=2) or binding.consent_deadline <= now:
            return False
        binding.reminded_at = now
        binding.save(update_fields=["reminded_at", "updated_at"])
        notify(
            binding.beneficiary, "pooling.reminder",
            _("Reminder: %(holder)s is waiting for your answer"),
            _("%(holder)s (your %(holder_is)s) asked to share their medical insurance account with you. "
              "The request ends on %(deadline)s. To answer, open %(url)s"),
            _names(binding) | {"deadline": timezone.localtime(binding.consent_deadline).strftime("%Y-%m-%d"),
                               "url": _absolute(_link("pooling:consent-link", token=consent_token(binding)))},
            link=_link("pooling:consent-link", token=consent_token(binding)),
            dedupe_key=f"pooling.reminder:{binding.pk}",
        )
    return True


def _must_be(by: By, person: InsuredPerson, *, allow_counter: bool = False, either: InsuredPerson | None = None) -> None:
    """The acting person must be ``person`` (or ``either``); counter staff act on their behalf."""
    if by.channel == AuditChannel.SYSTEM:
        return
    allowed = {person.pk} | ({either.pk} if either is not None else set())
    if by.person is None or by.person.pk not in allowed:
        raise PoolingError(_("Only the people in this family pooling can change it."), "not_allowed")
    if by.channel == AuditChannel.COUNTER:
        if not allow_counter or by.user is None or not by.user.is_counter:
            raise PoolingError(_("Only a counter assistant can act at the counter."), "not_counter")
        if by.user.office is None or by.user.office.region_id != by.person.region_id:
            raise PoolingError(_("Only a counter of the person's own region can help them."), "other_region")


# -- ending, pausing, limits (with undo) -------------------------------------------------------


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


def unbind(binding: Binding, by: By, note: str = "") -> tuple[Binding, UndoableChange]:
    """Either side ends pooling at once (future payments stop). Undoable for a few minutes."""
    with transaction.atomic():
        binding = _lock_binding(binding.pk)
        _must_be(by, binding.holder, either=binding.beneficiary, allow_counter=True)
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
        _audit("unbound", binding, by, before, note)
        change = _open_undo(UndoAction.UNBIND, by, [binding], {binding.pk: before})
        params = {"note": note or "-"}
        _tell_both(
            binding, "pooling.ended",
            (_("Family pooling with %(beneficiary)s has ended"),
             _("From now on %(beneficiary)s (your %(beneficiary_is)s) cannot pay from your account. Note: %(note)s")),
            (_("Family pooling with %(holder)s has ended"),
             _("From now on you cannot pay from the account of %(holder)s (your %(holder_is)s). Your own insurance "
               "is not affected. Note: %(note)s")),
            extra=params,
        )
    return binding, change


def pause_binding(binding: Binding, by: By) -> tuple[Binding, UndoableChange]:
    """The holder stops payments for one relative at once (e.g. a charge they don't recognise)."""
    with transaction.atomic():
        binding = _lock_binding(binding.pk)
        _must_be(by, binding.holder, allow_counter=True)
        if binding.status != S.ACTIVE:
            raise PoolingError(_("Only active pooling can be paused."), "not_active")
        before = binding.snapshot()
        _pause(binding)
        _audit("paused", binding, by, before)
        change = _open_undo(UndoAction.PAUSE, by, [binding], {binding.pk: before})
        _tell_paused(binding)
    return binding, change


def _pause(binding: Binding) -> None:
    binding.set_status(S.PAUSED)
    binding.paused_at = timezone.now()
    binding.save()


def _tell_paused(binding: Binding) -> None:
    _tell_both(
        binding, "pooling.paused",
        (_("Pooling with %(beneficiary)s is paused"),
         _("No payments for %(beneficiary)s can come from your account until you resume.")),
        (_("%(holder)s paused family pooling"),
         _("For now you cannot pay from the account of %(holder)s. Please talk to them; your own insurance is "
           "not affected.")),
    )


def pause_all(holder: InsuredPerson, by: By) -> tuple[list[Binding], UndoableChange | None]:
    """Pause every active binding of the holder at once."""
    with transaction.atomic():
        _must_be(by, holder, allow_counter=True)
        _lock_holder(holder.pk)
        bindings = list(Binding.objects.select_for_update().active().for_holder(holder)
                        .select_related("holder", "beneficiary").order_by("id"))
        if not bindings:
            raise PoolingError(_("There is no active pooling to pause."), "nothing_active")
        befores = {}
        for binding in bindings:
            befores[binding.pk] = binding.snapshot()
            _pause(binding)
            _audit("paused", binding, by, befores[binding.pk], "pause all")
            _tell_paused(binding)
        change = _open_undo(UndoAction.PAUSE_ALL, by, bindings, befores)
    return bindings, change


def resume_binding(binding: Binding, by: By) -> Binding:
    with transaction.atomic():
        binding = _lock_binding(binding.pk)
        _must_be(by, binding.holder, allow_counter=True)
        if binding.status != S.PAUSED:
            raise PoolingError(_("This pooling is not paused."), "not_paused")
        _resume(binding, by)
    return binding


def _resume(binding: Binding, by: By) -> None:
    before = binding.snapshot()
    binding.set_status(S.ACTIVE)
    binding.paused_at = None
    binding.save()
    _audit("resumed", binding, by, before)
    _tell_both(
        binding, "pooling.resumed",
        (_("Pooling with %(beneficiary)s is on again"),
         _("%(beneficiary)s can pay from your account again.")),
        (_("%(holder)s resumed family pooling"), _("You can pay from the account of %(holder)s again.")),
    )


def resume_all(holder: InsuredPerson, by: By) -> list[Binding]:
    with transaction.atomic():
        _must_be(by, holder, allow_counter=True)
        _lock_holder(holder.pk)
        bindings = list(Binding.objects.select_for_update().filter(status=S.PAUSED).for_holder(holder)
                        .select_related("holder", "beneficiary").order_by("id"))
        for binding in bindings:
            _resume(binding, by)
    return bindings


def set_limits(
    binding: Binding, by: By, *, per_payment_fen: int | None, monthly_fen: int | None, annual_fen: int | None,
) -> tuple[Binding, UndoableChange]:
    """The holder sets the caps for one relative (None: no cap of that kind)."""
    for value in (per_payment_fen, monthly_fen, annual_fen):
        if value is not None and value < 0:
            raise PoolingError(_("A limit cannot be negative."), "negative")
    with transaction.atomic():
        binding = _lock_binding(binding.pk)
        _must_be(by, binding.holder, allow_counter=True)
        if not binding.is_live:
            raise PoolingError(_("This pooling has ended; its limits can no longer be changed."), "not_live")
        before = binding.snapshot()
        binding.per_payment_cap_fen = per_payment_fen
        binding.monthly_cap_fen = monthly_fen
        binding.annual_cap_fen = annual_fen
        binding.version += 1
        binding.save()
        _audit("limits_set", binding, by, before)
        change = _open_undo(UndoAction.LIMITS, by, [binding], {binding.pk: before})
        notify(
            binding.beneficiary, "pooling.limits",
            _("%(holder)s changed your spending limits"),
            _("%(holder)s changed how much you can pay from their account. See the details on your family "
              "pooling page."), _names(binding), link=_link("portal:dashboard"),
        )
        notify(
            binding.holder, "pooling.limits", _("Limits for %(beneficiary)s saved"),
            _("The new limits for %(beneficiary)s apply from now on. You can undo this for a few minutes."),
            _names(binding), link=_link("portal:dashboard"),
        )
    return binding, change


def set_end_date(binding: Binding, by: By, end_date: datetime.date | None) -> Binding:
    """The holder chooses when pooling ends by itself (None: no end date)."""
    if end_date is not None and end_date <= timezone.localdate():
        raise PoolingError(_("The end date must be in the future."), "end_date_past")
    with transaction.atomic():
        binding = _lock_binding(binding.pk)
        _must_be(by, binding.holder, allow_counter=True)
        if not binding.is_live:
            raise PoolingError(_("This pooling has ended."), "not_live")
        before = binding.snapshot()
        binding.end_date = end_date
        binding.end_reminder_sent_on = None
        binding.version += 1
        binding.save()
        _audit("end_date_set", binding, by, before)
        _tell_both(
            binding, "pooling.end_date",
            (_("End date for %(beneficiary)s saved"), _("Pooling with %(beneficiary)s ends on %(date)s.")),
            (_("%(holder)s set an end date"), _("You can pay from the account of %(holder)s until %(date)s.")),
            extra={"date": end_date.isoformat() if end_date else _("no end date")},
        )
    return binding


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
            _lock_holder(holder_id)
        bindings = list(Binding.objects.select_for_update().filter(pk__in=ids).select_related("holder", "beneficiary")
                        .order_by("id"))
        restored = []
        for binding in bindings:
            state = change.states[str(binding.pk)]
            if binding.version != state["version"]:
                continue
            before = state["before"]
            current = binding.snapshot()
            if before["status"] != binding.status and binding.status == S.ENDED and Binding.objects.live().filter(
                holder=binding.holder, beneficiary=binding.beneficiary
            ).exists():
                continue
            binding.set_status(before["status"])
            binding.per_payment_cap_fen = before["per_payment_cap_fen"]
            binding.monthly_cap_fen = before["monthly_cap_fen"]
            binding.annual_cap_fen = before["annual_cap_fen"]
            binding.paused_at = _dt(before["paused_at"])
            binding.ended_at = _dt(before["ended_at"])
            binding.end_reason = before["end_reason"]
            binding.end_note = before["end_note"]
            binding.save()
            _audit("undone", binding, by, current, f"undo of {change.action}")
            _tell_both(
                binding, "pooling.undone",
                (_("Change undone for %(beneficiary)s"),
                 _("The last change to pooling with %(beneficiary)s was undone; everything is as before.")),
                (_("Change undone by %(holder)s"),
                 _("The last change to pooling with %(holder)s was undone; everything is as before.")),
            )
            restored.append(binding)
        if not restored:
            raise PoolingError(_("This change cannot be undone because something else changed since."),
                               "undo_conflict")
        change.undone_at = timezone.now()
        change.save(update_fields=["undone_at"])
    return restored


def _dt(value: str | None) -> datetime.datetime | None:
    return datetime.datetime.fromisoformat(value) if value else None


def open_undo_for(person: InsuredPerson) -> UndoableChange | None:
    """The latest change this person can still undo (for the undo banner)."""
    return UndoableChange.objects.filter(person=person, undone_at__isnull=True,
                                         expires_at__gt=timezone.now()).first()


# -- the beneficiary's order -------------------------------------------------------------------


def set_deduction_order(person: InsuredPerson, sources: list[str], by: By) -> DeductionOrder:
    """The beneficiary chooses which source pays first ("own", "binding:<id>")."""
    from .planning import ordered_sources, source_key

    _must_be(by, person, allow_counter=True)
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


# -- scheduled work ----------------------------------------------------------------------------


def end_by_end_date(binding_id: int, today: datetime.date | None = None) -> bool:
    today = today or timezone.localdate()
    with transaction.atomic():
        binding = _lock_binding(binding_id)
        if not binding.is_live or binding.status == S.PENDING or not binding.end_date or binding.end_date >= today:
            return False
        _end(binding, EndReason.END_DATE, By.system())
    return True


def remind_end_date(binding_id: int, today: datetime.date | None = None) -> bool:
    """Tell both people a few days before the chosen end date. Once per end date."""
    today = today or timezone.localdate()
    with transaction.atomic():
        binding = _lock_binding(binding_id)
        if not binding.is_live or not binding.end_date or binding.end_reminder_sent_on:
            return False
        days = policy_for(binding.holder, today).reminder_days
        if not today <= binding.end_date <= today + datetime.timedelta(days=days):
            return False
        binding.end_reminder_sent_on = today
        binding.save(update_fields=["end_reminder_sent_on", "updated_at"])
        _tell_both(
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
        binding = _lock_binding(binding_id)
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
        _audit("confirmation_requested", binding, By.system(), before)
        notify(
            binding.beneficiary, "pooling.confirm",
            _("Please confirm family pooling with %(holder)s"),
            _("When you were younger, %(holder)s (your %(holder_is)s) let you use their medical insurance account. "
              "You are now old enough to decide yourself: please confirm or end it at %(url)s"),
            _names(binding) | {"url": _absolute(_link("pooling:consent-link", token=consent_token(binding)))},
            link=_link("pooling:consent-link", token=consent_token(binding)),
            dedupe_key=f"pooling.confirm:{binding.pk}",
        )
        notify(
            binding.holder, "pooling.confirm",
            _("%(beneficiary)s is asked to confirm family pooling"),
            _("%(beneficiary)s has reached the age to decide for themselves. Pooling continues while they decide."),
            _names(binding), link=_link("portal:dashboard"), dedupe_key=f"pooling.confirm-holder:{binding.pk}",
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
    _audit("ended", binding, by, before, reason)
    _tell_both(
        binding, "pooling.ended",
        (_("Family pooling with %(beneficiary)s has ended"), _("Reason: %(reason)s.")),
        (_("Family pooling with %(holder)s has ended"), _("Reason: %(reason)s. Your own insurance is not affected.")),
        extra={"reason": EndReason(reason).label},
    )


# -- life events from the registry -------------------------------------------------------------


def handle_person_change(person: InsuredPerson, before: dict[str, Any], after: dict[str, Any], actor: Any,
                         channel: str) -> None:
    """React to a registry change: end or suspend bindings (SPEC §2 life events).

    Runs inside the import transaction. Locks each affected holder row in id order.
    """
    system = By(person, actor if isinstance(actor, User) else None,
                channel if channel in AuditChannel.values else AuditChannel.SYSTEM)
    bindings = list(Binding.objects.live().involving(person).values_list("pk", "holder_id"))
    for holder_id in sorted({h for _pk, h in bindings}):
        _lock_holder(holder_id)
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
        elif as_holder and before.get("region_id") and before.get("region_id") != person.region_id:
            _end(binding, EndReason.HOLDER_LEFT_REGION, system)
        elif not as_holder and before.get("region_id") != person.region_id and not eligibility._in_scope(
            policy_for(binding.holder, today).pooling_scope, binding.holder.region_id, person.region_id
        ):
            _end(binding, EndReason.BENEFICIARY_LEFT_REGION, system)
        elif person.status == InsuranceStatus.SUSPENDED:
            if binding.status == S.PENDING:
                _end(binding, EndReason.INSURANCE_SUSPENDED, system)
            elif binding.status in (S.ACTIVE, S.PAUSED):
                _suspend(binding, system)
        elif person.status == InsuranceStatus.ACTIVE and binding.status == S.SUSPENDED and other.is_active:
            _unsuspend(binding, system)


def _suspend(binding: Binding, by: By) -> None:
    before = binding.snapshot()
    binding.status_before_suspension = binding.status
    binding.set_status(S.SUSPENDED)
    binding.save()
    _audit("suspended", binding, by, before)
    _tell_both(
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
    _audit("unsuspended", binding, by, before)
    _tell_both(
        binding, "pooling.resumed",
        (_("Pooling with %(beneficiary)s works again"), _("Insurance is active again, so pooling is back on.")),
        (_("Pooling with %(holder)s works again"), _("Insurance is active again, so pooling is back on.")),
    )


def record_death(person: InsuredPerson, died_on: datetime.date, by: By) -> None:
    """The bureau records a death: every binding of the person ends."""
    with transaction.atomic():
        InsuredPerson.objects.select_for_update().filter(pk=person.pk).update(died_on=died_on)
        person.died_on = died_on
        audit("registry.death", channel=by.channel, actor=by.user, on_behalf_of=person, obj=person,
              after={"died_on": died_on.isoformat()})
        handle_person_change(person, {}, {}, by.user, by.channel)

