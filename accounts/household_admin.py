"""Bureau staff: household registration (户籍), read-only, filled by the CSV import (upload here)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from .admin_tools import csv_upload_view
from .households import HEADER, import_households
from .models import HouseholdMember
from .scoping import RegionScopedAdmin


class HouseholdUploadForm(forms.Form):
    file = forms.FileField(label=_("Household CSV file"),
                           help_text=_("UTF-8, header: %(header)s") % {"header": ",".join(HEADER)})


@admin.register(HouseholdMember)
class HouseholdMemberAdmin(RegionScopedAdmin):
    region_paths = ("person__region__code",)
    list_display = ["household_id", "masked_name_col", "relationship_to_head", "updated_at"]
    list_filter = ["relationship_to_head"]
    search_fields = ["household_id"]
    list_select_related = ["person"]
    fields = ["household_id", "masked_name_col", "relationship_to_head", "updated_at"]
    readonly_fields = ["household_id", "masked_name_col", "relationship_to_head", "updated_at"]
    change_list_template = "admin/accounts/householdmember/change_list.html"

    @admin.display(description=_("name"))
    def masked_name_col(self, obj: HouseholdMember) -> str:
        return obj.person.masked_name

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # members come from the household import

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[Any]:
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="accounts_householdmember_import"),
        ] + super().get_urls()

    def import_view(self, request: HttpRequest) -> HttpResponse:
        return csv_upload_view(self, request, HouseholdUploadForm, import_households, _("Import household registration"), "admin:accounts_householdmember_changelist")
