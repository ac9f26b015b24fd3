"""Database invariants of bindings and the status map."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from pooling.models import Binding, BindingStatus, InvalidTransition

from .conftest import make_binding

pytestmark = pytest.mark.django_db


def test_it_allows_only_one_live_binding_per_pair(holder, mother):
    make_binding(holder, mother, status=BindingStatus.PENDING)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_binding(holder, mother, status=BindingStatus.ACTIVE)
    Binding.objects.update(status=BindingStatus.ENDED)
    make_binding(holder, mother, status=BindingStatus.ACTIVE)
    assert Binding.objects.count() == 2


def test_it_refuses_binding_oneself_in_the_database(holder):
    with pytest.raises(IntegrityError), transaction.atomic():
        make_binding(holder, holder, "spouse")


def test_it_refuses_negative_caps_in_the_database(holder, mother):
    with pytest.raises(IntegrityError), transaction.atomic():
        make_binding(holder, mother, monthly_cap_fen=-1)


def test_it_refuses_a_move_the_status_map_does_not_allow(holder, mother):
    binding = make_binding(holder, mother, status=BindingStatus.DECLINED)
    with pytest.raises(InvalidTransition):
        binding.set_status(BindingStatus.ACTIVE)
    pending = make_binding(holder, mother, status=BindingStatus.PENDING)
    pending.set_status(BindingStatus.ACTIVE)
    assert pending.version == 2
