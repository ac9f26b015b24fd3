"""Premiums and reserves under real threads against PostgreSQL (issue 13)."""

from __future__ import annotations

import datetime

import pytest

from accounts.models import RegionPolicy
from payments import ledger
from payments.models import PremiumPayment
from payments.premiums import PremiumError, pay_resident_premium, premium_year
from tests.conftest import HAIKOU, make_person

from .conftest import bind, credit, voucher_for
from .test_concurrency import api_for, in_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_premiums_and_payments_racing_never_overdraw_nor_pay_twice(require_postgres, hospital, holder, mother):
    RegionPolicy.objects.create(region_id=HAIKOU, effective_from=datetime.date(2021, 1, 1),
                                resident_premium_fen=40_000)
    credit(holder, 50_000)
    bind(holder, mother, monthly_cap_fen=20_000)
    others = [make_person(f"亲属{i}", birth="1950-01-01", scheme="resident") for i in range(3)]
    for person in others:
        bind(holder, person)
    codes = [voucher_for(p) for p in others]

    def work(i):
        if i < 3:  # the same premium three times at once
            try:
                pay_resident_premium(holder, mother, premium_year())
                return "paid"
            except PremiumError:
                return "refused"
        return api_for(hospital).settle(codes[i - 3], 8_000).json()["paid_fen"]

    results = in_threads(6, work)
    assert sorted(r for r in results[:3]) in (["paid", "refused", "refused"], ["refused", "refused", "refused"])
    assert PremiumPayment.objects.filter(relative=mother).count() <= 1
    assert ledger.balance_of(holder) >= 0
    assert ledger.invariant_violations() == []
    # The premium never counts against the mother's own monthly cap.
    assert ledger.spent_from(holder, mother) == 0


def test_parallel_payments_never_touch_the_reserve(require_postgres, hospital, holder):
    RegionPolicy.objects.create(region_id=HAIKOU, effective_from=datetime.date(2021, 1, 1), reserve_fen=200_000)
    credit(holder, 210_000)
    relatives = [make_person(f"亲属{i}", birth="1950-01-01", scheme="resident") for i in range(6)]
    for person in relatives:
        bind(holder, person)
    codes = [voucher_for(p) for p in relatives]
    results = in_threads(6, lambda i: api_for(hospital).settle(codes[i], 3_000))
    assert sum(r.json()["paid_fen"] for r in results) == 10_000
    assert ledger.balance_of(holder) == 200_000
