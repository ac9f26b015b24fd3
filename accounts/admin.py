"""Bureau staff work here. Sensitive numbers are shown masked; lookups are audited."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from .idnumbers import normalize_id_number
from .models import (
    AuditChannel,
    AuditEvent,
    InsuredPerson,
    Notification,
    Office,
    Region,
    RegionPolicy,
    User,
    audit,
    normalize_phone,
)
from .registry import HEADER, PersonChange, announce_change, import_registry

admin.site.site_header = _("Family Pooling Portal — bureau administration")
admin.site.site_title = _("Family Pooling Portal")
admin.site.index_title = _("Bureau administration")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Region)
class RegionAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "province_code", "current"]
    list_filter = ["current"]
    search_fields = ["code", "name"]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_staff)


class RegionPolicyForm(forms.ModelForm):
    allowed_relationships = forms.MultipleChoiceField(
        label=_("allowed relationships"), widget=forms.CheckboxSelectMultiple,
        choices=[],
    )
    allowed_categories = forms.MultipleChoiceField(
        label=_("what pooled money may pay"), widget=forms.CheckboxSelectMultiple, choices=[],
    )

    class Meta:
        model = RegionPolicy
        fields = [
            "region", "effective_from", "allowed_relationships", "max_beneficiaries", "pooling_scope",
            "consent_days", "minor_age", "cooling_days", "annual_cap_fen", "allowed_categories",
            "resident_premium_fen", "undo_minutes", "reminder_days", "marriage_age", "premium_scope",
            "pooled_outside_province", "confirmation_days", "outpatient_cap_fen", "pharmacy_cap_fen",
            "inpatient_cap_fen", "reserve_fen", "notes",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from .models import Relationship, SpendingCategory

        super().__init__(*args, **kwargs)
        self.fields["allowed_relationships"].choices = Relationship.choices  # type: ignore[attr-defined]
        self.fields["allowed_categories"].choices = SpendingCategory.choices  # type: ignore[attr-defined]


@admin.register(RegionPolicy)
class RegionPolicyAdmin(admin.ModelAdmin):
    form = RegionPolicyForm
    list_display = ["__str__", "effective_from", "max_beneficiaries", "pooling_scope", "consent_days", "annual_cap_fen"]
    list_filter = ["pooling_scope"]
    autocomplete_fields = ["region"]
    search_fields = ["region__name", "region__code"]

    def save_model(self, request: HttpRequest, obj: RegionPolicy, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit("policy.saved", channel=AuditChannel.ADMIN, actor=request.user, obj=obj,
              after={k: str(v) for k, v in form.cleaned_data.items()})


class RegistryUploadForm(forms.Form):
    file = forms.FileField(label=_("Registry CSV file"), help_text=_("UTF-8, header: %(header)s") % {"header": ",".join(HEADER)})


@admin.register(InsuredPerson)
class InsuredPersonAdmin(admin.ModelAdmin):
    list_display = ["masked_name_col", "masked_id_col", "scheme", "status", "region", "birth_date"]
    list_filter = ["scheme", "status"]
    readonly_fields = ["masked_id_col", "masked_phone_col", "birth_date", "sex", "created_at", "updated_at"]
    fields = ["name", "masked_id_col", "masked_phone_col", "scheme", "status", "region", "birth_date", "sex",
              "died_on", "created_at", "updated_at"]
    raw_id_fields = ["region"]
    search_fields = ["name"]
    search_help_text = _("Search by name, or by a complete ID number or phone number.")
    change_list_template = "admin/accounts/insuredperson/change_list.html"

    @admin.display(description=_("ID number"))
    def masked_id_col(self, obj: InsuredPerson) -> str:
        return obj.masked_id_number

    @admin.display(description=_("phone"))
    def masked_phone_col(self, obj: InsuredPerson) -> str:
        return obj.masked_phone

    @admin.display(description=_("name"))
    def masked_name_col(self, obj: InsuredPerson) -> str:
        return obj.masked_name

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[Any], search_term: str) -> tuple[QuerySet[Any], bool]:
        term = search_term.strip()
        if term:
            audit("staff.search", channel=AuditChannel.ADMIN, actor=request.user, note=f"search {len(term)} chars")
        number = normalize_id_number(term)
        if len(number) == 18:
            person = InsuredPerson.objects.by_id_number(number)
            return queryset.filter(pk=person.pk if person else -1), False
        phone = normalize_phone(term)
        if phone.isdigit() and len(phone) == 11:
            return queryset.filter(pk__in=InsuredPerson.objects.by_phone(phone).values("pk")), False
        return super().get_search_results(request, queryset, search_term)

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None) -> HttpResponse:
        person = InsuredPerson.objects.filter(pk=object_id).first()
        if person is not None and request.method == "GET":
            audit("staff.lookup", channel=AuditChannel.ADMIN, actor=request.user, on_behalf_of=person, obj=person)
        return super().change_view(request, object_id, form_url, extra_context)

    LIFE_EVENT_FIELDS = ("scheme", "status", "region", "died_on")

    def save_model(self, request: HttpRequest, obj: InsuredPerson, form: Any, change: bool) -> None:
        """Save a registry correction; a changed scheme, status, region or death is a life event
        that the pooling rules react to (bindings end or pause) in the same transaction."""
        stored = InsuredPerson.objects.filter(pk=obj.pk).first() if change else None
        super().save_model(request, obj, form, change)
        audit("registry.edited", channel=AuditChannel.ADMIN, actor=request.user, on_behalf_of=obj, obj=obj,
              after={"changed": list(form.changed_data)})
        if stored is not None and any(field in form.changed_data for field in self.LIFE_EVENT_FIELDS):
            before = {"scheme": stored.scheme, "status": stored.status, "region_id": stored.region_id,
                      "died_on": stored.died_on}
            after = {"scheme": obj.scheme, "status": obj.status, "region_id": obj.region_id, "died_on": obj.died_on}
            announce_change(PersonChange(obj, before, after), request.user, AuditChannel.ADMIN)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # people come from the registry import

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[Any]:
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="accounts_insuredperson_import"),
        ] + super().get_urls()

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm("accounts.change_insuredperson"):
            return redirect("admin:index")
        form = RegistryUploadForm(request.POST or None, request.FILES or None)
        errors: list[Any] = []
        if request.method == "POST" and form.is_valid():
            raw = form.cleaned_data["file"].read()
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                form.add_error("file", _("The file is not UTF-8 text. Save it as 'CSV UTF-8' and upload again."))
            else:
                result = import_registry(text, actor=request.user, channel=AuditChannel.ADMIN)
                if result.ok:
                    messages.success(request, _("Import done: %(c)d created, %(u)d updated, %(n)d unchanged.") % {
                        "c": result.created, "u": result.updated, "n": result.unchanged})
                    return redirect(reverse("admin:accounts_insuredperson_changelist"))
                errors = result.errors
        context = {**self.admin_site.each_context(request), "form": form, "errors": errors,
                   "title": _("Import the insured registry"), "opts": self.model._meta}
        return render(request, "admin/accounts/insuredperson/import.html", context)


@admin.register(Office)
class OfficeAdmin(admin.ModelAdmin):
    list_display = ["name", "region", "address"]
    raw_id_fields = ["region"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "role", "office", "display_name", "is_staff", "is_active"]
    list_filter = ["role", "is_staff", "is_active"]
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        (_("Portal"), {"fields": ("role", "office", "person", "language", "notify_sms", "notify_email", "age_friendly")}),
    )
    raw_id_fields = ["person"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "action", "channel", "actor", "on_behalf_of", "object_type", "object_id"]
    list_filter = ["channel", "action"]
    date_hierarchy = "created_at"
    list_select_related = ["actor", "on_behalf_of"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "subject", "person", "relayed_at", "read_at"]
    list_filter = ["kind"]
    exclude = ["body"]
    list_select_related = ["person"]
