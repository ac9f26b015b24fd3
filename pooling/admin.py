"""Bureau staff: review flagged bindings, read the history, edit guides per region."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import AuditChannel, audit
from accounts.scoping import RegionScopedAdmin

from .models import Binding, Guide, GuideStep


@admin.register(Binding)
class BindingAdmin(RegionScopedAdmin):
    """Bindings change only through the services (status, consent); staff review and read.

    A binding belongs to the region of its account holder (whose bureau pays from it)."""

    region_paths = ("holder__region__code",)

    list_display = ["__str__", "relationship", "status", "flagged_for_review", "created_at", "end_date"]
    list_filter = ["status", "flagged_for_review", "relationship"]
    list_select_related = ["holder", "beneficiary"]
    search_fields = ["holder__name", "beneficiary__name"]
    actions = ["mark_reviewed"]
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in Binding._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Mark the relationship as checked"))
    def mark_reviewed(self, request: HttpRequest, queryset: QuerySet[Binding]) -> None:
        count = 0
        for binding in queryset.filter(flagged_for_review=True):
            Binding.objects.filter(pk=binding.pk).update(
                flagged_for_review=False, reviewed_at=timezone.now(), reviewed_by=request.user
            )
            audit("pooling.reviewed", channel=AuditChannel.ADMIN, actor=request.user, obj=binding,
                  before={"review_reasons": binding.review_reasons})
            count += 1
        messages.success(request, _("%(count)d bindings marked as checked.") % {"count": count})


class GuideStepInline(admin.TabularInline):
    model = GuideStep
    extra = 1


@admin.register(Guide)
class GuideAdmin(RegionScopedAdmin):
    list_display = ["title", "channel", "region", "updated_at"]
    list_filter = ["channel"]
    inlines = [GuideStepInline]
    autocomplete_fields = ["region"]
