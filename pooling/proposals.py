"""Asking and answering: propose, consent, decline, cancel, expire, remind; consent links and codes.

Views, the counter, admin actions and tasks all call these; see common.py for the shared rules.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import (
    AuditChannel,
    HouseholdMember,
    InsuredPerson,
    RegionPolicy,
    audit,
)
from accounts.notifications import notify

from . import eligibility, households
from .common import (
    By,
    NotEligible,
    PoolingError,
    absolute,
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
    Binding,
    BindingStatus,
    EndReason,
    PledgeText,
)

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
ANSWER_CODE_ATTEMPTS = 5


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
        household=household_verdict(holder, candidate, relationship),
    )


def _members(*people: InsuredPerson | None) -> dict[int, households.Member]:
    ids = [p.pk for p in people if p is not None]
    return {
        person_id: households.Member(household_id, role)
        for person_id, household_id, role in HouseholdMember.objects.filter(person_id__in=ids)
        .values_list("person_id", "household_id", "relationship_to_head")
    }


def household_verdict(holder: InsuredPerson, candidate: InsuredPerson | None, relationship: str) -> str:
    """What the household register says about ``candidate`` being the holder's ``relationship``."""
    if candidate is None:
        return households.UNKNOWN
    members = _members(holder, candidate)
    return households.verdict(members.get(holder.pk), members.get(candidate.pk), relationship)


def other_guardians(binding: Binding) -> list[InsuredPerson]:
    """The minor's parents and grandparents the household register knows, except the holder."""
    child = _members(binding.beneficiary).get(binding.beneficiary_id)
    if child is None:
        return []
    rows = HouseholdMember.objects.filter(household_id=child.household_id).exclude(
        person_id__in=[binding.holder_id, binding.beneficiary_id]
    ).values_list("person_id", "household_id", "relationship_to_head")
    ids = households.guardians_of(child, [(pid, households.Member(hid, role)) for pid, hid, role in rows])
    return list(InsuredPerson.objects.filter(pk__in=ids, died_on__isnull=True).order_by("pk"))


def _tell_guardians(binding: Binding, waiting: bool) -> None:
    """Tell every other guardian the register knows that someone bound (or asked to bind) the child."""
    for guardian in other_guardians(binding):
        if waiting:
            notify(
                guardian, "pooling.minor_requested",
                _("%(holder)s asked to share their medical insurance account with %(beneficiary)s"),
                _("%(holder)s asked to add %(beneficiary)s (a minor in your household) to family pooling as their "
                  "%(beneficiary_is)s. Nothing is active: a service counter must first see the household register "
                  "or birth certificate. If you do not know about this, please contact your medical insurance "
                  "bureau."),
                names_of(binding), link=link_to("portal:dashboard"),
                dedupe_key=f"pooling.minor_requested:{binding.pk}:{guardian.pk}",
            )
        else:
            notify(
                guardian, "pooling.minor_bound",
                _("%(beneficiary)s was added to family pooling by %(holder)s"),
                _("%(holder)s now shares their medical insurance account with %(beneficiary)s (a minor in your "
                  "household, their %(beneficiary_is)s). %(holder)s will see what is paid from that account. If you "
                  "do not know about this, please contact your medical insurance bureau or a service counter."),
                names_of(binding), link=link_to("portal:dashboard"),
                dedupe_key=f"pooling.minor_bound:{binding.pk}:{guardian.pk}",
            )


def propose_binding(
    holder: InsuredPerson, candidate: InsuredPerson | None, relationship: str, by: By, *,
    end_date: datetime.date | None = None, consent_documents: Iterable[str] = (), pledge: PledgeText | None = None,
) -> Binding:
    """The holder asks to share their account with ``candidate``.

    Refused with every reason when not eligible. A child under the policy age bound by a
    parent or grandparent is active at once; at a counter with the documents checked, the
    assistant may record the relative's consent on the spot (``consent_documents``). ``pledge``:
    the terms and personal pledge the holder read and confirmed (version and time are kept).
    """
    today = timezone.localdate()
    now = timezone.now()
    documents = list(consent_documents)
    with transaction.atomic():
        holder = lock_holder(holder.pk)
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
        minor = answer.joins_at_once or answer.awaits_counter
        binding = Binding(
            holder=holder, beneficiary=candidate, relationship=relationship, end_date=end_date,
            status=S.ACTIVE if at_once else S.PENDING, created_at=now,
            consent_deadline=None if at_once else now + datetime.timedelta(days=policy.consent_days),
            activated_at=now if at_once else None, auto_activated=minor and at_once,
            awaits_counter=answer.awaits_counter and not at_once,
            consented_at=now if documents else None, consent_channel=by.channel if documents else "",
            consent_documents=documents, flagged_for_review=bool(answer.review_flags),
            review_reasons=answer.review_flags,
            pledge_version=pledge.version if pledge else None, pledge_language=pledge.language if pledge else "",
            pledged_at=now if pledge else None,
        )
        try:
            with transaction.atomic():
                binding.save()
        except IntegrityError:
            raise PoolingError(_("This relative is already on your list."), "already_bound") from None
        audit_binding("proposed", binding, by, note="minor: confirmed by the household register, active at once"
                      if answer.joins_at_once else ("consent recorded at the counter" if documents else
                      ("minor: waits for a counter to see the documents" if binding.awaits_counter else "")))
        if pledge is not None:
            audit("pooling.pledged", channel=by.channel, actor=by.user, on_behalf_of=by.person, obj=binding,
                  after={"version": pledge.version, "language": pledge.language})
        if minor:
            _tell_guardians(binding, waiting=binding.status == S.PENDING)
        if binding.awaits_counter:
            notify(
                binding.holder, "pooling.proposed",
                _("Your request for %(beneficiary)s waits for a service counter"),
                _("%(beneficiary)s is a minor, and the household register does not show that you are their parent "
                  "or grandparent. Pooling starts only after a service counter has seen the household register or "
                  "birth certificate. Please visit a counter with them by %(deadline)s."),
                names_of(binding) | {"deadline": timezone.localtime(binding.consent_deadline).strftime("%Y-%m-%d")},
                link=link_to("portal:dashboard"),
            )
        elif binding.status == S.ACTIVE:
            tell_both(
                binding, "pooling.active",
                (_("%(beneficiary)s can now use your medical insurance account"),
                 _("Family pooling with %(beneficiary)s (your %(beneficiary_is)s) is active. You can set limits "
                   "or end it at any time on your family pooling page.")),
                (_("%(holder)s now shares their medical insurance account with you"),
                 _("%(holder)s (your %(holder_is)s) shares their personal account with you. Your own account is "
                   "used first, then theirs. You can end this at any time.")
                 if binding.beneficiary.has_personal_account else
                 # Resident insurance has no personal account: never "your own account first".
                 _("%(holder)s (your %(holder_is)s) shares their personal account with you: at a hospital or "
                   "pharmacy, your costs can be paid from it. You can end this at any time.")),
            )
        else:
            code = _new_answer_code(binding)
            link = link_to("pooling:consent-link", token=consent_token(binding))
            # The link alone never answers: the page asks for the code from this same message. The
            # inbox (which staff can see in admin) links to the relative's own logged-in page instead.
            if has_portal_login(binding.beneficiary):
                body = _("%(holder)s (your %(holder_is)s) asks to let you pay your medical costs from their personal "
                         "account. Please answer by %(deadline)s: open %(url)s and enter the code %(code)s (the link "
                         "alone does not answer), log in to the portal, or visit a service counter. Never tell anyone "
                         "this code, not even staff.")
            else:
                # No portal log-in: never send them to log in; the counter or the hotline instead.
                body = _("%(holder)s (your %(holder_is)s) asks to let you pay your medical costs from their personal "
                         "account. Please answer by %(deadline)s: open %(url)s and enter the code %(code)s (the link "
                         "alone does not answer), or visit a medical insurance service counter with your ID card, or "
                         "call 12393. Never tell anyone this code, not even staff.")
            notify(
                binding.beneficiary, "pooling.request",
                _("%(holder)s wants to share their medical insurance account with you"),
                body,
                names_of(binding) | {"deadline": timezone.localtime(binding.consent_deadline).strftime("%Y-%m-%d"),
                                   "url": absolute(link), "code": code},
                link=link_to("pooling:answer", pk=binding.pk),
            )
            notify(
                binding.holder, "pooling.proposed",
                _("Request sent to %(beneficiary)s"),
                _("We asked %(beneficiary)s (your %(beneficiary_is)s) to agree. The request waits until "
                  "%(deadline)s."),
                names_of(binding) | {"deadline": timezone.localtime(binding.consent_deadline).strftime("%Y-%m-%d")},
                link=link_to("portal:dashboard"),
                inbox_only=by.person is not None and by.person.pk == binding.holder_id,  # their own action
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


def consent_binding(binding: Binding, by: By, *, documents: Iterable[str] = (), terms: PledgeText | None = None,
                    ) -> Binding:
    """The relative agrees (or, turned the consent age, confirms a binding made for them as a child).

    ``terms``: the version of the terms the relative was shown before agreeing (kept with the binding).
    """
    documents = list(documents)
    now = timezone.now()
    with transaction.atomic():
        binding = lock_binding(binding.pk)
        must_be(by, binding.beneficiary, allow_counter=True, home=binding.holder)
        if documents or by.channel == AuditChannel.COUNTER:
            _check_documents(documents, by)
        if binding.awaits_counter and binding.status == S.PENDING and by.channel != AuditChannel.COUNTER:
            raise PoolingError(_("This request waits for a service counter to see the household register or birth "
                                 "certificate. Please visit a counter together."), "awaits_counter")
        before = binding.snapshot()
        minor_checked = binding.awaits_counter and binding.status == S.PENDING
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
        # A minor completed at the counter has not consented themselves: like a child bound by a
        # confirmed parent, they are asked to confirm when they reach the consent age.
        binding.consented_at = None if minor_checked else now
        binding.consent_channel = by.channel
        binding.consent_documents = documents
        if terms is not None:
            binding.consent_terms_version, binding.consent_terms_language = terms.version, terms.language
        if minor_checked:
            binding.awaits_counter = False
            binding.auto_activated = True
        binding.save()
        audit_binding("consented", binding, by, before)
        if minor_checked:
            _tell_guardians(binding, waiting=False)
        tell_both(
            binding, "pooling.active",
            (_("%(beneficiary)s agreed to family pooling"),
             _("%(beneficiary)s (your %(beneficiary_is)s) agreed. They can now pay medical costs from your account. "
               "You can set limits or end it at any time.")),
            (_("Family pooling with %(holder)s is active"),
             _("You agreed to use the account of %(holder)s (your %(holder_is)s). Your own account is used first. "
               "You can end this at any time.")
             if binding.beneficiary.has_personal_account else
             _("You agreed to use the account of %(holder)s (your %(holder_is)s). At a hospital or pharmacy, your "
               "costs can now be paid from it. You can end this at any time.")),
        )
    return binding


def decline_binding(binding: Binding, by: By, note: str = "") -> Binding:
    """The relative says no (a young person who turned the consent age ends the binding)."""
    with transaction.atomic():
        binding = lock_binding(binding.pk)
        must_be(by, binding.beneficiary, allow_counter=True)
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
        audit_binding("declined", binding, by, before, note)
        tell_both(
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
        binding = lock_binding(binding.pk)
        must_be(by, binding.holder, allow_counter=True)
        if binding.status != S.PENDING:
            raise PoolingError(_("Only a request that is still waiting can be withdrawn."), "not_pending")
        before = binding.snapshot()
        binding.set_status(S.CANCELLED)
        binding.ended_at = timezone.now()
        binding.save()
        audit_binding("cancelled", binding, by, before)
        tell_both(
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
        binding = lock_binding(binding_id)
        if binding.status != S.PENDING or not binding.consent_deadline or binding.consent_deadline > now:
            return False
        before = binding.snapshot()
        binding.set_status(S.EXPIRED)
        binding.ended_at = now
        binding.save()
        audit_binding("expired", binding, By.system(), before)
        tell_both(
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
        binding = lock_binding(binding_id)
        if binding.status != S.PENDING or binding.reminded_at or not binding.consent_deadline:
            return False
        if binding.awaits_counter:
            return False  # nobody can answer it by a message: the counter completes it
        if binding.consent_deadline - now > datetime.timedelta(days=2) or binding.consent_deadline <= now:
            return False
        binding.reminded_at = now
        binding.save(update_fields=["reminded_at", "updated_at"])
        notify(
            binding.beneficiary, "pooling.reminder",
            _("Reminder: %(holder)s is waiting for your answer"),
            _("%(holder)s (your %(holder_is)s) asked to share their medical insurance account with you. "
              "The request ends on %(deadline)s. To answer, open %(url)s"),
            names_of(binding) | {"deadline": timezone.localtime(binding.consent_deadline).strftime("%Y-%m-%d"),
                               "url": absolute(link_to("pooling:consent-link", token=consent_token(binding)))},
            link=link_to("pooling:answer", pk=binding.pk),
            dedupe_key=f"pooling.reminder:{binding.pk}",
        )
    return True


def has_portal_login(person: InsuredPerson) -> bool:
    """Whether the person has a portal log-in (messages to people without one never say "log in")."""
    from accounts.models import User

    return User.objects.filter(person_id=person.pk, is_active=True).exists()


def consent_token(binding: Binding) -> str:
    """A signed token for the consent link; any change to the binding invalidates it."""
    return signing.dumps({"b": binding.pk, "v": binding.version}, salt=TOKEN_SALT)


def binding_from_token(token: str) -> Binding:
    """The pending binding a consent link points at, or a PoolingError saying why not."""
    try:
        data = signing.loads(token, salt=TOKEN_SALT, max_age=60 * 60 * 24 * 60)
    except signing.BadSignature:
        raise PoolingError(_("This link is not valid. Please answer at a medical insurance service counter or call 12393 "
                             "(or in the portal, if you have a portal log-in)."), "bad_token") from None
    binding = Binding.objects.with_people().filter(pk=data.get("b")).first()
    if binding is None or binding.version != data.get("v"):
        raise PoolingError(_("This request has already been answered or has changed. A service counter or the hotline 12393 "
                             "can tell you where it stands (or see it in the portal, if you have a portal log-in)."),
                           "stale_token")
    return binding


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


def check_answer_code(binding: Binding, code: str) -> None:
    """The code from the request message must match before a link can answer; wrong codes are counted."""
    from django.utils.crypto import constant_time_compare

    code = "".join(ch for ch in (code or "") if ch.isdigit())
    with transaction.atomic():
        locked = lock_binding(binding.pk)
        if not locked.answer_code_hash or locked.answer_code_attempts >= ANSWER_CODE_ATTEMPTS:
            if not has_portal_login(locked.beneficiary):
                raise PoolingError(_("Too many wrong codes. Please visit a medical insurance service counter with "
                                     "your ID card, or call 12393."), "locked")
            raise PoolingError(_("Too many wrong codes. Please log in to the portal or visit a service counter."),
                               "locked")
        if len(code) == 6 and constant_time_compare(locked.answer_code_hash, _code_hash(locked.pk, code)):
            return
        locked.answer_code_attempts += 1
        locked.save(update_fields=["answer_code_attempts", "updated_at"])
    if not code:
        raise PoolingError(_("Please enter the 6-digit code from the same text message. The link alone does not "
                             "answer the request."), "code_required")
    raise PoolingError(_("This code is not right. Please check the text message and try again."), "bad_code")


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
