"""URLs of the holder's monthly statements (namespace "statements"), mounted at /statements/."""

from django.urls import path, register_converter

from . import views


class MonthConverter:
    regex = r"[0-9]{4}-[0-9]{2}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(MonthConverter, "yyyymm")

app_name = "statements"

urlpatterns = [
    path("", views.statement_list, name="list"),
    path("<yyyymm:month>/", views.statement_detail, name="detail"),
    path("<yyyymm:month>/pdf/", views.statement_pdf, name="pdf"),
]
