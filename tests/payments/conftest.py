"""Fixtures of the payments tests: institutions with API keys, bindings, balances, API calls.

Bindings are created directly as ACTIVE rows (their life cycle is tested in tests/pooling);
money only ever moves through payments.ledger.
"""

from __future__ import annotations

import datetime
import itertools
import json
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.utils import timezone, translation

from accounts.models import InsuredPerson, Notification
from payments import ledger
from payments.institutions import create_institution
from payments.models import Institution
from payments.vouchers import issue_voucher
from pooling.models import BindingStatus, UndoableChange
from tests.conftest import make_person
from tests.pooling.conftest import make_binding

_refs = itertools.count(1)
_keys = itertools.count(1)


def credit(person: InsuredPerson, fen: int) -> None:
    ledger.credit_personal_account(person, fen, reference=f"test-credit-{person.pk}-{next(_refs)}")


def bind(holder: InsuredPerson, beneficiary: InsuredPerson, relationship: str = "parent", **caps: Any) -> Any:
    from pooling.models import Binding

    now = timezone.now()
    return Binding.objects.create(
        holder=holder, beneficiary=beneficiary, relationship=relationship, status="active",
        consented_at=now, activated_at=now, created_at=now, **caps,
    )


def voucher_for(person: InsuredPerson) -> str:
    return issue_voucher(person)[1]


class Api:
    """An institution's HTTP client for the settlement API."""

    def __init__(self, institution: Institution, key: str) -> None:
        self.institution, self.key, self.client = institution, key, Client()
        self.client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    def headers(self, idem: str | None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.key}"}
        if idem is not None:
            headers["Idempotency-Key"] = idem
        return headers

    def post(self, path: str, body: Any, idem: str | None = "auto", raw: bool = False) -> Any:
        if idem == "auto":
            idem = f"key-{next(_keys)}"
        data = body if raw else json.dumps(body)
        return self.client.post(path, data=data, content_type="application/json", headers=self.headers(idem))

    def settle(self, voucher: str, amount_fen: int, category: str = "outpatient", idem: str | None = "auto",
               reference: str = "INV-1") -> Any:
        return self.post("/api/v1/settlements",
                         {"voucher": voucher, "category": category, "amount_fen": amount_fen, "reference": reference},
                         idem=idem)

    def refund(self, settlement_id: int, amount_fen: int | None = None, idem: str | None = "auto") -> Any:
        body = {} if amount_fen is None else {"amount_fen": amount_fen}
        return self.post(f"/api/v1/settlements/{settlement_id}/refund", body, idem=idem)

    def get(self, path: str) -> Any:
        return self.client.get(path, headers=self.headers(None))


@pytest.fixture
def hospital(db: Any) -> Api:
    with transaction.atomic():
        institution, key = create_institution("H001", "海口市人民医院", "hospital", "460100")
    return Api(institution, key)


@pytest.fixture
def pharmacy(db: Any) -> Api:
    with transaction.atomic():
        institution, key = create_institution("P001", "海南一心大药房", "pharmacy", "460100")
    return Api(institution, key)


@pytest.fixture(autouse=True)
def _ledger_invariants(request: pytest.FixtureRequest) -> Any:
    """After every test that used the database: the ledger invariants still hold."""
    yield
    names = request.fixturenames
    if request.node.get_closest_marker("django_db") or "db" in names or "transactional_db" in names:
        assert ledger.invariant_violations() == []


@pytest.fixture(autouse=True)
def _english() -> Any:
    """Assertions read English: the default language is Chinese, translated later by the lead."""
    with translation.override("en"):
        yield


@pytest.fixture
def client(client: Any) -> Any:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def family(hospital, pharmacy, holder, mother):
    """张伟 shares his account with his mother (capped), has asked his son, ended with his
    daughter last week, and paid at two places for himself and his mother."""
    credit(holder, 500_000)
    son = make_person("张小明", birth="2000-02-02", sex="M", scheme="resident")
    daughter = make_person("张丽", birth="1998-03-03", sex="F")
    make_binding(holder, mother, monthly_cap_fen=50_000, annual_cap_fen=200_000, pharmacy_cap_fen=100_000)
    make_binding(holder, son, "child", status=BindingStatus.PENDING)
    make_binding(holder, daughter, "child", status=BindingStatus.ENDED,
                 ended_at=timezone.now() - datetime.timedelta(days=7))
    hospital.settle(voucher_for(holder), 1_000)
    hospital.settle(voucher_for(mother), 2_000)
    pharmacy.settle(voucher_for(mother), 300, category="pharmacy_drug")
    UndoableChange.objects.create(action="pause", person=holder, actor=holder.user, channel="web", states={},
                                  expires_at=timezone.now() + datetime.timedelta(minutes=10))
    Notification.objects.create(person=holder, kind="payment", subject="s", body="b")
    return holder, mother
