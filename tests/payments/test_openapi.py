"""The OpenAPI document at /api/v1/openapi.json tells the truth about the settlement API."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import get_resolver, resolve
from jsonschema import Draft202012Validator, FormatChecker

from payments import api, api_urls, openapi

from .conftest import credit, voucher_for

pytestmark = pytest.mark.django_db

DOC = openapi.document()


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator({"components": DOC["components"], **schema}, format_checker=FormatChecker())


def assert_conforms(response, method: str, template: str) -> None:
    """The response's status is documented for the operation and its body validates against it."""
    operation = DOC["paths"][template][method.lower()]
    status = str(response.status_code)
    assert status in operation["responses"], f"{method} {template} answered an undocumented {status}"
    assert response["Content-Type"].startswith("application/json")
    schema = operation["responses"][status]["content"]["application/json"]["schema"]
    errors = [e.message for e in _validator(schema).iter_errors(response.json())]
    assert errors == [], errors


def request_errors(template: str, body: Any) -> list[str]:
    schema = DOC["paths"][template]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return [e.message for e in _validator(schema).iter_errors(body)]


def test_the_document_is_served_publicly_and_is_openapi_3_1(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    assert response.json() == DOC
    assert DOC["openapi"] == "3.1.0"
    for schema in DOC["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    assert client.post("/api/v1/openapi.json").status_code == 405


def test_every_api_route_is_documented_and_every_documented_path_is_routed():
    views = {p.callback for p in api_urls.urlpatterns} - {api.not_found, api.openapi_document}
    documented = set()
    for template, operations in DOC["paths"].items():
        match = resolve(template.replace("{id}", "1"))
        assert match.func is not api.not_found, template
        documented.add(match.func)
        for method in operations:
            # the view accepts the documented method: anything else is 405 before authentication
            assert method.upper() in _methods_of(match.func)
    assert views == documented
    assert get_resolver()  # the URLconf loads


def _methods_of(view: Any) -> set[str]:
    source = {api.settlements: "POST", api.settlement_refund: "POST", api.settlement_detail: "GET"}
    return {source[view]}


def test_real_responses_validate_against_the_document(hospital, holder, client):
    credit(holder, 50_000)
    body = {"voucher": voucher_for(holder), "category": "outpatient", "amount_fen": 30_000, "reference": "INV-9"}
    assert request_errors("/api/v1/settlements", body) == []
    created = hospital.post("/api/v1/settlements", body, idem="doc-1")
    assert created.status_code == 201
    assert_conforms(created, "POST", "/api/v1/settlements")
    replay = hospital.post("/api/v1/settlements", body, idem="doc-1")
    assert replay.status_code == 201 and replay.json() == created.json()
    assert_conforms(hospital.post("/api/v1/settlements", {**body, "amount_fen": 1}, idem="doc-1"),
                    "POST", "/api/v1/settlements")  # 409
    sid = created.json()["id"]
    refund_path = "/api/v1/settlements/{id}/refund"
    partial = hospital.post(f"/api/v1/settlements/{sid}/refund", {"amount_fen": 10_000})
    assert partial.status_code == 201 and partial.json()["refunds"]
    assert_conforms(partial, "POST", refund_path)
    assert_conforms(hospital.post(f"/api/v1/settlements/{sid}/refund", {"amount_fen": 10**9}), "POST", refund_path)
    assert_conforms(hospital.post(f"/api/v1/settlements/{sid}/refund", {"amount_fen": "x"}), "POST", refund_path)
    assert_conforms(hospital.post(f"/api/v1/settlements/{sid + 1000}/refund", {}), "POST", refund_path)
    everything = hospital.post(f"/api/v1/settlements/{sid}/refund", {"amount_fen": None})
    assert everything.status_code == 201 and everything.json()["refunded_fen"] == 30_000
    assert_conforms(everything, "POST", refund_path)
    detail = hospital.get(f"/api/v1/settlements/{sid}")
    assert detail.status_code == 200 and len(detail.json()["refunds"]) == 2
    assert_conforms(detail, "GET", "/api/v1/settlements/{id}")
    assert_conforms(hospital.get(f"/api/v1/settlements/{sid + 1000}"), "GET", "/api/v1/settlements/{id}")
    assert_conforms(client.get(f"/api/v1/settlements/{sid}"), "GET", "/api/v1/settlements/{id}")  # 401


@pytest.mark.parametrize("change", [
    {"voucher": "NOPE-1234"},  # 422 voucher_invalid
    {"category": "inpatient", "voucher": None},  # 400: voucher missing
    {"amount_fen": 0},
    {"amount_fen": openapi.MAX_AMOUNT_FEN + 1},
    {"reference": "  "},
    {"reference": "a\x00b"},
])
def test_refusals_validate_and_what_the_document_calls_invalid_is_refused(hospital, holder, change):
    credit(holder, 1_000)
    body = {"voucher": voucher_for(holder), "category": "outpatient", "amount_fen": 100, "reference": "R", **change}
    response = hospital.post("/api/v1/settlements", body)
    assert 400 <= response.status_code < 500
    assert_conforms(response, "POST", "/api/v1/settlements")
    if response.status_code == 400:
        assert request_errors("/api/v1/settlements", body) != []


def test_the_text_pattern_matches_what_the_api_accepts():
    pattern = re.compile(openapi.STORABLE_TEXT)
    for good in ["a", " a ", "发票 1", "a\x1cb"]:
        assert pattern.search(good), repr(good)
    for bad in ["", " ", "\x1c\x1f", "\t\n", "a\x00", "\u3000"]:
        assert not pattern.search(bad), repr(bad)
    missing = request_errors("/api/v1/settlements", {})
    assert len(missing) == 4 and all("required" in e for e in missing)
