"""The holder's monthly statements: list, page with a chart, PDF download. Thin views.

Only the account holder sees their statements; anyone else gets "not found" (never a hint
that the statement exists).
"""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.views.decorators.cache import never_cache

from accounts.models import User

from .models import MonthlyStatement
from .monthly import StatementError, parse_month
from .view_model import statement_page

logger = logging.getLogger(__name__)

LIGHT_FIELDS = ("pdf", "by_person", "by_category")


def _own_statement(request: HttpRequest, month: str, *, with_pdf: bool = False) -> MonthlyStatement:
    user: User = request.user  # type: ignore[assignment]
    if user.person_id is None:
        raise Http404
    try:
        first_day = parse_month(month)
    except StatementError:
        raise Http404 from None
    queryset = MonthlyStatement.objects.select_related("person", "person__region")
    if not with_pdf:
        queryset = queryset.defer("pdf")
    statement = queryset.filter(person_id=user.person_id, month=first_day).first()
    if statement is None:
        raise Http404
    return statement


@login_required
def statement_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if user.person_id is None:
        return redirect("portal:dashboard")
    statements = MonthlyStatement.objects.filter(person_id=user.person_id).defer(*LIGHT_FIELDS).order_by("-month")
    return render(request, "statements/statement_list.html", {"statements": statements[:36]})


@login_required
def statement_detail(request: HttpRequest, month: str) -> HttpResponse:
    statement = _own_statement(request, month)
    return render(request, "statements/statement_detail.html", {"page": statement_page(statement), "statement": statement})


@never_cache
@login_required
def statement_pdf(request: HttpRequest, month: str) -> HttpResponse:
    from .pdf import FontMissing, filename, pdf_for

    statement = _own_statement(request, month, with_pdf=True)
    try:
        data = pdf_for(statement, translation.get_language() or "zh-hans")
    except FontMissing:
        logger.error("statement PDF not made: no CJK font installed (see requirements.txt)")
        # Plain words instead of a server error; the HTML statement has the same figures.
        return render(request, "statements/statement_pdf_unavailable.html", {"statement": statement})
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename(statement)}"'
    return response
