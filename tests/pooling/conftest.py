"""Pooling factories: bindings straight in the database, credits and spending in the ledger."""

from __future__ import annotations

import datetime
import itertools
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.models import InsuredPerson
from payments import ledger
from payments.models import Institution, TransactionKind
from pooling.models import Binding, BindingStatus

_refs = itertools.count(1)


def make_binding(
    holder: InsuredPerson,
    beneficiary: InsuredPerson,
    relationship: str = "parent",
    status: str = BindingStatus.ACTIVE,
    activated_at: datetime.datetime | None = None,
    **fields: Any,
) -> Binding:
    now = timezone.now()
    return Binding.objects.create(
        holder=holder, beneficiary=beneficiary, relationship=relationship, status=status,
        activated_at=activated_at or (now if status != BindingStatus.PENDING else None),
        consent_deadline=now + datetime.timedelta(days=7) if status == BindingStatus.PENDING else None,
        **fields,
    )


def credit(person: InsuredPerson, amount_fen: int) -> None:
    ledger.credit_personal_account(person, amount_fen, reference=f"test-credit-{next(_refs)}")


def spend(
    owner: InsuredPerson, patient: InsuredPerson, amount_fen: int, category: str = "pharmacy_drug",
    at: datetime.datetime | None = None,
) -> None:
    """Record a payment from ``owner``'s account for ``patient`` (as the settlement would)."""
    institution, _ = Institution.objects.get_or_create(
        code="TEST-PHARMACY", defaults={"name": "Test pharmacy", "kind": "pharmacy", "region_id": owner.region_id}
    )
    with transaction.atomic():
        source = ledger.personal_account(owner)
        target = ledger.institution_account(institution)
        ledger.lock_accounts([source.pk, target.pk])
        ledger.post(
            TransactionKind.SETTLEMENT,
            [ledger.Line(source, -amount_fen, patient, category), ledger.Line(target, amount_fen, patient, category)],
            reference=f"test-spend-{next(_refs)}", at=at,
        )


@pytest.fixture
def son(db: Any) -> InsuredPerson:
    from tests.conftest import make_person

    return make_person("张小明", birth="2016-04-01", sex="M", scheme="resident", phone="")


@pytest.fixture
def guides(db: Any) -> None:
    """The seeded guides (a transactional test's flush removes the migration's rows)."""
    from accounts.models import Region
    from pooling.guide_data import seed_guides
    from pooling.models import Guide, GuideStep

    seed_guides(Guide, GuideStep, Region)
