"""Staff see and change only their own region: the rule every admin page applies.

A staff user's scope is the region of their office: a city office (e.g. 海口 460100) covers
every division code starting 4601, a province office (460000) every code starting 46. A
superuser, or a member of a national group, covers the whole country. A staff user with
neither an office nor a national group covers nothing.

Admin classes inherit ``RegionScopedAdmin`` and name the lookups that lead to a region code
(``region_paths``). Django admin reads objects through ``get_queryset`` for the list, the change
page, history, deletion and actions, so a row of another region answers exactly like a missing
one. Region choices in forms are limited the same way, so nobody can create or move a row
into another region.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest

NATIONAL = ""  # the prefix every code starts with

# Groups, one administrator and one viewer per level (created by portal's data migration).
CITY_ADMINISTRATOR = "市级医保局管理员"
CITY_VIEWER = "市级医保局查看员"
PROVINCE_ADMINISTRATOR = "省级医保局管理员"
PROVINCE_VIEWER = "省级医保局查看员"
NATIONAL_ADMINISTRATOR = "国家医保局管理员"
NATIONAL_VIEWER = "国家医保局查看员"
NATIONAL_GROUPS = (NATIONAL_ADMINISTRATOR, NATIONAL_VIEWER)


def region_prefix_of(code: str) -> str:
    """The prefix of the codes a region covers: 46 for 460000, 4601 for 460100, itself otherwise."""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def staff_prefix(user: Any) -> str | None:
    """The code prefix the user may see ("" = the whole country), or None for nothing."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if hasattr(user, "_region_prefix"):
        cached: str | None = user._region_prefix
        return cached
    prefix: str | None
    if user.is_superuser or user.groups.filter(name__in=NATIONAL_GROUPS).exists():
        prefix = NATIONAL
    elif user.office_id:
        prefix = region_prefix_of(user.office.region_id)
    else:
        prefix = None
    user._region_prefix = prefix
    return prefix


def is_national(user: Any) -> bool:
    return staff_prefix(user) == NATIONAL


def region_q(user: Any, *paths: str) -> Q:
    """A filter keeping rows whose region (through any of ``paths``) is in the user's scope."""
    prefix = staff_prefix(user)
    if prefix is None:
        return Q(pk__in=[])
    if prefix == NATIONAL:
        return Q()
    q = Q()
    for path in paths:
        q |= Q(**{f"{path}__startswith": prefix})
    return q


def in_scope(user: Any, code: str | None) -> bool:
    """May the user act on something of this region? (None = national rows: national staff only.)"""
    prefix = staff_prefix(user)
    if prefix is None:
        return False
    if code is None:
        return prefix == NATIONAL
    return code.startswith(prefix)


def scope_queryset(queryset: QuerySet[Any], user: Any, paths: tuple[str, ...]) -> QuerySet[Any]:
    return queryset.filter(region_q(user, *paths))


class RegionScopedAdmin(admin.ModelAdmin):
    """A ModelAdmin whose rows, filters, actions and region choices stop at the staff's region."""

    # Lookups from the model to a region code, e.g. ("region__code",) or ("holder__region__code",).
    region_paths: tuple[str, ...] = ("region__code",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return scope_queryset(super().get_queryset(request), request.user, self.region_paths)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        from .admin_widgets import AutocompleteSelectWithBlank
        from .models import Region

        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            # Django's own, with an empty first option that is valid HTML (see admin_widgets).
            kwargs["widget"] = AutocompleteSelectWithBlank(db_field, self.admin_site, using=kwargs.get("using"))
        if db_field.related_model is Region:
            prefix = staff_prefix(request.user)
            regions = (
                Region.objects.all()
                if prefix == NATIONAL
                else Region.objects.filter(code__startswith=prefix if prefix is not None else "-")
            )
            kwargs["queryset"] = regions
            if prefix != NATIONAL:
                kwargs["required"] = True  # only national staff make national rows
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
