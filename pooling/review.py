"""The bureau's review of flagged bindings: confirm, reject, or ask for proof at a counter.

A binding is flagged when the ages in the ID numbers do not fit the relationship
(``eligibility._age_warnings``). A reviewer of the holder's region then:

- confirms it (nothing changes for the family);
- rejects it: it ends (or, while pending, is cancelled) with a reason told to both people;
- asks for proof: no payments from it (status AWAITING_PROOF) until a counter assistant has
  seen proof of the relationship and records it with ``verify_relationship_proof``.

Each is one atomic, audited function, as in ``proposals`` and ``changes``.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .common import By, PoolingError, audit_binding, lock_binding, tell_both
from .models import Binding, BindingStatus, EndReason

S = BindingStatus


class RejectReason:
    """Why the bureau rejects a relationship: a short list, shown to both people."""

    AGES = "ages"
    NO_PROOF = "no_proof"
    NOT_RELATED = "not_related"
    CHOICES = [
        (AGES, _("The ages in the ID numbers do not fit this relationship")),
        (NO_PROOF, _("No proof of the relationship was shown at a counter")),
        (NOT_RELATED, _("The registry shows no such family relationship")),
    ]
    LABELS = dict(CHOICES)


def _reviewed(binding: Binding, by: By) -> None:
    binding.flagged_for_review = False
    binding.reviewed_at = timezone.now()
    binding.reviewed_by = by.user


def confirm_review(binding: Binding, by: By) -> Binding:
    """The reviewer accepts the relationship: the flag is cleared, nothing else changes."""
    with transaction.atomic():
        binding = lock_binding(binding.pk)
        if not binding.flagged_for_review:
            raise PoolingError(_("This binding is not waiting for review."), "not_flagged")
        reasons = binding.review_reasons
        _reviewed(binding, by)
        binding.save(update_fields=["flagged_for_review", "reviewed_at", "reviewed_by", "updated_at"])
        audit_binding("reviewed", binding, by, {"review_reasons": reasons}, note="confirmed")
    return binding


def reject_binding(binding: Binding, by: By, reason: str, note: str = "") -> Binding:
    """The reviewer does not accept the relationship: the binding ends and both people are told why."""
    if reason not in RejectReason.LABELS:
        raise PoolingError(_("Choose a reason from the list."), "bad_reason")
    with transaction.atomic():
        binding = lock_binding(binding.pk)
        if not binding.is_live:
            raise PoolingError(_("This binding has already ended."), "not_live")
        before = binding.snapshot()
        binding.set_status(S.CANCELLED if binding.status == S.PENDING else S.ENDED)
        binding.ended_at = timezone.now()
        binding.end_reason = EndReason.BUREAU_REJECTED
        binding.end_note = str(RejectReason.LABELS[reason]) + (f" — {note}" if note else "")
        binding.proof_requested_at = None
        _reviewed(binding, by)
        binding.save()
        audit_binding("rejected", binding, by, before, note=reason)
        tell_both(
            binding, "pooling.rejected",
            (_("Family pooling with %(beneficiary)s has ended"),
             _("The medical insurance bureau could not accept the relationship: %(reason)s. Payments from your "
               "account for %(beneficiary)s have stopped. For questions, visit a counter with proof of the "
               "relationship.")),
            (_("Family pooling with %(holder)s has ended"),
             _("The medical insurance bureau could not accept the relationship: %(reason)s. Your own insurance is "
               "not affected. For questions, visit a counter with proof of the relationship.")),
            extra={"reason": RejectReason.LABELS[reason]},
        )
    return binding


def require_proof(binding: Binding, by: By) -> Binding:
    """Payments from the binding stop until a counter has seen proof of the relationship."""
    with transaction.atomic():
        binding = lock_binding(binding.pk)
        if binding.status not in (S.ACTIVE, S.PAUSED):
            raise PoolingError(_("Proof can be asked for once the relative has agreed (active or paused pooling). "
                                 "Confirm or reject a request that is still waiting for an answer."), "not_active")
        before = binding.snapshot()
        binding.set_status(S.AWAITING_PROOF)
        binding.proof_requested_at = timezone.now()
        _reviewed(binding, by)
        binding.save()
        audit_binding("proof_requested", binding, by, before)
        tell_both(
            binding, "pooling.proof_requested",
            (_("Please show proof of your relationship with %(beneficiary)s"),
             _("The medical insurance bureau asks you to bring proof that %(beneficiary)s is your %(beneficiary_is)s "
               "(household register, marriage or birth certificate) and both ID cards to a counter. Until then no "
               "payments can be made from your account for %(beneficiary)s.")),
            (_("Please show proof of your relationship with %(holder)s"),
             _("The medical insurance bureau asks for proof that %(holder)s is your %(holder_is)s (household "
               "register, marriage or birth certificate) at a counter. Until then you cannot pay from the account "
               "of %(holder)s.")),
        )
    return binding


def verify_relationship_proof(binding: Binding, by: By, documents: list[str]) -> Binding:
    """A counter assistant has seen the proof the bureau asked for: payments may start again."""
    if "relationship_proof" not in documents:
        raise PoolingError(_("Record the proof of the relationship you have seen."), "documents_missing")
    with transaction.atomic():
        binding = lock_binding(binding.pk)
        if binding.proof_requested_at is None:
            raise PoolingError(_("No proof was asked for this binding."), "no_proof_asked")
        before = binding.snapshot()
        binding.proof_requested_at = None
        binding.consent_documents = sorted(set(binding.consent_documents or []) | set(documents))
        if binding.status == S.AWAITING_PROOF:
            binding.set_status(S.ACTIVE)
        binding.save()
        audit_binding("proof_verified", binding, by, before, note=",".join(documents))
        if binding.status == S.ACTIVE:
            tell_both(
                binding, "pooling.resumed",
                (_("Pooling with %(beneficiary)s works again"),
                 _("The proof of your relationship was checked, so pooling is back on.")),
                (_("Pooling with %(holder)s works again"),
                 _("The proof of your relationship was checked, so pooling is back on.")),
            )
    return binding
