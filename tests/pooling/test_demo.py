"""The demo data: the bindings the walkthrough expects, and running it twice changes nothing."""

from __future__ import annotations

import pytest

from pooling.models import Binding


@pytest.mark.django_db
def test_it_seeds_the_demo_bindings_once():
    from portal.demo import load

    load()
    first = sorted(Binding.objects.values_list("holder__name", "beneficiary__name", "status"))
    assert first == sorted([
        ("张伟", "李秀英", "active"), ("张伟", "张小明", "active"), ("张伟", "王丽", "pending"),
        ("张建国", "李秀英", "active"),
    ])
    assert Binding.objects.get(beneficiary__name="李秀英", holder__name="张伟").monthly_cap_fen == 50_000
    report = load()
    assert sorted(Binding.objects.values_list("holder__name", "beneficiary__name", "status")) == first
    assert any("already active" in line for line in report)
