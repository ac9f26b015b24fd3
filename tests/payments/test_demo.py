"""The demo seed is idempotent for money and hands out working API keys on every run."""

from __future__ import annotations

import pytest

from payments import ledger
from payments.demo import seed
from tests.conftest import make_person

from .conftest import Api, voucher_for

pytestmark = pytest.mark.django_db


def test_it_credits_once_and_rotates_working_keys(holder):
    zero = make_person("刘洋")
    people = {"holder": holder, "zero": zero}
    first = seed(people)
    second = seed(people)
    # The opening balance and last month's contribution, each credited once.
    assert ledger.balance_of(holder) == 320_000 + 35_620 and ledger.balance_of(zero) == 0
    key_line = next(line for line in second if "海口市人民医院" in line)
    old_line = next(line for line in first if "海口市人民医院" in line)
    assert key_line != old_line
    from payments.models import Institution

    hospital = Institution.objects.get(code="H460100001")
    assert Api(hospital, key_line.split()[-1]).settle(voucher_for(holder), 100).status_code == 201
    assert Api(hospital, old_line.split()[-1]).settle(voucher_for(holder), 100).status_code == 401
