"""Demo bindings for `make run` (called by portal/demo.py with the demo people). Idempotent.

张伟 (holder) shares with his mother (active, ¥500 a month) and his 10-year-old son (joined at
once: the household register shows 张伟 as the head and the boy as his child; his wife 王丽, in
the same household, is told); his wife 王丽 has a request waiting. 张建国 (the father) also shares with the mother, so
her page shows two sources and the order preview.
"""

from __future__ import annotations

from accounts.models import AuditChannel, HouseholdMember, InsuredPerson

from . import changes, common, proposals
from .common import By
from .models import Binding, UndoableChange

SYSTEM = AuditChannel.SYSTEM


def _bind(holder: InsuredPerson, relative: InsuredPerson, relationship: str, *, consent: bool,
          monthly_cap_fen: int | None = None) -> str:
    existing = Binding.objects.live().filter(holder=holder, beneficiary=relative).first()
    if existing is not None:
        return f"  {holder.name} → {relative.name}: already {existing.status}"
    try:
        binding = proposals.propose_binding(holder, relative, relationship, By(holder, None, SYSTEM))
        if consent and binding.status == "pending":
            binding = proposals.consent_binding(binding, By(relative, None, SYSTEM))
        if monthly_cap_fen is not None:
            binding, change = changes.set_limits(binding, By(holder, None, SYSTEM), per_payment_fen=None,
                                                  monthly_fen=monthly_cap_fen, annual_fen=None)
            if change is not None:  # demo set-up, not a change the holder may want to undo
                UndoableChange.objects.filter(pk=change.pk).delete()
    except common.NotEligible as refused:
        return f"  {holder.name} → {relative.name}: not possible ({', '.join(refused.answer.codes)})"
    return f"  {holder.name} → {relative.name}: {binding.status}"


def _household(people: dict[str, InsuredPerson]) -> None:
    """张伟's household registration (户籍): he is the head, 王丽 his wife, 张小明 their son."""
    for key, role in (("holder", "head"), ("spouse", "spouse"), ("son", "child")):
        if key in people:
            HouseholdMember.objects.get_or_create(person=people[key], defaults={
                "household_id": "DEMO-460100-0001", "relationship_to_head": role})


def seed(people: dict[str, InsuredPerson]) -> list[str]:
    lines = ["Family pooling (demo):"]
    _household(people)
    lines.append(_bind(people["holder"], people["mother"], "parent", consent=True, monthly_cap_fen=50_000))
    lines.append(_bind(people["holder"], people["son"], "child", consent=False))
    lines.append(_bind(people["holder"], people["spouse"], "spouse", consent=False))
    lines.append(_bind(people["father"], people["mother"], "spouse", consent=True))
    lines.append("  try: 张伟 adds his sister 张敏 (insured in 三亚: refused with the reason) or his uncle 张国栋")
    return lines + [""]
