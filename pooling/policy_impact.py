"""How a tightened region policy touches bindings: counts for the admin preview.

Registered with ``accounts.policy_changes.register_impact``. The sentences say what really
happens: relationships, the maximum and the scope are checked when a relative is added, so
existing bindings stay and new requests are refused; spending categories are checked on every
payment, so payments for a removed category stop from the effective date.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, F, Q
from django.utils.translation import gettext as _

from accounts.models import PoolingScope, RegionPolicy, Relationship, SpendingCategory
from accounts.policy_changes import Impact, Tightening
from accounts.scoping import region_prefix_of

from .models import Binding, BindingStatus


def _bindings_under(policy: RegionPolicy) -> Q:
    """Live bindings whose holder's region takes its rules from this row (its region and below)."""
    q = Q(status__in=[s.value for s in (BindingStatus.PENDING, BindingStatus.ACTIVE, BindingStatus.PAUSED,
                                        BindingStatus.SUSPENDED, BindingStatus.AWAITING_PROOF)])
    if policy.region_id:
        q &= Q(holder__region__code__startswith=region_prefix_of(policy.region_id))
    return q


def _people(rows: list[tuple[int, int]]) -> int:
    return len({p for pair in rows for p in pair})


def _labels(values: list[str], choices: Any) -> str:
    labels = dict(choices.choices)
    return "、".join(str(labels.get(v, v)) for v in values) if values else ""


def binding_impacts(policy: RegionPolicy, found: list[Tightening]) -> list[Impact]:
    live = Binding.objects.filter(_bindings_under(policy))
    day = policy.effective_from
    result = []
    for change in found:
        if change.rule == "allowed_relationships":
            rows = list(live.filter(relationship__in=change.removed).values_list("holder_id", "beneficiary_id"))
            result.append(Impact(_(
                "No longer allowed: %(what)s. %(n)d bindings of these kinds stay in force; new requests for them "
                "are refused from %(day)s.") % {"what": _labels(change.removed, Relationship), "n": len(rows),
                                                 "day": day}, _people(rows), len(rows)))
        elif change.rule == "max_beneficiaries":
            over = list(live.values("holder_id").annotate(n=Count("id")).filter(n__gt=change.after)
                        .values_list("holder_id", flat=True))
            rows = list(live.filter(holder_id__in=over).values_list("holder_id", "beneficiary_id"))
            result.append(Impact(_(
                "Maximum lowered from %(before)d to %(after)d relatives: %(holders)d account holders already have "
                "more. Their bindings stay; they cannot add anyone until they are below the new maximum.")
                % {"before": change.before, "after": change.after, "holders": len(over)}, _people(rows), len(rows)))
        elif change.rule == "pooling_scope":
            candidates = live.exclude(beneficiary__region__code=F("holder__region__code"))
            rows = [
                (h, b) for h, b, hr, br in candidates.values_list(
                    "holder_id", "beneficiary_id", "holder__region__code", "beneficiary__region__code")
                if not _in_scope(change.after, hr, br)
            ]
            result.append(Impact(_(
                "Area narrowed to: %(scope)s. %(n)d bindings with relatives insured outside it stay in force; new "
                "requests for such relatives are refused from %(day)s.")
                % {"scope": PoolingScope(change.after).label, "n": len(rows), "day": day}, _people(rows), len(rows)))
        elif change.rule == "allowed_categories":
            rows = list(live.filter(status=BindingStatus.ACTIVE).values_list("holder_id", "beneficiary_id"))
            result.append(Impact(_(
                "Pooled money can no longer pay for: %(what)s. From %(day)s, payments of this kind from a relative's "
                "account are refused for the %(n)d active bindings.")
                % {"what": _labels(change.removed, SpendingCategory), "day": day, "n": len(rows)},
                _people(rows), len(rows)))
    return result


def _in_scope(scope: str, holder_region: str, relative_region: str) -> bool:
    from .eligibility import _in_scope as rule

    return rule(scope, holder_region, relative_region)
