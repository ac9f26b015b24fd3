"""URLs of the settlement API, included under /api/ (every unknown route answers JSON 404)."""

from django.urls import re_path

from . import api

app_name = "api"

urlpatterns = [
    re_path(r"^v1/settlements/?$", api.settlements, name="settlements"),
    re_path(r"^v1/settlements/(?P<pk>[0-9]{1,18})/?$", api.settlement_detail, name="settlement"),
    re_path(r"^v1/settlements/(?P<pk>[0-9]{1,18})/refund/?$", api.settlement_refund, name="refund"),
    re_path(r"^v1/openapi\.json$", api.openapi_document, name="openapi"),
    re_path(r"^(?P<path>.*)$", api.not_found),
]
