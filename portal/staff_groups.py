"""The bureau's staff groups: an administrator and a viewer at each level (city, province, nation).

Groups grant what a member may do; which rows they may do it to is their region
(``accounts.scoping``): a city or province office's region, or the whole country for the
national groups. Created by ``portal/migrations/0002_staff_groups.py``; a later migration that
adds a model calls ``sync_staff_groups`` again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accounts import scoping

# What every viewer reads (app_label.model); administrators also change the "edited" ones.
VIEWED = [
    "accounts.region", "accounts.regionpolicy", "accounts.insuredperson", "accounts.office",
    "accounts.auditevent", "accounts.notification",
    "pooling.binding", "pooling.guide", "pooling.guidestep",
    "payments.institution", "payments.settlement", "payments.premiumpayment",
    "statements.statementrun", "statements.monthlystatement",
]
EDITED = {
    "accounts.regionpolicy": ("add", "change"),
    "accounts.insuredperson": ("change",),
    "accounts.office": ("add", "change"),
    "pooling.binding": ("change",),
    "pooling.guide": ("add", "change", "delete"),
    "pooling.guidestep": ("add", "change", "delete"),
    "payments.institution": ("add", "change"),
}
NATIONAL_EXTRA_VIEWED = ["accounts.user", "auth.group"]
NATIONAL_EXTRA_EDITED = {"accounts.user": ("add", "change")}


def _viewer(extra: list[str]) -> list[tuple[str, str]]:
    return [(label.split(".")[0], f"view_{label.split('.')[1]}") for label in VIEWED + extra]


def _administrator(extra_viewed: list[str], extra_edited: Mapping[str, tuple[str, ...]]) -> list[tuple[str, str]]:
    perms = _viewer(extra_viewed)
    for label, verbs in {**EDITED, **extra_edited}.items():
        app, model = label.split(".")
        perms += [(app, f"{verb}_{model}") for verb in verbs]
    return perms


STAFF_GROUPS: dict[str, list[tuple[str, str]]] = {
    scoping.CITY_VIEWER: _viewer([]),
    scoping.CITY_ADMINISTRATOR: _administrator([], {}),
    scoping.PROVINCE_VIEWER: _viewer([]),
    scoping.PROVINCE_ADMINISTRATOR: _administrator([], {}),
    scoping.NATIONAL_VIEWER: _viewer(NATIONAL_EXTRA_VIEWED),
    scoping.NATIONAL_ADMINISTRATOR: _administrator(NATIONAL_EXTRA_VIEWED, NATIONAL_EXTRA_EDITED),
}


def sync_staff_groups(apps: Any) -> None:
    """Create the groups and set their permissions (models not installed yet are skipped)."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        # A migration's app configs are stubs without a models module, which create_permissions
        # skips; lend them one for the call and give back what was there (the project's real
        # registry, when this runs outside a migration, keeps its modules).
        kept = getattr(app_config, "models_module", None)
        app_config.models_module = kept or True
        try:
            create_permissions(app_config, apps=apps, verbosity=0)
        finally:
            app_config.models_module = kept
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, wanted in STAFF_GROUPS.items():
        group, _created = Group.objects.get_or_create(name=name)
        perms = [
            perm for app, codename in wanted
            if (perm := Permission.objects.filter(content_type__app_label=app, codename=codename).first())
        ]
        group.permissions.set(perms)
