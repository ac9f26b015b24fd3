"""Bureau staff: household registration (户籍), read-only, filled by the CSV import (upload here)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from .households import HEADER, import_households
from .models import AuditChannel, HouseholdMember
from .scoping import RegionScopedAdmin, is_national


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
        # The file may hold any region's people: only national staff import it.
        if not request.user.has_perm("accounts.change_insuredperson") or not is_national(request.user):
            return redirect("admin:index")
        form = HouseholdUploadForm(request.POST or None, request.FILES or None)
        errors: list[Any] = []
        if request.method == "POST" and form.is_valid():
            raw = form.cleaned_data["file"].read()
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                form.add_error("file", _("The file is not UTF-8 text. Save it as 'CSV UTF-8' and upload again."))
            else:
                result = import_households(text, actor=request.user, channel=AuditChannel.ADMIN)
                if result.ok:
                    messages.success(request, _("Import done: %(c)d created, %(u)d updated, %(n)d unchanged.") % {
                        "c": result.created, "u": result.updated, "n": result.unchanged})
                    return redirect(reverse("admin:accounts_householdmember_changelist"))
                errors = result.errors
        context = {**self.admin_site.each_context(request), "form": form, "errors": errors,
                   "title": _("Import household registration"), "opts": self.model._meta}
        return render(request, "admin/accounts/insuredperson/import.html", context)
