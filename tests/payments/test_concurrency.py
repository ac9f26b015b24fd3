"""Real threads against PostgreSQL: no overdraft, no double charge, no deadlock, no over-refund.

Each thread uses its own database connection (Django gives every thread one) and closes it.
The ledger invariants are checked after every test by the autouse fixture in conftest.py.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection

from payments import ledger
from payments.models import Settlement
from pooling.models import DeductionOrder
from tests.conftest import make_person

from .conftest import Api, bind, credit, voucher_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def in_threads(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Run work(0..n-1) in n threads started together; each closes its own connection."""
    barrier = threading.Barrier(n)

    def run(i: int) -> Any:
        try:
            barrier.wait(timeout=10)
            return work(i)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n), timeout=120))


def api_for(hospital: Api) -> Api:
    return Api(hospital.institution, hospital.key)  # a client of its own per thread


def test_parallel_payments_never_overdraw_and_charge_exactly_the_balance(require_postgres, hospital, holder):
    credit(holder, 10_000)
    relatives = [make_person(f"亲属{i}", birth="1950-01-01", scheme="resident") for i in range(20)]
    for person in relatives:
        bind(holder, person, "parent")
    codes = [voucher_for(p) for p in relatives]

    results = in_threads(20, lambda i: api_for(hospital).settle(codes[i], 700))

    assert [r.status_code for r in results] == [201] * 20
    paid = sum(r.json()["paid_fen"] for r in results)
    assert paid == 10_000
    assert sum(r.json()["remaining_fen"] for r in results) == 20 * 700 - 10_000
    assert ledger.balance_of(holder) == 0


def test_ten_parallel_replays_of_one_key_move_money_once(require_postgres, hospital, holder):
    credit(holder, 10_000)
    code = voucher_for(holder)
    body = {"voucher": code, "category": "outpatient", "amount_fen": 1_500, "reference": "INV-R"}

    results = in_threads(10, lambda i: api_for(hospital).post("/api/v1/settlements", body, idem="one-key"))

    statuses = sorted(r.status_code for r in results)
    assert set(statuses) <= {201, 409} and 201 in statuses
    bodies = [r.json() for r in results if r.status_code == 201]
    assert all(b == bodies[0] for b in bodies)
    assert all(r.json()["error"] == "idempotency_conflict" for r in results if r.status_code == 409)
    assert Settlement.objects.count() == 1
    assert ledger.balance_of(holder) == 8_500
    # Once finished, a replay gets the stored answer.
    assert api_for(hospital).post("/api/v1/settlements", body, idem="one-key").json() == bodies[0]


def test_a_three_account_payment_never_deadlocks_with_payments_on_each_account(require_postgres, hospital):
    spouse = make_person("王丽", birth="1977-06-08", sex="F")
    holder_a = make_person("张伟", birth="1975-03-12", sex="M")
    holder_b = make_person("王父", birth="1950-02-02", sex="M")
    cousin = make_person("张小", birth="1990-02-02", scheme="resident")
    credit(spouse, 100_000)
    credit(holder_a, 300_000)
    credit(holder_b, 10_000_000)
    bind(holder_a, spouse, "spouse")
    bind(holder_b, spouse, "child")
    bind(holder_a, cousin, "sibling")
    bind(holder_b, cousin, "grandchild")
    # The cousin draws on B before A: the opposite order of the spouse's sources.
    b_binding = cousin.bindings_as_beneficiary.get(holder=holder_b)
    a_binding = cousin.bindings_as_beneficiary.get(holder=holder_a)
    DeductionOrder.objects.create(person=cousin, sources=[f"binding:{b_binding.pk}", f"binding:{a_binding.pk}"])

    rounds = 12
    # The spouse's bills are larger than her own and A's balance: they draw on all three accounts.
    def spouse_payments(_: int) -> list[int]:
        api = api_for(hospital)
        return [api.settle(voucher_for(spouse), 700_000).status_code for _ in range(rounds)]

    def own_payments(person: Any) -> Callable[[int], list[int]]:
        def work(_: int) -> list[int]:
            api = api_for(hospital)
            return [api.settle(voucher_for(person), 1_000).status_code for _ in range(rounds)]
        return work

    def cousin_payments(_: int) -> list[int]:
        api = api_for(hospital)
        return [api.settle(voucher_for(cousin), 3_000).status_code for _ in range(rounds)]

    jobs = [spouse_payments, own_payments(holder_a), own_payments(holder_b), cousin_payments]
    results = in_threads(4, lambda i: jobs[i](i))

    assert results == [[201] * rounds] * 4  # a deadlock would surface as a 503 "try_again"
    from django.db.models import Count

    three = Settlement.objects.filter(patient=spouse).annotate(n=Count("sources")).filter(n=3)
    assert three.exists()  # some payments really drew on all three accounts


def test_parallel_refunds_never_exceed_what_was_paid(require_postgres, hospital, holder, mother):
    credit(holder, 20_000)
    bind(holder, mother, "parent")
    created = hospital.settle(voucher_for(mother), 5_000).json()
    assert created["paid_fen"] == 5_000

    results = in_threads(10, lambda i: api_for(hospital).refund(created["id"], 1_000))

    statuses = sorted(r.status_code for r in results)
    assert statuses == [201] * 5 + [422] * 5
    assert ledger.balance_of(holder) == 20_000
    assert Settlement.objects.get(pk=created["id"]).refunded_fen == 5_000


def test_parallel_payments_never_exceed_a_monthly_cap(require_postgres, hospital, holder, mother):
    """A spending-based cap is checked under the account's lock (the locked path)."""
    import datetime

    from django.utils import timezone

    from accounts import crypto
    from payments.models import Voucher
    from payments.vouchers import code_hash

    credit(holder, 100_000)
    bind(holder, mother, "parent", monthly_cap_fen=3_000)
    codes = [f"{900000000000000000 + i:018d}" for i in range(8)]
    expires = timezone.now() + datetime.timedelta(minutes=5)
    for code in codes:  # several valid codes at once: only possible by writing them directly
        Voucher.objects.create(person=mother, code_hash=code_hash(code), code_encrypted=crypto.encrypt(code),
                               expires_at=expires)

    results = in_threads(8, lambda i: api_for(hospital).settle(codes[i], 1_000))

    assert [r.status_code for r in results] == [201] * 8
    assert sum(r.json()["paid_fen"] for r in results) == 3_000
    assert ledger.balance_of(holder) == 97_000
