"""Bureau staff: review flagged bindings, read the history, edit guides per region."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.admin_tools import YuanAdminMixin, region_filter
from accounts.models import AuditChannel, audit
from accounts.scoping import RegionScopedAdmin

from . import review
from .common import By, PoolingError
from .models import Binding, BindingStatus, Guide, GuideStep, PledgeText
from .proposals import DOCUMENT_LABELS

# What the flags set by the eligibility rules mean, for the reviewer.
REVIEW_REASON_LABELS = {
    "age_gap_too_small": _("The age gap between the two people does not fit the relationship"),
    "age_spouse_too_young": _("One of the spouses is younger than the legal age for marriage"),
}


def review_reasons_text(binding: Binding) -> str:
    return "; ".join(str(REVIEW_REASON_LABELS.get(code, code)) for code in binding.review_reasons or [])


def documents_text(binding: Binding) -> str:
    return "; ".join(str(DOCUMENT_LABELS.get(code, code)) for code in binding.consent_documents or [])


class RejectForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason told to both people"), choices=review.RejectReason.CHOICES)
    note = forms.CharField(label=_("Note (optional, also told to both people)"), max_length=200, required=False)


@admin.register(Binding)
class BindingAdmin(YuanAdminMixin, RegionScopedAdmin):
    """Bindings change only through the services (status, consent); staff review and read.

    A binding belongs to the region of its account holder (whose bureau pays from it)."""

    region_paths = ("holder__region__code",)
    list_display = ["__str__", "relationship", "holder_age", "beneficiary_age", "status", "flagged_for_review",
                    "reasons_col", "created_at", "end_date"]
    list_filter = ["status", "flagged_for_review", "relationship", region_filter("holder__region__code")]
    money_fields = {"per_payment_cap_fen": _("limit per payment"), "monthly_cap_fen": _("limit per month"),
                    "annual_cap_fen": _("limit per year")}
    list_select_related = ["holder", "beneficiary"]
    search_fields = ["holder__name", "beneficiary__name"]
    actions = ["mark_reviewed", "ask_for_proof", "reject"]
    date_hierarchy = "created_at"
    # Shown in words (reasons, documents) or internal bookkeeping.
    HIDDEN = ("review_reasons", "consent_documents", "version", "consent_channel", "reminded_at",
              "end_reminder_sent_on", "status_before_suspension")
    exclude = list(HIDDEN)
    change_list_template = "admin/pooling/binding/change_list.html"

    @admin.display(description=_("age of the account holder"))
    def holder_age(self, obj: Binding) -> int:
        return obj.holder.age()

    @admin.display(description=_("age of the relative"))
    def beneficiary_age(self, obj: Binding) -> int:
        return obj.beneficiary.age()

    @admin.display(description=_("why it was flagged"))
    def reasons_col(self, obj: Binding) -> str:
        return review_reasons_text(obj)

    @admin.display(description=_("documents seen at a counter"))
    def documents_col(self, obj: Binding) -> str:
        return documents_text(obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return self._in_yuan([f.name for f in Binding._meta.fields if f.name not in self.HIDDEN and f.editable]) + [
            "reasons_col", "documents_col"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _by(self, request: HttpRequest) -> By:
        return By(None, request.user, AuditChannel.ADMIN)  # type: ignore[arg-type]

    def _each(self, request: HttpRequest, queryset: QuerySet[Binding], change: Any, done: Any) -> None:
        count = 0
        for binding in queryset:
            try:
                change(binding)
            except PoolingError as error:
                messages.warning(request, f"{binding}: {error.message}")
            else:
                count += 1
        if count:
            messages.success(request, done % {"count": count})

    @admin.action(description=_("Confirm the relationship (clear the flag)"), permissions=["change"])
    def mark_reviewed(self, request: HttpRequest, queryset: QuerySet[Binding]) -> None:
        by = self._by(request)
        self._each(request, queryset.filter(flagged_for_review=True), lambda b: review.confirm_review(b, by),
                   _("%(count)d bindings marked as checked."))

    @admin.action(description=_("Ask for proof at a counter (payments stop until a counter has seen it)"),
                  permissions=["change"])
    def ask_for_proof(self, request: HttpRequest, queryset: QuerySet[Binding]) -> None:
        by = self._by(request)
        self._each(request, queryset, lambda b: review.require_proof(b, by),
                   _("%(count)d bindings wait for proof at a counter; both people have been told."))

    @admin.action(description=_("Reject the relationship (ends the pooling, both people are told why)"),
                  permissions=["change"])
    def reject(self, request: HttpRequest, queryset: QuerySet[Binding]) -> HttpResponse | None:
        form = RejectForm(request.POST if "reason" in request.POST else None)
        if form.is_bound and form.is_valid():
            by = self._by(request)
            data = form.cleaned_data
            self._each(request, queryset, lambda b: review.reject_binding(b, by, data["reason"], data["note"]),
                       _("%(count)d bindings rejected; both people have been told why."))
            return None
        context = {
            **self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
            "bindings": queryset.select_related("holder", "beneficiary"), "title": _("Reject the relationship"),
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/pooling/binding/reject.html", context)

    # -- the review queue ---------------------------------------------------------------------

    def get_urls(self) -> list[Any]:
        return [
            path("review/", self.admin_site.admin_view(self.review_queue), name="pooling_binding_review"),
        ] + super().get_urls()

    def review_queue(self, request: HttpRequest) -> HttpResponse:
        """Flagged bindings of the clerk's region with both ages, the relationship and the documents."""
        if not self.has_view_permission(request):
            return redirect("admin:index")
        bindings = (self.get_queryset(request).filter(flagged_for_review=True, status__in=[
            BindingStatus.PENDING, BindingStatus.ACTIVE, BindingStatus.PAUSED])
            .select_related("holder", "beneficiary", "holder__region", "beneficiary__region").order_by("created_at"))
        today = timezone.localdate()
        rows = [{
            "binding": b, "holder_age": b.holder.age(today), "beneficiary_age": b.beneficiary.age(today),
            "reasons": review_reasons_text(b), "documents": documents_text(b),
        } for b in bindings[:200]]
        context = {
            **self.admin_site.each_context(request), "opts": self.model._meta, "rows": rows,
            "title": _("Bindings waiting for review"), "can_change": self.has_change_permission(request),
            "changelist": reverse("admin:pooling_binding_changelist"),
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return render(request, "admin/pooling/binding/review_queue.html", context)


class GuideStepInline(admin.TabularInline):
    model = GuideStep
    fields = ["position", "text", "detail"]
    extra = 1


@admin.register(Guide)
class GuideAdmin(RegionScopedAdmin):
    """A guide's text per language; a row with a region replaces the national row (no region) there."""

    list_display = ["title", "title_en", "purpose", "channel", "region", "updated_at"]
    list_filter = ["purpose", "channel"]
    search_fields = ["title", "title_en", "app_name"]
    inlines = [GuideStepInline]
    autocomplete_fields = ["region"]
    fieldsets = [
        (None, {"fields": ["purpose", "channel", "region", "app_name"]}),
        (_("Chinese"), {"fields": ["title", "summary", "note"]}),
        (_("English"), {"fields": ["title_en", "summary_en", "note_en"]}),
    ]


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
