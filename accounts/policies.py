"""The region policy in force, cached for a few seconds per process.

Payments read the policy of the patient's and the holders' regions on every settlement; the
rows change a few times a year. Saving or deleting a policy clears this process's cache at
once; other processes see the change within POLICY_TTL seconds.
"""

from __future__ import annotations

import datetime
import time
from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import RegionPolicy

POLICY_TTL = 10.0
_cache: dict[tuple[str | None, datetime.date], tuple[float, RegionPolicy]] = {}


def policy_in_force(region_id: str | None, day: datetime.date) -> RegionPolicy:
    hit = _cache.get((region_id, day))
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    policy = RegionPolicy.objects.in_force(region_id, day)
    _cache[(region_id, day)] = (time.monotonic() + POLICY_TTL, policy)
    return policy


def forget_policies() -> None:
    _cache.clear()


@receiver(post_save, sender=RegionPolicy)
@receiver(post_delete, sender=RegionPolicy)
def _policy_changed(**_: Any) -> None:
    forget_policies()
