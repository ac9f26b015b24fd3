from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from . import health, overview, views

portal_patterns = (
    [
        path("", views.home, name="home"),
        path("dashboard/", views.dashboard, name="dashboard"),
        path("display-mode/", views.display_mode, name="display-mode"),
        path("language/", views.set_language, name="set-language"),
    ],
    "portal",
)

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("", include(portal_patterns)),
    path("accounts/", include("accounts.urls")),
    path("pooling/", include("pooling.urls")),
    path("counter/", include("portal.counter_urls")),
    path("payments/", include("payments.urls")),
    path("statements/", include("statements.urls")),
    path("api/", include("payments.api_urls")),
    path("admin/overview/", overview.overview, name="bureau-overview"),
    path("admin/", admin.site.urls),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
]
