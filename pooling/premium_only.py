"""Premium-only relatives (as Fujian's 临时成员): bound so the holder can pay their resident premium.

Such a binding gives no spending rights (the planner never uses it) and costs the relative
nothing, so it is active at once, with a notice to both; either side can end it like any other.
It is allowed when the relative is in resident insurance that is active or suspended (for
non-payment: the person who most needs a premium paid), for the relationships the holder's
region allows, inside the policy's premium scope (``RegionPolicy.premium_scope``, independent
of the pooling scope). It takes a slot like any live binding.
"""

from __future__ import annotations

import copy
import dataclasses

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import InsuranceStatus, InsuredPerson, Scheme

from . import eligibility
from .common import By, NotEligible, PoolingError, audit_binding, lock_holder, must_be, policy_for, tell_both
from .models import Binding, BindingKind, BindingStatus

S = BindingStatus


def check_premium_only(holder: InsuredPerson, candidate: InsuredPerson | None, relationship: str) -> eligibility.Answer:
    """The eligibility answer for a premium-only binding (every reason, as for a proposal)."""
    from payments.ledger import balance_of

    from .proposals import counts_for

    today = timezone.localdate()
    policy = copy.copy(policy_for(holder, today))
    policy.pooling_scope = policy.premium_scope  # where premiums may be paid, not where pooling may be
    counts = counts_for(holder, candidate, policy, balance_of(holder) if holder.has_personal_account else None)
    facts = eligibility.PersonFacts.unknown()
    if candidate is not None:
        facts = eligibility.PersonFacts.of(candidate)
        if candidate.status == InsuranceStatus.SUSPENDED:  # lapsed for non-payment: paying is the point
            facts = dataclasses.replace(facts, status=InsuranceStatus.ACTIVE)
    answer = eligibility.check_binding(
        eligibility.PersonFacts.of(holder), facts, relationship, policy, today, counts,
        same_person=candidate is not None and candidate.pk == holder.pk,
    )
    reasons = list(answer.reasons)
    if candidate is not None and candidate.scheme != Scheme.RESIDENT:
        reasons.append(eligibility.Reason(
            "not_resident",
            _("A relative can be added for premiums only when they are in urban-rural resident insurance."),
            _("Your relative pays their own insurance through their employer; add them for family pooling instead."),
        ))
    return eligibility.Answer(reasons=reasons, warnings=[w for w in answer.warnings if w.code != "zero_balance"])


def add_premium_only(holder: InsuredPerson, candidate: InsuredPerson | None, relationship: str, by: By) -> Binding:
    """Bind ``candidate`` for premiums only (active at once; no spending rights)."""
    must_be(by, holder, allow_counter=True)
    now = timezone.now()
    with transaction.atomic():
        holder = lock_holder(holder.pk)
        answer = check_premium_only(holder, candidate, relationship)
        if not answer.ok:
            raise NotEligible(answer)
        assert candidate is not None
        binding = Binding(
            holder=holder, beneficiary=candidate, relationship=relationship, kind=BindingKind.PREMIUM_ONLY,
            status=S.ACTIVE, created_at=now, activated_at=now, flagged_for_review=bool(answer.review_flags),
            review_reasons=answer.review_flags,
        )
        try:
            with transaction.atomic():
                binding.save()
        except IntegrityError:
            raise PoolingError(_("This relative is already on your list."), "already_bound") from None
        audit_binding("premium_only_added", binding, by)
        tell_both(
            binding, "pooling.premium_only",
            (_("%(beneficiary)s added for premiums only"),
             _("You can now pay the resident insurance premium of %(beneficiary)s (your %(beneficiary_is)s) from "
               "your personal account. They cannot spend from your account.")),
            (_("%(holder)s can pay your resident insurance premium"),
             _("%(holder)s (your %(holder_is)s) added you so they can pay your resident insurance premium. This "
               "does not let you spend from their account, and costs you nothing. You can end it at any time.")),
        )
    return binding
