"""What a region-policy change tightens, and (through registered providers) whom it touches.

A policy row is data the bureau edits in admin. Before a change that tightens a rule is saved
(fewer relationships, a lower maximum, a narrower scope, fewer spending categories), admin
shows a preview: this module finds the tightened rules (pure), and the apps above register
functions that count the people and bindings each one touches (``register_impact``), since
accounts knows nothing of bindings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .models import PoolingScope, RegionPolicy

SCOPE_WIDTH: dict[str, int] = {PoolingScope.REGION: 0, PoolingScope.PROVINCE: 1, PoolingScope.NATIONAL: 2}


@dataclass
class Tightening:
    """One rule made stricter: ``rule`` is the field; ``removed`` the values no longer allowed."""

    rule: str
    before: Any
    after: Any
    removed: list[str] = field(default_factory=list)


@dataclass
class Impact:
    """What happens to whom: a sentence, and how many people and bindings it touches."""

    text: str
    people: int
    bindings: int


ImpactProvider = Callable[[RegionPolicy, list[Tightening]], list[Impact]]
_providers: list[ImpactProvider] = []


def register_impact(provider: ImpactProvider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def tightenings(before: RegionPolicy, after: RegionPolicy) -> list[Tightening]:
    """The rules ``after`` makes stricter than ``before`` (empty: nothing tightened)."""
    found = []
    removed = [r for r in before.allowed_relationships or [] if r not in (after.allowed_relationships or [])]
    if removed:
        found.append(Tightening("allowed_relationships", before.allowed_relationships, after.allowed_relationships,
                                removed))
    if after.max_beneficiaries < before.max_beneficiaries:
        found.append(Tightening("max_beneficiaries", before.max_beneficiaries, after.max_beneficiaries))
    if SCOPE_WIDTH.get(after.pooling_scope, 0) < SCOPE_WIDTH.get(before.pooling_scope, 0):
        found.append(Tightening("pooling_scope", before.pooling_scope, after.pooling_scope))
    removed = [c for c in before.allowed_categories or [] if c not in (after.allowed_categories or [])]
    if removed:
        found.append(Tightening("allowed_categories", before.allowed_categories, after.allowed_categories, removed))
    return found


def impacts(after: RegionPolicy, found: list[Tightening]) -> list[Impact]:
    result: list[Impact] = []
    for provider in _providers:
        result.extend(provider(after, found))
    return result


def policy_above(region_id: str | None, day: Any = None) -> RegionPolicy:
    """The values in force for a region before it has its own row (city -> province -> national)."""
    return RegionPolicy.objects.in_force(region_id, day)
