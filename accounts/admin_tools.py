"""Admin building blocks: money in yuan (stored in fen) and a region filter that works nationwide."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .scoping import region_prefix_of


def format_yuan(fen: int | None) -> str:
    """12345 -> ¥123.45 (empty for None)."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(int(fen)), 100)
    return f"{sign}¥{yuan:,}.{cents:02d}"


class FenAsYuanField(forms.DecimalField):
    """An amount stored in fen, typed and shown in yuan: 20000.00, not 2000000."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("min_value", Decimal("0"))
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, int):
            return (Decimal(value) / 100).quantize(Decimal("0.01"))
        return value

    def clean(self, value: Any) -> int | None:  # type: ignore[override]
        yuan = super().clean(value)
        return None if yuan is None else int((yuan * 100).to_integral_value())

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            new = self.clean(data)
        except forms.ValidationError:
            return True
        return new != initial


class YuanAdminMixin(admin.ModelAdmin):
    """Shows the *_fen fields named in ``money_fields`` in yuan on list and read-only pages."""

    money_fields: dict[str, Any] = {}  # field name -> column label

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, label in cls.money_fields.items():
            def column(self: Any, obj: Any, _name: str = name) -> str:
                return format_yuan(getattr(obj, _name))
            column.short_description = label  # type: ignore[attr-defined]
            column.admin_order_field = name  # type: ignore[attr-defined]
            setattr(cls, f"{name}_yuan", column)

    def _in_yuan(self, names: Any) -> list[Any]:
        return [f"{n}_yuan" if isinstance(n, str) and n in self.money_fields else n for n in names]

    def get_list_display(self, request: HttpRequest) -> Any:
        return self._in_yuan(super().get_list_display(request))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self._in_yuan(super().get_readonly_fields(request, obj))

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = super().get_fields(request, obj)
        readonly = set(self.get_readonly_fields(request, obj))
        view_only = not self.has_change_permission(request, obj)
        return [f"{n}_yuan" if n in self.money_fields and (view_only or f"{n}_yuan" in readonly) else n
                for n in fields]


class RegionFilter(admin.ListFilter):
    """Filter by region typed as a code (460100, or 4601 / 46 for a city or province) or a name.

    A list of the 6,906 division codes cannot be a list of links; this is one text box.
    """

    title = _("region")
    parameter_name = "region"
    template = "admin/region_filter.html"
    region_path = "region__code"

    def __init__(self, request: HttpRequest, params: dict[str, Any], model: Any, model_admin: Any) -> None:
        super().__init__(request, params, model, model_admin)
        value = params.pop(self.parameter_name, None)
        if isinstance(value, list):
            value = value[-1] if value else None
        self.value = (value or "").strip()[:50]
        self.used_parameters = {self.parameter_name: self.value} if self.value else {}

    def has_output(self) -> bool:
        return True

    def expected_parameters(self) -> list[str | None]:
        return [self.parameter_name]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if not self.value:
            return queryset
        if self.value.isdigit():
            prefix = region_prefix_of(self.value) if len(self.value) == 6 else self.value
            return queryset.filter(**{f"{self.region_path}__startswith": prefix})
        from .models import Region

        codes = list(Region.objects.filter(Q(name__contains=self.value)).values_list("code", flat=True)[:50])
        q = Q(pk__in=[])
        for code in codes:
            q |= Q(**{f"{self.region_path}__startswith": region_prefix_of(code)})
        return queryset.filter(q)

    def choices(self, changelist: Any) -> Iterator[dict[str, Any]]:
        keep = {k: v for k, v in changelist.get_filters_params().items() if k != self.parameter_name}
        yield {
            "value": self.value,
            "parameter_name": self.parameter_name,
            "keep": [(k, v[-1] if isinstance(v, list) else v) for k, v in keep.items()],
            "clear_url": changelist.get_query_string(remove=[self.parameter_name]),
        }


def region_filter(path: str) -> type[RegionFilter]:
    """A RegionFilter over the region reached by ``path`` (e.g. "holder__region__code")."""
    return type(f"RegionFilter_{path}", (RegionFilter,), {"region_path": path})


def csv_upload_view(model_admin: Any, request: Any, form_class: Any, importer: Any, title: Any, done: str) -> Any:
    """The admin upload of a bureau CSV (registry, households): national staff only, every row
    checked by ``importer`` before anything is written, bad lines listed with their reasons."""
    from django.contrib import messages
    from django.shortcuts import redirect, render
    from django.urls import reverse

    from .models import AuditChannel
    from .scoping import is_national

    # The file may hold any region's people: only national staff import it.
    if not request.user.has_perm("accounts.change_insuredperson") or not is_national(request.user):
        return redirect("admin:index")
    form = form_class(request.POST or None, request.FILES or None)
    errors: list[Any] = []
    if request.method == "POST" and form.is_valid():
        raw = form.cleaned_data["file"].read()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            form.add_error("file", _("The file is not UTF-8 text. Save it as 'CSV UTF-8' and upload again."))
        else:
            result = importer(text, actor=request.user, channel=AuditChannel.ADMIN)
            if result.ok:
                messages.success(request, _("Import done: %(c)d created, %(u)d updated, %(n)d unchanged.") % {
                    "c": result.created, "u": result.updated, "n": result.unchanged})
                return redirect(reverse(done))
            errors = result.errors
    context = {**model_admin.admin_site.each_context(request), "form": form, "errors": errors,
               "title": title, "opts": model_admin.model._meta}
    return render(request, "admin/accounts/insuredperson/import.html", context)
