"""Input the database cannot store gets 400 invalid_request from the API, never a 5xx or "retry"."""

from __future__ import annotations

import json

import pytest

from accounts.models import InsuredPerson
from payments import ledger
from payments.models import IdempotencyRecord, Settlement

from .conftest import credit, voucher_for

pytestmark = pytest.mark.django_db

UNSTORABLE = ["a\x00b", "\x00", "a\ud800b", "\udfff"]


def _body(holder: InsuredPerson, **changes: object) -> dict[str, object]:
    body: dict[str, object] = {"voucher": voucher_for(holder), "category": "outpatient", "amount_fen": 100,
                               "reference": "INV-1"}
    body.update(changes)
    return body


def _assert_refused(response) -> None:
    assert response.status_code == 400, response.content
    assert "Retry-After" not in response
    body = response.json()
    assert body["error"] == "invalid_request"
    assert "cannot be stored" in body["message"]


@pytest.mark.parametrize("field", ["reference", "voucher", "category"])
@pytest.mark.parametrize("value", UNSTORABLE)
def test_an_unstorable_character_in_a_field_is_a_clear_400_and_nothing_is_written(hospital, holder, field, value):
    credit(holder, 1_000)
    # json.dumps writes a lone surrogate as the escape \ud800, as a client's JSON library would
    response = hospital.post("/api/v1/settlements", json.dumps(_body(holder, **{field: value})), raw=True)
    _assert_refused(response)
    assert Settlement.objects.count() == 0 and IdempotencyRecord.objects.count() == 0
    assert ledger.balance_of(holder) == 1_000


def test_fields_the_api_does_not_read_are_ignored_even_when_unstorable(hospital, holder):
    credit(holder, 1_000)
    body = _body(holder, **{"note\x00": "x\ud800"})
    created = hospital.post("/api/v1/settlements", json.dumps(body), raw=True)
    assert created.status_code == 201, created.content
    settlement_id = created.json()["id"]
    refund = hospital.post(f"/api/v1/settlements/{settlement_id}/refund",
                           json.dumps({"amount_fen": 10, "x": ["\x00", "\udc00"]}), raw=True)
    assert refund.status_code == 201
    assert ledger.balance_of(holder) == 1_000 - 100 + 10


def test_a_whole_number_written_as_a_float_is_a_whole_number(hospital, holder):
    credit(holder, 1_000)
    assert hospital.post("/api/v1/settlements", _body(holder, amount_fen=250.0)).json()["paid_fen"] == 250
    response = hospital.post("/api/v1/settlements", _body(holder, amount_fen=2.5))
    assert response.status_code == 400 and response.json()["error"] == "invalid_amount"
    assert ledger.balance_of(holder) == 750


@pytest.mark.parametrize("key", ["k\x00", "\ud800"])
def test_an_unstorable_idempotency_key_is_refused(hospital, holder, key):
    credit(holder, 1_000)
    _assert_refused(hospital.post("/api/v1/settlements", _body(holder), idem=key))
    assert ledger.balance_of(holder) == 1_000


def test_a_nul_in_the_api_query_string_is_refused_as_json(hospital):
    response = hospital.get("/api/v1/settlements/1?x=%00")
    _assert_refused(response)
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("amount", [10**30, 2**63, -(2**63), 0])
def test_an_overflowing_amount_is_a_4xx(hospital, holder, amount):
    credit(holder, 1_000)
    response = hospital.post("/api/v1/settlements", _body(holder, amount_fen=amount))
    assert 400 <= response.status_code < 500 and response.json()["error"] == "invalid_amount"
    assert ledger.balance_of(holder) == 1_000
