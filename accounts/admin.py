"""Bureau staff work here. Sensitive numbers are shown masked; lookups are audited."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.exceptions import NotRegistered
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, SetUnusablePasswordMixin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from .admin_tools import FenAsYuanField, YuanAdminMixin, csv_upload_view, region_filter
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
from .scoping import RegionScopedAdmin

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
class RegionAdmin(RegionScopedAdmin, ReadOnlyAdmin):
    region_paths = ("code",)
    list_display = ["code", "name", "province_code", "current"]
    list_filter = ["current"]
    search_fields = ["code", "name"]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_staff)


# The rules a policy row holds (its form, and what a new row starts from: the one in force).
POLICY_FIELDS = (
    "allowed_relationships",
    "max_beneficiaries",
    "pooling_scope",
    "consent_days",
    "minor_age",
    "cooling_days",
    "annual_cap_fen",
    "allowed_categories",
    "resident_premium_fen",
    "undo_minutes",
    "reminder_days",
    "marriage_age",
    "premium_scope",
    "pooled_outside_province",
    "confirmation_days",
    "outpatient_cap_fen",
    "pharmacy_cap_fen",
    "inpatient_cap_fen",
    "reserve_fen",
)


class RegionPolicyForm(forms.ModelForm):
    allowed_relationships = forms.MultipleChoiceField(
        label=_("allowed relationships"),
        widget=forms.CheckboxSelectMultiple,
        choices=[],
    )
    allowed_categories = forms.MultipleChoiceField(
        label=_("what pooled money may pay"),
        widget=forms.CheckboxSelectMultiple,
        choices=[],
    )
    annual_cap_fen = FenAsYuanField(
        label=_("annual cap per relative (yuan)"),
        required=False,
        help_text=_("In yuan, e.g. 20000.00. Empty: no regional cap."),
    )
    resident_premium_fen = FenAsYuanField(
        label=_("resident premium per year (yuan)"), help_text=_("In yuan, e.g. 400.00.")
    )
    outpatient_cap_fen = FenAsYuanField(
        label=_("annual outpatient cap per relative (yuan)"), required=False, help_text=_("In yuan. Empty: no cap.")
    )
    pharmacy_cap_fen = FenAsYuanField(
        label=_("annual pharmacy cap per relative (yuan)"), required=False, help_text=_("In yuan. Empty: no cap.")
    )
    inpatient_cap_fen = FenAsYuanField(
        label=_("annual inpatient cap per relative (yuan)"), required=False, help_text=_("In yuan. Empty: no cap.")
    )
    reserve_fen = FenAsYuanField(
        label=_("balance a holder always keeps (yuan)"),
        help_text=_("In yuan, e.g. 2000.00. Pooled payments never take the holder's balance below this amount."),
    )

    class Meta:
        model = RegionPolicy
        fields = ["region", "effective_from", *POLICY_FIELDS, "notes"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from .models import Relationship, SpendingCategory

        super().__init__(*args, **kwargs)
        self.fields["allowed_relationships"].choices = Relationship.choices  # type: ignore[attr-defined]
        self.fields["allowed_categories"].choices = SpendingCategory.choices  # type: ignore[attr-defined]


@admin.register(RegionPolicy)
class RegionPolicyAdmin(YuanAdminMixin, RegionScopedAdmin):
    form = RegionPolicyForm
    money_fields = {
        "annual_cap_fen": _("annual cap per relative"),
        "resident_premium_fen": _("resident premium per year"),
    }
    list_display = ["__str__", "effective_from", "max_beneficiaries", "pooling_scope", "consent_days", "annual_cap_fen"]
    list_filter = ["pooling_scope", region_filter("region__code")]
    autocomplete_fields = ["region"]
    search_fields = ["region__name", "region__code"]

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        """A new row starts from the values in force above its region (the clerk's own region by default)."""
        from .policy_changes import policy_above
        from .scoping import staff_prefix

        initial = super().get_changeform_initial_data(request)
        region = initial.get("region")
        office = getattr(request.user, "office", None)
        if not region and staff_prefix(request.user) and office is not None:
            region = office.region_id
        above = policy_above(region if isinstance(region, str) else None)
        for name in POLICY_FIELDS:
            initial.setdefault(name, getattr(above, name))
        if region:
            initial["region"] = region
        return initial

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        """Before a change that tightens a rule is saved, show whom it touches and ask to confirm."""
        if request.method == "POST" and request.POST.get("_confirm_tightening") != "1":
            preview = self._tightening_preview(request, object_id)
            if preview is not None:
                return preview
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _tightening_preview(self, request: HttpRequest, object_id: str | None) -> HttpResponse | None:
        from django.contrib.admin.utils import unquote

        from .policy_changes import impacts, policy_above, tightenings

        obj = self.get_object(request, unquote(object_id)) if object_id else None
        if object_id and (obj is None or not self.has_change_permission(request, obj)):
            return None  # Django answers as for a missing row, or refuses
        if not object_id and not self.has_add_permission(request):
            return None
        before = RegionPolicy.objects.get(pk=obj.pk) if obj is not None else None
        form = self.get_form(request, obj, change=obj is not None)(request.POST, request.FILES, instance=obj)
        if not form.is_valid():
            return None  # the form page shows the errors
        after = form.save(commit=False)
        if before is None:
            before = policy_above(after.region_id, after.effective_from)
        found = tightenings(before, after)
        if not found:
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Check before saving"),
            "impacts": impacts(after, found),
            "policy": after,
            "posted": [(k, v) for k, values in request.POST.lists() if k != "csrfmiddlewaretoken" for v in values],
        }
        return render(request, "admin/accounts/regionpolicy/tightening_preview.html", context)

    def save_model(self, request: HttpRequest, obj: RegionPolicy, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit(
            "policy.saved",
            channel=AuditChannel.ADMIN,
            actor=request.user,
            obj=obj,
            after={k: str(v) for k, v in form.cleaned_data.items()},
        )


class RegistryUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Registry CSV file"), help_text=_("UTF-8, header: %(header)s") % {"header": ",".join(HEADER)}
    )


@admin.register(InsuredPerson)
class InsuredPersonAdmin(RegionScopedAdmin):
    list_display = ["masked_name_col", "masked_id_col", "scheme", "status", "region", "birth_date"]
    list_filter = ["scheme", "status", region_filter("region__code")]
    readonly_fields = ["masked_id_col", "masked_phone_col", "birth_date", "sex", "created_at", "updated_at"]
    fields = [
        "name",
        "masked_id_col",
        "masked_phone_col",
        "scheme",
        "status",
        "region",
        "birth_date",
        "sex",
        "died_on",
        "created_at",
        "updated_at",
    ]
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

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
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

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        person = self.get_queryset(request).filter(pk=object_id).first() if str(object_id).isdigit() else None
        if person is not None and request.method == "GET":
            audit("staff.lookup", channel=AuditChannel.ADMIN, actor=request.user, on_behalf_of=person, obj=person)
        return super().change_view(request, object_id, form_url, extra_context)

    LIFE_EVENT_FIELDS = ("scheme", "status", "region", "died_on")

    def save_model(self, request: HttpRequest, obj: InsuredPerson, form: Any, change: bool) -> None:
        """Save a registry correction; a changed scheme, status, region or death is a life event
        that the pooling rules react to (bindings end or pause) in the same transaction."""
        stored = self.get_queryset(request).filter(pk=obj.pk).first() if change else None
        super().save_model(request, obj, form, change)
        audit(
            "registry.edited",
            channel=AuditChannel.ADMIN,
            actor=request.user,
            on_behalf_of=obj,
            obj=obj,
            after={"changed": list(form.changed_data)},
        )
        if stored is not None and any(field in form.changed_data for field in self.LIFE_EVENT_FIELDS):
            before = {
                "scheme": stored.scheme,
                "status": stored.status,
                "region_id": stored.region_id,
                "died_on": stored.died_on,
            }
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
        return csv_upload_view(
            self,
            request,
            RegistryUploadForm,
            import_registry,
            _("Import the insured registry"),
            "admin:accounts_insuredperson_changelist",
        )


@admin.register(Office)
class OfficeAdmin(RegionScopedAdmin):
    list_display = ["name", "region", "address"]
    list_filter = [region_filter("region__code")]
    raw_id_fields = ["region"]


class AdminPasswordForm(AdminPasswordChangeForm):
    """Django's form for setting a user's password, whose "password-based authentication" help is
    valid HTML where templates/admin/auth/user/change_password.html puts it (a paragraph, then
    the warning list Django's script shows when it is disabled) and translated: Django's own
    warning is a plain English string."""

    # Lazy (translated per request) where the stubs say str.
    usable_password_help_text = format_lazy(  # type: ignore[assignment]
        '<p>{}</p><ul id="id_unusable_warning" class="messagelist"><li class="warning">{}</li></ul>',
        SetUnusablePasswordMixin.usable_password_help_text,
        _("If disabled, the current password for this user will be lost."),
    )


@admin.register(User)
class UserAdmin(RegionScopedAdmin, BaseUserAdmin):
    region_paths = ("office__region__code", "person__region__code")
    list_display = ["username", "role", "office", "display_name", "is_staff", "is_active"]
    list_filter = ["role", "is_staff", "is_active"]
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        (
            _("Portal"),
            {"fields": ("role", "office", "person", "language", "notify_sms", "notify_email", "age_friendly")},
        ),
    )
    raw_id_fields = ["person"]
    change_password_form = AdminPasswordForm
    actions = ["reset_second_factor"]

    @admin.action(description=_("Reset the second factor (lost phone): set it up again at the next log-in"))
    def reset_second_factor(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        from .second_factor import reset_second_factor

        count = 0
        for user in queryset:
            reset_second_factor(user, actor=request.user)
            count += 1
        messages.success(request, _("Second factor reset for %(n)d user(s).") % {"n": count})


# The devices' own admin pages would show the authenticator secrets: staff reset a second
# factor from the user list instead.
for _device_model in ("otp_totp.TOTPDevice", "otp_static.StaticDevice"):
    from django.apps import apps as _apps

    try:
        admin.site.unregister(_apps.get_model(_device_model))
    except NotRegistered:
        pass


@admin.register(AuditEvent)
class AuditEventAdmin(RegionScopedAdmin, ReadOnlyAdmin):
    region_paths = ("on_behalf_of__region__code", "actor__office__region__code")
    list_display = ["created_at", "action", "channel", "actor", "on_behalf_of", "object_type", "object_id"]
    list_filter = ["channel", "action"]
    date_hierarchy = "created_at"
    list_select_related = ["actor", "on_behalf_of"]


@admin.register(Notification)
class NotificationAdmin(RegionScopedAdmin, ReadOnlyAdmin):
    region_paths = ("person__region__code",)
    list_display = ["created_at", "kind", "subject", "person", "relayed_at", "read_at"]
    list_filter = ["kind"]
    exclude = ["body", "link"]  # a link may carry a signed consent token
    list_select_related = ["person"]
