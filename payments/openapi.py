"""The OpenAPI 3.1 document of the settlement API (SPEC §6), served at /api/v1/openapi.json.

Hand-written to match payments.api as built; tests/payments/test_openapi.py keeps it true (every
route is documented, real responses validate against it) and .ci/api_contract.sh runs
schemathesis against a running server with it.
"""

from __future__ import annotations

from typing import Any

from .settlement import API_CATEGORIES, MAX_AMOUNT_FEN

MAX_ID = 10**18 - 1  # the routes take at most 18 digits

# Text the API stores: at least one character that is not white space (the API strips it), and
# no NUL (the database cannot store it; refused with invalid_request). Python's white space
# includes the separators \x1c-\x1f, hence the explicit range.
STORABLE_TEXT = "^[^\\x00]*[^\\s\\x00\\x1c-\\x1f][^\\x00]*$"


def _text(max_length: int, description: str) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": max_length, "pattern": STORABLE_TEXT,
            "description": description}


_ERROR_CODES = (
    "unauthorized, voucher_invalid, voucher_expired, not_insured, category_not_allowed, invalid_amount, "
    "invalid_request, idempotency_key_required, idempotency_conflict, refund_exceeds_payment, not_found, "
    "method_not_allowed, try_again"
)

_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error", "message"],
        "additionalProperties": False,
        "properties": {
            "error": {"type": "string", "minLength": 1, "description": f"A code for machines: {_ERROR_CODES}."},
            "message": {"type": "string", "minLength": 1,
                        "description": "Plain words for people, in the language of the request."},
        },
    },
    "Source": {
        "type": "object",
        "required": ["source", "relationship", "holder", "amount_fen"],
        "additionalProperties": False,
        "properties": {
            "source": {"enum": ["own", "pooled"], "description": "The patient's own account or a relative's."},
            "relationship": {"type": ["string", "null"],
                             "description": "'self' for the own account; the holder's relationship otherwise."},
            "holder": {"type": "string", "description": "The account holder's name, masked (张*)."},
            "amount_fen": {"type": "integer", "minimum": 0},
        },
    },
    "Refund": {
        "type": "object",
        "required": ["id", "amount_fen", "sources", "created_at"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer", "minimum": 1},
            "amount_fen": {"type": "integer", "minimum": 1},
            "sources": {"type": "array", "items": {"$ref": "#/components/schemas/Source"},
                        "description": "What went back to each source, newest-charged first."},
            "created_at": {"type": "string", "format": "date-time"},
        },
    },
    "Settlement": {
        "type": "object",
        "required": ["id", "status", "amount_fen", "paid_fen", "remaining_fen", "refunded_fen", "category",
                     "reference", "sources", "refunds", "created_at"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
            "status": {"const": "completed"},
            "amount_fen": {"type": "integer", "minimum": 1, "maximum": MAX_AMOUNT_FEN},
            "paid_fen": {"type": "integer", "minimum": 0, "description": "Paid from insurance accounts."},
            "remaining_fen": {"type": "integer", "minimum": 0, "description": "Left for the patient to pay."},
            "refunded_fen": {"type": "integer", "minimum": 0},
            "category": {"enum": list(API_CATEGORIES)},
            "reference": {"type": "string"},
            "sources": {"type": "array", "items": {"$ref": "#/components/schemas/Source"},
                        "description": "Who paid, in the patient's deduction order."},
            "refunds": {"type": "array", "items": {"$ref": "#/components/schemas/Refund"}},
            "created_at": {"type": "string", "format": "date-time"},
        },
    },
    "SettlementRequest": {
        "type": "object",
        "required": ["voucher", "category", "amount_fen", "reference"],
        "properties": {
            "voucher": _text(64, "The one-time e-voucher code the patient shows (QR or digits)."),
            "category": {"enum": list(API_CATEGORIES),
                         "description": "The kind of care; an institution may charge only its kind's categories."},
            "amount_fen": {"type": "integer", "minimum": 1, "maximum": MAX_AMOUNT_FEN,
                           "description": "The bill in fen (1/100 yuan)."},
            "reference": _text(100, "The institution's own invoice or bill number."),
        },
    },
    "RefundRequest": {
        "type": "object",
        "properties": {
            "amount_fen": {"type": ["integer", "null"], "minimum": 1,
                           "description": "Fen to refund; absent or null: all that remains."},
        },
    },
}


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _settlement(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Settlement"}}}}


_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": True,
    "description": "A unique key per payment (for example a UUID). Sending the same key with the same "
                   "body again returns the first response; with a different body: 409.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": STORABLE_TEXT},
}

_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID},
}

_COMMON_ERRORS = {
    "401": _error("No valid institution API key (code unauthorized)."),
    "503": _error("The database is busy (code try_again): retry the same request with the same key."),
}

_POST_ERRORS = {
    "400": _error("A malformed request: not a JSON object, a missing or wrong field, no Idempotency-Key, "
                  "characters that cannot be stored (codes invalid_request, invalid_amount, "
                  "idempotency_key_required)."),
    "409": _error("The Idempotency-Key was used with a different body, or its request is still running "
                  "(code idempotency_conflict)."),
    "413": _error("The body is too large (code invalid_request)."),
}


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Family Pooling Portal settlement API",
            "version": "1",
            "description": "Designated institutions charge insured patients' personal accounts (their own, "
                           "then relatives' pooled balances) with the patient's one-time e-voucher. An "
                           "institution sees only its own settlements. Amounts are integer fen.",
        },
        "security": [{"institutionKey": []}],
        "paths": {
            "/api/v1/settlements": {
                "post": {
                    "operationId": "createSettlement",
                    "summary": "Charge a patient for one bill",
                    "parameters": [_IDEMPOTENCY_KEY],
                    "requestBody": {"required": True, "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/SettlementRequest"}}}},
                    "responses": {
                        "201": _settlement("Settled (also when replayed with the same key and body)."),
                        **_POST_ERRORS,
                        "422": _error("Refused: the voucher is unknown, used or expired, the patient is not "
                                      "insured, or the category is not allowed (codes voucher_invalid, "
                                      "voucher_expired, not_insured, category_not_allowed)."),
                        **_COMMON_ERRORS,
                    },
                    "links": {
                        "GetSettlement": {"operationId": "getSettlement",
                                          "parameters": {"id": "$response.body#/id"}},
                        "RefundSettlement": {"operationId": "refundSettlement",
                                             "parameters": {"id": "$response.body#/id"}},
                    },
                },
            },
            "/api/v1/settlements/{id}": {
                "get": {
                    "operationId": "getSettlement",
                    "summary": "A settlement of this institution, with its refunds",
                    "parameters": [_ID],
                    "responses": {
                        "200": _settlement("The settlement."),
                        "404": _error("No settlement with this id for this institution (code not_found)."),
                        **_COMMON_ERRORS,
                    },
                },
            },
            "/api/v1/settlements/{id}/refund": {
                "post": {
                    "operationId": "refundSettlement",
                    "summary": "Refund all or part of a settlement to its sources, newest-charged first",
                    "parameters": [_ID, _IDEMPOTENCY_KEY],
                    "requestBody": {"required": False, "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/RefundRequest"}}}},
                    "responses": {
                        "201": _settlement("Refunded; the settlement with all its refunds."),
                        **_POST_ERRORS,
                        "404": _error("No settlement with this id for this institution (code not_found)."),
                        "422": _error("More than remains to refund (code refund_exceeds_payment)."),
                        **_COMMON_ERRORS,
                    },
                },
            },
        },
        "components": {
            "schemas": _SCHEMAS,
            "securitySchemes": {
                "institutionKey": {"type": "http", "scheme": "bearer",
                                   "description": "The institution's API key (create_institution prints it)."},
            },
        },
    }
