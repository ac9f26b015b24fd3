"""The production URLs plus one comparison view for bench/settlement.py (bench settings only).

The comparison view is the one the issue names: one indexed ORM SELECT rendered through a
template (about 1,700 requests/s with 2 gunicorn workers on this machine); bench/load.py
compares the citizen pages with a 20-row table view.
"""

from django.http import Http404, HttpRequest, HttpResponse
from django.template import engines
from django.urls import path

from payments.models import LedgerAccount
from portal.urls import urlpatterns as portal_urlpatterns

TEMPLATE = engines["django"].from_string(
    "<!doctype html><title>account</title><p>Account {{ account.pk }} ({{ account.kind }}): "
    "{{ account.balance_fen|money }}</p>"
)


def one_select(request: HttpRequest, pk: int) -> HttpResponse:
    account = LedgerAccount.objects.filter(pk=pk).first()  # one indexed SELECT (primary key)
    if account is None:
        raise Http404
    return HttpResponse(TEMPLATE.render({"account": account}, request))


TABLE = engines["django"].from_string(
    "<!doctype html><html lang=\"en\"><title>accounts</title><table><thead><tr><th>Account</th><th>Kind</th>"
    "<th>Balance</th></tr></thead><tbody>{% for account in accounts %}<tr><td>{{ account.pk }}</td>"
    "<td>{{ account.get_kind_display }}</td><td>{{ account.balance_fen|money }}</td></tr>{% endfor %}"
    "</tbody></table>"
)


def table(request: HttpRequest) -> HttpResponse:
    """bench/load.py's yardstick: a plain view rendering a 20-row table from one SELECT."""
    accounts = list(LedgerAccount.objects.order_by("pk")[:20])
    return HttpResponse(TABLE.render({"accounts": accounts}, request))


LAYOUT = engines["django"].from_string('{% extends "base.html" %}{% block content %}<h1>Layout</h1>{% endblock %}')


def layout(request: HttpRequest) -> HttpResponse:
    """bench/pages.py's floor of a citizen page: the portal's layout (base.html) with nothing in it,
    what every logged-in page pays before its own content (session, user, layout, unread messages)."""
    return HttpResponse(LAYOUT.render({}, request))


urlpatterns = [path("bench/select/<int:pk>", one_select), path("bench/table", table), path("bench/layout", layout),
               *portal_urlpatterns]
