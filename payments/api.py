"""The settlement API (SPEC §6): JSON in, JSON out, for designated institutions.

Every answer is JSON: errors are ``{"error": code, "message": text}`` with a 4xx status, also
for malformed bodies, wrong methods and unknown routes under /api/. Views stay thin: parse,
authenticate, call one service (payments.settlement), store the idempotent response.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, DataError
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from portal import ratelimits
from portal.middleware import has_unstorable, unstorable_message

from . import idempotency, openapi
from .institutions import authenticate
from .models import Institution
from .settlement import get_settlement, refund, settle
from .settlement_base import SettlementError, SettlementView, settlement_json

log = logging.getLogger(__name__)

JSON_HEADERS = {"Cache-Control": "no-store"}


def error(status: int, code: str, message: Any, **headers: str) -> JsonResponse:
    response = JsonResponse({"error": code, "message": str(message)}, status=status,
                            json_dumps_params={"ensure_ascii": False})
    for name, value in {**JSON_HEADERS, **headers}.items():
        response[name] = value
    return response


def ok(status: int, body: Any, **headers: str) -> JsonResponse:
    response = JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    for name, value in {**JSON_HEADERS, **headers}.items():
        response[name] = value
    return response


class BadRequest(Exception):
    def __init__(self, code: str, message: Any, status: int = 400) -> None:
        super().__init__(str(message))
        self.code, self.message, self.status = code, message, status


ApiView = Callable[..., JsonResponse]


def api_view(*methods: str) -> Callable[[ApiView], ApiView]:
    """Method check, Bearer authentication, and JSON for every failure (never an HTML page)."""

    def decorate(view: ApiView) -> ApiView:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
            try:
                if request.method not in methods:
                    return error(405, "method_not_allowed",
                                 _("This address accepts only %(methods)s.") % {"methods": ", ".join(methods)},
                                 Allow=", ".join(methods))
                institution = _authenticate(request)
                if institution is None:
                    return error(401, "unauthorized",
                                 _("Send a valid institution API key as 'Authorization: Bearer <key>'."),
                                 **{"WWW-Authenticate": 'Bearer realm="settlements"'})
                wait = ratelimits.hit(request, "api_per_institution", f"institution:{institution.pk}")
                if wait is not None:
                    return error(429, "rate_limited",
                                 _("Too many requests from this institution. Please retry after %(seconds)s seconds.")
                                 % {"seconds": wait}, **{"Retry-After": str(wait)})
                return view(request, institution, *args, **kwargs)
            except BadRequest as exc:
                return error(exc.status, exc.code, exc.message)
            except SettlementError as exc:
                return error(exc.status, exc.code, exc.message)
            except DataError:  # a value the database cannot store: retrying cannot help
                log.exception("data error in the settlement API")
                return error(400, "invalid_request", unstorable_message())
            except DatabaseError:
                log.exception("database error in the settlement API")
                return error(503, "try_again", _("The service is busy. Please retry the same request in a moment."),
                             **{"Retry-After": "1"})
            except Exception:  # the API never answers with an HTML error page
                log.exception("unexpected error in the settlement API")
                return error(500, "internal_error", _("Something went wrong on our side. Please retry later."))

        return wrapper

    return decorate


def _authenticate(request: HttpRequest) -> Institution | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return authenticate(token.strip())


def _json_body(request: HttpRequest) -> dict[str, Any]:
    try:
        raw = request.body
    except RequestDataTooBig:
        raise BadRequest("invalid_request", _("The request body is too large."), 413)
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadRequest("invalid_request", _("The request body must be a JSON object in UTF-8."))
    if not isinstance(data, dict):
        raise BadRequest("invalid_request", _("The request body must be a JSON object."))
    return data  # fields it does not know are ignored; the ones it reads are checked as read


def _idempotency_key(request: HttpRequest) -> str:
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        raise BadRequest("idempotency_key_required",
                         _("Send an Idempotency-Key header (for example a UUID) with every POST."))
    if len(key) > 255:
        raise BadRequest("invalid_request", _("The Idempotency-Key header may be at most 255 characters."))
    if has_unstorable(key):
        raise BadRequest("invalid_request", unstorable_message())
    return key


def _idempotent(request: HttpRequest, institution: Institution, payload: dict[str, Any],
                work: Callable[[idempotency.Claim], SettlementView], status: int) -> JsonResponse:
    """Run ``work`` once per (institution, Idempotency-Key); replays get the stored response.

    ``work`` takes the claim on the key in its first query and stores its response with the
    record, in its own transaction (see payments.idempotency).
    """
    key = _idempotency_key(request)
    fp = idempotency.fingerprint(request.method or "", request.path, payload)
    claim = idempotency.Claim(institution.pk, key, fp)
    try:
        try:
            view = work(claim)
        except idempotency.Taken:
            outcome = idempotency.begin(institution, key, fp)
            if outcome.conflict == "different_request":
                return error(409, "idempotency_conflict",
                             _("This Idempotency-Key was already used with a different request. Use a new key."))
            if outcome.conflict == "in_flight":
                return error(409, "idempotency_conflict",
                             _("A request with this Idempotency-Key is still being processed. Retry in a moment."))
            if outcome.replay is not None:
                replay_status, body = outcome.replay
                return ok(replay_status, body, **{"Idempotent-Replayed": "true"})
            claim.record_id = outcome.record_id  # the earlier record went away (or was stale): run
            view = work(claim)
    except BaseException:
        if claim.record_id is not None:
            idempotency.abort(claim.record_id)
        raise
    return ok(status, settlement_json(view))


def _require_str(data: dict[str, Any], name: str, max_length: int) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise BadRequest("invalid_request", _("'%(name)s' is required and must be a text string.") % {"name": name})
    if len(value) > max_length:
        raise BadRequest("invalid_request", _("'%(name)s' may be at most %(n)s characters.") % {"name": name, "n": max_length})
    if has_unstorable(value):
        raise BadRequest("invalid_request", unstorable_message())
    return value.strip()


def _amount(value: Any) -> int:
    # JSON has one kind of number: 100.0 is the whole number 100 (as JSON Schema's "integer" says)
    if type(value) is float and value.is_integer():
        value = int(value)
    if type(value) is not int or value <= 0:
        raise BadRequest("invalid_amount", _("amount_fen must be a whole number of fen greater than 0."))
    return value


@api_view("POST")
def settlements(request: HttpRequest, institution: Institution) -> JsonResponse:
    data = _json_body(request)
    voucher = _require_str(data, "voucher", 64)
    category = _require_str(data, "category", 40)
    amount = _amount(data.get("amount_fen"))
    reference = _require_str(data, "reference", 100)
    return _idempotent(
        request, institution, data,
        lambda claim: settle(institution, voucher, category, amount, reference, claim=claim), 201,
    )


@api_view("POST")
def settlement_refund(request: HttpRequest, institution: Institution, pk: str) -> JsonResponse:
    data = _json_body(request)
    amount = None if data.get("amount_fen") is None else _amount(data.get("amount_fen"))
    return _idempotent(
        request, institution, data, lambda claim: refund(institution, int(pk), amount, claim=claim), 201
    )


@api_view("GET")
def settlement_detail(request: HttpRequest, institution: Institution, pk: str) -> JsonResponse:
    return ok(200, settlement_json(get_settlement(institution, int(pk))))


@csrf_exempt
def openapi_document(request: HttpRequest) -> JsonResponse:
    """The API's OpenAPI 3.1 document (payments.openapi); public, like any API documentation."""
    if request.method not in ("GET", "HEAD"):
        return error(405, "method_not_allowed",
                     _("This address accepts only %(methods)s.") % {"methods": "GET, HEAD"}, Allow="GET, HEAD")
    return JsonResponse(openapi.document(), json_dumps_params={"ensure_ascii": False})


@csrf_exempt
def not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    return error(404, "not_found", _("There is nothing at this address. See the settlement API documentation."))
