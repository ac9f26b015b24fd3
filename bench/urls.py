"""The production URLs plus one comparison view for bench/settlement.py (bench settings only).

The comparison view is the one the issue names: one indexed ORM SELECT rendered through a
template (about 1,700 requests/s with 2 gunicorn workers on this machine).
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


urlpatterns = [path("bench/select/<int:pk>", one_select), *portal_urlpatterns]
