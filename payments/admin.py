"""Bureau admin for payments: institutions (API keys shown once), settlements, premiums."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from accounts.admin import ReadOnlyAdmin as ReadOnly
from accounts.admin_tools import YuanAdminMixin, region_filter
from accounts.models import AuditChannel, audit
from accounts.scoping import RegionScopedAdmin

from . import institutions
from .models import Institution, PremiumPayment, Settlement


@admin.register(Institution)
class InstitutionAdmin(RegionScopedAdmin):
    list_display = ["code", "name", "kind", "region", "active", "key_status"]
    list_filter = ["kind", "active", region_filter("region__code")]
    search_fields = ["code", "name"]
    fields = ["code", "name", "kind", "region", "active", "api_key_hint", "api_key_set_at"]
    readonly_fields = ["api_key_hint", "api_key_set_at"]
    autocomplete_fields = ["region"]
    actions = ["rotate_keys", "revoke_keys"]

    @admin.display(description=_("API key"))
    def key_status(self, obj: Institution) -> str:
        return str(_("…%(hint)s") % {"hint": obj.api_key_hint}) if obj.api_key_hash else str(_("revoked"))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [*self.readonly_fields, "code"] if obj else list(self.readonly_fields)

    def save_model(self, request: HttpRequest, obj: Institution, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            audit("institution.change", channel=AuditChannel.ADMIN, actor=request.user, obj=obj)
            return
        created, key = institutions.create_institution(
            obj.code, obj.name, obj.kind, obj.region_id, actor=request.user, channel=AuditChannel.ADMIN
        )
        obj.pk = created.pk
        self._show_key(request, created, key)

    def _show_key(self, request: HttpRequest, obj: Institution, key: str) -> None:
        messages.warning(request, _(
            "API key of %(name)s: %(key)s — copy it now and give it to the institution securely; "
            "it is not stored and will not be shown again."
        ) % {"name": obj.name, "key": key})

    def _confirm(self, request: HttpRequest, queryset: QuerySet[Institution], action: str, question: Any,
                 consequence: Any) -> HttpResponse | None:
        """A confirmation page first (None once the clerk has confirmed)."""
        if request.POST.get("confirm") == "yes":
            return None
        return TemplateResponse(request, "admin/payments/institution/confirm_key_action.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "title": question,
            "consequence": consequence, "institutions": queryset, "action": action,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        })

    @admin.action(description=_("Issue a new API key (the old one stops working)"), permissions=["change"])
    def rotate_keys(self, request: HttpRequest, queryset: QuerySet[Institution]) -> HttpResponse | None:
        page = self._confirm(request, queryset, "rotate_keys", _("Issue new API keys?"), _(
            "The current key of each institution below stops working at once. Their systems cannot settle "
            "payments until the new key, shown once on the next page, is installed."))
        if page is not None:
            return page
        for obj in queryset:
            self._show_key(request, obj, institutions.rotate_api_key(obj, actor=request.user))
        return None

    @admin.action(description=_("Revoke the API key"), permissions=["change"])
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet[Institution]) -> HttpResponse | None:
        page = self._confirm(request, queryset, "revoke_keys", _("Revoke the API keys?"), _(
            "The institutions below can no longer settle payments until a new key is issued."))
        if page is not None:
            return page
        for obj in queryset:
            institutions.revoke_api_key(obj, actor=request.user)
        messages.success(request, _("%(n)s key(s) revoked.") % {"n": queryset.count()})
        return None

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Settlement)
class SettlementAdmin(YuanAdminMixin, RegionScopedAdmin, ReadOnly):
    region_paths = ("institution__region__code",)
    money_fields = {"amount_fen": _("amount"), "paid_fen": _("paid from accounts"), "refunded_fen": _("refunded")}
    list_display = ["id", "created_at", "institution", "category", "amount_fen", "paid_fen", "refunded_fen"]
    list_filter = ["category", "institution__kind"]
    search_fields = ["reference", "institution__code"]
    list_select_related = ["institution"]


@admin.register(PremiumPayment)
class PremiumPaymentAdmin(YuanAdminMixin, RegionScopedAdmin, ReadOnly):
    region_paths = ("payer__region__code",)
    money_fields = {"amount_fen": _("amount")}
    list_display = ["id", "created_at", "year", "amount_fen", "channel"]
    list_filter = ["year", "channel"]
