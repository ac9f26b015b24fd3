"""The production URLs plus one comparison view for bench/settlement.py (bench settings only)."""

from django.http import HttpRequest, JsonResponse
from django.urls import path

from payments.models import LedgerAccount
from portal.urls import urlpatterns as portal_urlpatterns


def one_select(request: HttpRequest, pk: int) -> JsonResponse:
    """One indexed SELECT (primary key), answered as JSON like the settlement API."""
    account = LedgerAccount.objects.filter(pk=pk).values("id", "kind", "balance_fen").first()
    return JsonResponse(account or {}, status=200 if account else 404)


urlpatterns = [path("bench/select/<int:pk>", one_select), *portal_urlpatterns]
