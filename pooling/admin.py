"""Bureau staff: review flagged bindings, read the history, edit guides per region."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import AuditChannel, audit

from .models import Binding, Guide, GuideStep, PledgeText


@admin.register(Binding)
class BindingAdmin(admin.ModelAdmin):
    """Bindings change only through the services (status, consent); staff review and read."""

    list_display = ["__str__", "relationship", "status", "flagged_for_review", "created_at", "end_date"]
    list_filter = ["status", "flagged_for_review", "relationship", "holder__region"]
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
class GuideAdmin(admin.ModelAdmin):
    list_display = ["title", "channel", "region", "updated_at"]
    list_filter = ["channel"]
    inlines = [GuideStepInline]
    autocomplete_fields = ["region"]


@admin.register(PledgeText)
class PledgeTextAdmin(admin.ModelAdmin):
    """Terms and pledge per language, versioned: a new text is a new row; saved versions stay as they were
    (bindings name the version their people saw). Adding starts from the latest text of the language."""

    list_display = ["language", "version", "published", "created_at", "created_by"]
    list_filter = ["language", "published"]
    fields = ["language", "terms", "pledge", "published"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["language", "terms", "pledge"] if obj is not None else []

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        language = request.GET.get("language", "zh-hans")
        latest = PledgeText.objects.filter(language=language).order_by("-version").first()
        initial: dict[str, Any] = {"language": language}
        if latest is not None:
            initial.update(terms=latest.terms, pledge=latest.pledge)
        return initial

    def save_model(self, request: HttpRequest, obj: PledgeText, form: Any, change: bool) -> None:
        if not change:
            latest = PledgeText.objects.filter(language=obj.language).order_by("-version").first()
            obj.version = (latest.version if latest else 0) + 1
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)
        audit("pooling.pledge_text_saved", channel=AuditChannel.ADMIN, actor=request.user, obj=obj,
              after={"language": obj.language, "version": obj.version, "published": obj.published})
