"""Refuse input the database cannot store, before any view sees it.

PostgreSQL text cannot hold a NUL character, and no UTF-8 text can hold an unpaired surrogate;
such a value reaching a query raises a database error (a 500, or an API "retry" that can never
succeed). ``RejectUnstorableInputMiddleware`` answers any request whose path, query string or
form fields (names or values) contain one with a translated 400 page, or the API's JSON error
under /api/. The settlement API checks its JSON bodies itself (payments.api).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def has_unstorable(value: Any) -> bool:
    """True if ``value`` (text, or lists and dicts of them, keys included) has a NUL or a lone surrogate."""
    if isinstance(value, str):
        return _UNSTORABLE.search(value) is not None
    if isinstance(value, dict):
        return any(has_unstorable(k) or has_unstorable(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(has_unstorable(item) for item in value)
    return False


def unstorable_message() -> str:
    return _("The request contains characters that cannot be stored (such as a NUL byte or "
             "an unpaired surrogate). Remove them and send the request again.")


def _query_dict_unstorable(data: Any) -> bool:
    return any(has_unstorable(key) or has_unstorable(data.getlist(key)) for key in data)


def request_has_unstorable(request: HttpRequest) -> bool:
    if has_unstorable(request.path) or _query_dict_unstorable(request.GET):
        return True
    if request.path.startswith("/api/") or request.method != "POST":
        return False  # the API reads its own (JSON) body
    if request.content_type not in _FORM_TYPES:
        return False
    try:
        post = request.POST
    except Exception:  # a malformed or oversized body: the view's own handling answers it
        return False
    return _query_dict_unstorable(post)


class RejectUnstorableInputMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request_has_unstorable(request):
            if request.path.startswith("/api/"):
                response: HttpResponse = JsonResponse(
                    {"error": "invalid_request", "message": unstorable_message()},
                    status=400, json_dumps_params={"ensure_ascii": False})
                response["Cache-Control"] = "no-store"
                return response
            return render(request, "400_unstorable.html", status=400)
        return self.get_response(request)
