"""Idempotency-Key: a retry returns the original result and moves nothing."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from payments import ledger
from payments.models import IdempotencyRecord, Settlement

from .conftest import credit, voucher_for

pytestmark = pytest.mark.django_db


def body(code: str, amount: int = 1_000) -> dict:
    return {"voucher": code, "category": "outpatient", "amount_fen": amount, "reference": "INV-9"}


def test_it_replays_the_same_request_with_the_original_response(hospital, holder):
    credit(holder, 10_000)
    code = voucher_for(holder)
    first = hospital.post("/api/v1/settlements", body(code), idem="abc")
    again = hospital.post("/api/v1/settlements", body(code), idem="abc")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert ledger.balance_of(holder) == 9_000
    assert Settlement.objects.count() == 1


def test_it_refuses_the_same_key_with_a_different_body(hospital, holder):
    credit(holder, 10_000)
    code = voucher_for(holder)
    hospital.post("/api/v1/settlements", body(code), idem="abc")
    response = hospital.post("/api/v1/settlements", body(code, 2_000), idem="abc")
    assert response.status_code == 409 and response.json()["error"] == "idempotency_conflict"
    assert ledger.balance_of(holder) == 9_000


def test_it_refuses_a_key_whose_request_is_still_in_flight(hospital, holder):
    credit(holder, 10_000)
    code = voucher_for(holder)
    from payments.idempotency import begin, fingerprint

    begin(hospital.institution, "busy", fingerprint("POST", "/api/v1/settlements", body(code)))
    response = hospital.post("/api/v1/settlements", body(code), idem="busy")
    assert response.status_code == 409 and response.json()["error"] == "idempotency_conflict"
    assert ledger.balance_of(holder) == 10_000


def test_a_request_that_died_in_flight_can_be_retried_after_a_while(hospital, holder):
    credit(holder, 10_000)
    code = voucher_for(holder)
    from payments.idempotency import begin, fingerprint

    begin(hospital.institution, "lost", fingerprint("POST", "/api/v1/settlements", body(code)),
          now=timezone.now() - datetime.timedelta(minutes=5))
    assert hospital.post("/api/v1/settlements", body(code), idem="lost").status_code == 201


def test_keys_of_different_institutions_never_collide(hospital, pharmacy, holder):
    credit(holder, 10_000)
    a = hospital.post("/api/v1/settlements", body(voucher_for(holder)), idem="same")
    b = pharmacy.post("/api/v1/settlements", {**body(voucher_for(holder)), "category": "pharmacy_drug"}, idem="same")
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]
    assert ledger.balance_of(holder) == 8_000


def test_a_refused_request_does_not_burn_its_key(hospital, holder):
    credit(holder, 10_000)
    stale = voucher_for(holder)
    fresh = voucher_for(holder)  # replaces the first code
    assert hospital.post("/api/v1/settlements", body(stale), idem="k1").status_code == 422
    assert not IdempotencyRecord.objects.filter(key="k1").exists()
    assert hospital.post("/api/v1/settlements", body(fresh), idem="k2").status_code == 201


def test_refunds_are_idempotent_too(hospital, holder):
    credit(holder, 10_000)
    created = hospital.settle(voucher_for(holder), 4_000).json()
    first = hospital.refund(created["id"], 1_000, idem="r1")
    again = hospital.refund(created["id"], 1_000, idem="r1")
    assert again.json() == first.json()
    assert ledger.balance_of(holder) == 7_000


@pytest.mark.parametrize("change", [{"amount_fen": 10**12}, {"voucher": "12"}, {"category": "cosmetics"}])
def test_a_used_key_is_answered_from_its_record_before_the_new_body_is_checked(hospital, holder, change):
    """The key is claimed in the payment's first query: a reused key with a different (even
    invalid) body is a conflict, not a validation error about the new body."""
    credit(holder, 10_000)
    code = voucher_for(holder)
    assert hospital.post("/api/v1/settlements", body(code), idem="once").status_code == 201
    response = hospital.post("/api/v1/settlements", {**body(code), **change}, idem="once")
    assert response.status_code == 409 and response.json()["error"] == "idempotency_conflict"
    assert ledger.balance_of(holder) == 9_000


def test_a_malformed_code_is_refused_and_the_key_stays_free(hospital, holder):
    credit(holder, 10_000)
    refused = hospital.post("/api/v1/settlements", body("not-a-code"), idem="k3")
    assert refused.status_code == 422 and refused.json()["error"] == "voucher_invalid"
    assert not IdempotencyRecord.objects.filter(key="k3").exists()
    assert hospital.post("/api/v1/settlements", body(voucher_for(holder)), idem="k3").status_code == 201
    assert ledger.balance_of(holder) == 9_000
