"""The settlement API as institutions see it (SPEC §6)."""

from __future__ import annotations

import datetime
import json

import pytest
from django.utils import timezone

from accounts.models import RegionPolicy
from accounts.notifications import Notification
from payments import ledger
from payments.models import Voucher
from tests.conftest import make_person

from .conftest import bind, credit, voucher_for

pytestmark = pytest.mark.django_db


def error_of(response) -> str:
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    body = response.json()
    assert set(body) == {"error", "message"} and body["message"]
    return body["error"]


def test_it_pays_from_the_patients_own_account(hospital, holder):
    credit(holder, 50_000)
    response = hospital.settle(voucher_for(holder), 12_345)
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "completed"
    assert (body["amount_fen"], body["paid_fen"], body["remaining_fen"]) == (12_345, 12_345, 0)
    assert body["sources"] == [{"source": "own", "relationship": "self", "holder": "张*", "amount_fen": 12_345}]
    assert body["created_at"].endswith("Z")
    assert ledger.balance_of(holder) == 50_000 - 12_345


def test_it_pays_a_relative_from_the_holders_account_and_tells_the_holder(
    hospital, holder, mother, sent_messages, django_capture_on_commit_callbacks
):
    credit(holder, 30_000)
    bind(holder, mother, "parent")
    code = voucher_for(mother)
    with django_capture_on_commit_callbacks(execute=True):
        body = hospital.settle(code, 20_000).json()
    assert body["paid_fen"] == 20_000
    assert body["sources"] == [{"source": "pooled", "relationship": "parent", "holder": "张*", "amount_fen": 20_000}]
    assert ledger.balance_of(holder) == 10_000
    notice = Notification.objects.get(person=holder, kind="spending")
    assert "李秀英" in notice.subject or "李秀英" in notice.body
    assert "200.00" in notice.body
    assert [m.address for m in sent_messages] == [holder.phone]  # delivered after commit (SMS by default)


def test_it_uses_own_account_first_then_holders_and_reports_what_is_left(hospital, holder):
    spouse = make_person("王丽", birth="1977-06-08", sex="F")
    credit(spouse, 1_000)
    credit(holder, 2_000)
    bind(holder, spouse, "spouse")
    body = hospital.settle(voucher_for(spouse), 5_000).json()
    assert [(s["source"], s["amount_fen"]) for s in body["sources"]] == [("own", 1_000), ("pooled", 2_000)]
    assert (body["paid_fen"], body["remaining_fen"]) == (3_000, 2_000)
    assert ledger.balance_of(spouse) == 0 and ledger.balance_of(holder) == 0


def test_it_respects_the_holders_caps(hospital, holder, mother):
    credit(holder, 100_000)
    bind(holder, mother, "parent", per_payment_cap_fen=5_000)
    body = hospital.settle(voucher_for(mother), 8_000).json()
    assert (body["paid_fen"], body["remaining_fen"]) == (5_000, 3_000)


def test_it_pays_nothing_from_a_paused_binding(hospital, holder, mother):
    credit(holder, 100_000)
    binding = bind(holder, mother, "parent")
    binding.status = "paused"
    binding.save()
    body = hospital.settle(voucher_for(mother), 8_000).json()
    assert (body["paid_fen"], body["remaining_fen"], body["sources"]) == (0, 8_000, [])
    assert ledger.balance_of(holder) == 100_000


def test_it_refuses_a_category_the_institution_cannot_charge(pharmacy, hospital, holder):
    credit(holder, 10_000)
    code = voucher_for(holder)
    assert error_of(pharmacy.settle(code, 100, category="inpatient")) == "category_not_allowed"
    assert error_of(hospital.settle(code, 100, category="fitness")) == "category_not_allowed"
    assert pharmacy.settle(code, 100, category="pharmacy_drug").status_code == 201


def test_a_category_the_region_policy_excludes_is_paid_by_the_own_account_only(hospital, holder, mother):
    policy = RegionPolicy.objects.in_force("460100")
    RegionPolicy.objects.create(region_id="460100", effective_from=datetime.date(2021, 1, 1),
                                allowed_categories=[c for c in policy.allowed_categories if c != "vaccine_class2"])
    credit(holder, 10_000)
    assert hospital.settle(voucher_for(holder), 100, category="vaccine_class2").json()["paid_fen"] == 100
    bind(holder, mother, "parent")  # the list governs pooled money: the mother's vaccine is not pooled
    assert hospital.settle(voucher_for(mother), 100, category="vaccine_class2").json()["paid_fen"] == 0


def test_a_voucher_works_once_and_then_is_invalid(hospital, holder):
    credit(holder, 10_000)
    code = voucher_for(holder)
    assert hospital.settle(code, 100).status_code == 201
    response = hospital.settle(code, 100)
    assert response.status_code == 422 and error_of(response) == "voucher_invalid"
    assert ledger.balance_of(holder) == 9_900


def test_an_expired_or_unknown_voucher_is_refused(hospital, holder):
    credit(holder, 10_000)
    code = voucher_for(holder)
    Voucher.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert error_of(hospital.settle(code, 100)) == "voucher_expired"
    assert error_of(hospital.settle("123456789012345678", 100)) == "voucher_invalid"
    assert error_of(hospital.settle("not a code", 100)) == "voucher_invalid"
    assert ledger.balance_of(holder) == 10_000


def test_a_failed_payment_leaves_the_voucher_usable(pharmacy, holder):
    credit(holder, 10_000)
    code = voucher_for(holder)
    assert error_of(pharmacy.settle(code, 100, category="inpatient")) == "category_not_allowed"
    assert pharmacy.settle(code, 100, category="pharmacy_drug").status_code == 201


@pytest.mark.parametrize("amount", [0, -5, 1.5, "100", None, True, 10**15])
def test_it_refuses_a_bad_amount(hospital, holder, amount):
    credit(holder, 10_000)
    response = hospital.settle(voucher_for(holder), amount)
    assert response.status_code == 400 and error_of(response) == "invalid_amount"


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", "\"text\"", "\xff\xfe", "[" * 100_000])
def test_it_answers_malformed_bodies_with_json(hospital, body):
    response = hospital.post("/api/v1/settlements", body, raw=True)
    assert response.status_code == 400 and error_of(response) == "invalid_request"


def test_it_answers_missing_and_wrongly_typed_fields_with_json(hospital, holder):
    response = hospital.post("/api/v1/settlements", {"voucher": 123, "category": "outpatient", "amount_fen": 1,
                                                     "reference": "x"})
    assert response.status_code == 400 and error_of(response) == "invalid_request"
    response = hospital.post("/api/v1/settlements", {"voucher": voucher_for(holder), "amount_fen": 1})
    assert response.status_code == 400 and error_of(response) == "invalid_request"


def test_it_requires_a_valid_bearer_key(hospital, client):
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": f"Basic {hospital.key}"}):
        response = client.post("/api/v1/settlements", data="{}", content_type="application/json",
                               headers={"Idempotency-Key": "k", **headers})
        assert response.status_code == 401 and error_of(response) == "unauthorized"


def test_it_requires_an_idempotency_key_on_post(hospital, holder):
    credit(holder, 1_000)
    response = hospital.settle(voucher_for(holder), 100, idem=None)
    assert response.status_code == 400 and error_of(response) == "idempotency_key_required"
    assert ledger.balance_of(holder) == 1_000


def test_unknown_routes_and_wrong_methods_answer_json(hospital, client):
    assert error_of(client.get("/api/v2/nothing")) == "not_found"
    assert client.get("/api/v1/settlements/abc").status_code == 404
    response = hospital.get("/api/v1/settlements")
    assert response.status_code == 405 and error_of(response) == "method_not_allowed"
    response = client.delete("/api/v1/settlements/1", headers={"Authorization": f"Bearer {hospital.key}"})
    assert response.status_code == 405 and error_of(response) == "method_not_allowed"


def test_an_institution_sees_only_its_own_settlements(hospital, pharmacy, holder):
    credit(holder, 10_000)
    created = hospital.settle(voucher_for(holder), 1_000).json()
    mine = hospital.get(f"/api/v1/settlements/{created['id']}")
    assert mine.status_code == 200 and mine.json() == created
    other = pharmacy.get(f"/api/v1/settlements/{created['id']}")
    assert other.status_code == 404 and error_of(other) == "not_found"
    assert error_of(pharmacy.refund(created["id"])) == "not_found"


def test_refunds_go_back_newest_charged_first_and_never_exceed_what_was_paid(hospital, holder):
    spouse = make_person("王丽", birth="1977-06-08", sex="F")
    credit(spouse, 1_000)
    credit(holder, 5_000)
    bind(holder, spouse, "spouse")
    created = hospital.settle(voucher_for(spouse), 4_000).json()  # own 1,000 then holder 3,000
    first = hospital.refund(created["id"], 2_500)
    assert first.status_code == 201
    assert first.json()["refunds"][0]["sources"] == [
        {"source": "pooled", "relationship": "spouse", "holder": "张*", "amount_fen": 2_500}
    ]
    assert ledger.balance_of(holder) == 4_500 and ledger.balance_of(spouse) == 0
    too_much = hospital.refund(created["id"], 1_501)
    assert too_much.status_code == 422 and error_of(too_much) == "refund_exceeds_payment"
    rest = hospital.refund(created["id"]).json()  # default: everything that remains
    assert rest["refunded_fen"] == 4_000
    assert [r["amount_fen"] for r in rest["refunds"]] == [2_500, 1_500]
    assert rest["refunds"][1]["sources"] == [
        {"source": "pooled", "relationship": "spouse", "holder": "张*", "amount_fen": 500},
        {"source": "own", "relationship": "self", "holder": "王*", "amount_fen": 1_000},
    ]
    assert ledger.balance_of(holder) == 5_000 and ledger.balance_of(spouse) == 1_000
    assert error_of(hospital.refund(created["id"], 1)) == "refund_exceeds_payment"
    shown = hospital.get(f"/api/v1/settlements/{created['id']}").json()
    assert shown["refunded_fen"] == 4_000 and len(shown["refunds"]) == 2


def test_it_refuses_a_bad_refund_amount(hospital, holder):
    credit(holder, 5_000)
    created = hospital.settle(voucher_for(holder), 1_000).json()
    for amount in (0, -1, "5", 2.5):
        response = hospital.post(f"/api/v1/settlements/{created['id']}/refund", {"amount_fen": amount})
        assert response.status_code == 400 and error_of(response) == "invalid_amount"


def test_errors_are_json_even_in_english(hospital, holder):
    response = hospital.client.post(
        "/api/v1/settlements", data=json.dumps({"voucher": "1", "category": "outpatient", "amount_fen": 0,
                                                "reference": "r"}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {hospital.key}", "Idempotency-Key": "x", "Accept-Language": "en"},
    )
    assert "greater than 0" in response.json()["message"]


def test_one_settlement_takes_few_queries(hospital, holder, mother, django_assert_max_num_queries):
    credit(holder, 100_000)
    bind(holder, mother, "parent", monthly_cap_fen=50_000)
    code = voucher_for(mother)
    hospital.settle(voucher_for(holder), 1)  # warm the institution's clearing-account cache
    with django_assert_max_num_queries(30):
        response = hospital.settle(code, 1_000)
    assert response.status_code == 201


def test_a_payment_from_an_uncapped_account_takes_two_queries(
    require_postgres, hospital, holder, mother, django_assert_num_queries
):
    credit(holder, 100_000)
    bind(holder, mother, "parent")
    hospital.settle(voucher_for(holder), 1)  # warm the per-process caches (institution key,
    hospital.settle(voucher_for(mother), 1)  # the holder's policy read for pooled money)
    own, pooled = voucher_for(holder), voucher_for(mother)
    # One statement claims the idempotency key and reads the voucher with the balances,
    # bindings, deduction order and holders' languages its payment needs; one writes: 2 in
    # production, for the patient's own account as for a relative's (the test's transaction
    # adds a savepoint around the write).
    with django_assert_num_queries(4):
        assert hospital.settle(own, 1_000).status_code == 201
    with django_assert_num_queries(4):
        assert hospital.settle(pooled, 1_000).json()["paid_fen"] == 1_000


@pytest.mark.django_db(transaction=True)
def test_only_the_claim_of_the_key_commits_without_waiting_for_the_disk(require_postgres, hospital, holder):
    """The statement that claims the idempotency key and reads the voucher commits
    asynchronously (an in-flight record may be lost in a crash, nothing else); the payment's
    own commit, and everything after it on the connection, waits for the disk as usual."""
    from django.db import connection

    from payments.models import IdempotencyRecord

    credit(holder, 10_000)
    statements = []

    def spy(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(spy):
        assert hospital.settle(voucher_for(holder), 1_000).status_code == 201
    [claim] = [sql for sql in statements if "INSERT INTO payments_idempotencyrecord" in sql]
    [payment] = [sql for sql in statements if "INSERT INTO payments_ledgerentry" in sql]
    assert "synchronous_commit" in claim
    assert "synchronous_commit" not in payment
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
    assert IdempotencyRecord.objects.get().state == "done"
    assert ledger.balance_of(holder) == 9_000


@pytest.mark.parametrize("language, subject", [("en", "李秀英 paid ¥25.00 from your account"),
                                                ("zh-hans", "李秀英从您的账户支付了 ¥25.00")])
def test_the_spending_notice_is_written_in_the_holders_language(hospital, holder, mother, language, subject):
    holder.user.language = language
    holder.user.save()
    credit(holder, 10_000)
    bind(holder, mother, "parent")
    assert hospital.settle(voucher_for(mother), 2_500).json()["paid_fen"] == 2_500
    assert Notification.objects.get(person=holder, kind="spending").subject == subject


def test_a_holder_who_never_signed_up_is_told_in_chinese(hospital, mother):
    registry_only = make_person("王建国", birth="1960-01-01")
    credit(registry_only, 10_000)
    bind(registry_only, mother, "parent")
    assert hospital.settle(voucher_for(mother), 2_500).json()["paid_fen"] == 2_500
    assert Notification.objects.get(person=registry_only).subject == "李秀英从您的账户支付了 ¥25.00"
