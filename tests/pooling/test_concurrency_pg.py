"""The maximum holds when proposals race: the holder's row lock serialises them (PostgreSQL)."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.db import connection

from accounts.models import RegionPolicy
from pooling import common, proposals
from pooling.common import By, NotEligible
from pooling.models import Binding
from tests.conftest import HAIKOU, make_citizen, make_person


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_never_exceeds_the_maximum_under_simultaneous_proposals(require_postgres):
    RegionPolicy.objects.create(region_id=HAIKOU, effective_from=datetime.date(2024, 1, 1), max_beneficiaries=3)
    holder = make_person("张伟", birth="1975-03-12")
    make_citizen(holder)
    relatives = [make_person(f"亲属{i}", birth="1950-01-01", scheme="resident") for i in range(8)]
    barrier = threading.Barrier(len(relatives))
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(relative):
        try:
            barrier.wait()
            proposals.propose_binding(holder, relative, "parent", By(holder, None, "web"))
            result = "ok"
        except NotEligible as refused:
            result = ",".join(refused.answer.codes)
        except Exception as error:  # noqa: BLE001 - report anything else as a failure below
            result = f"error: {error!r}"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(r,)) for r in relatives]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["maximum_reached"] * 5 + ["ok"] * 3
    assert Binding.objects.live().for_holder(holder).count() == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_pair_proposed_twice_at_once_gives_one_binding(require_postgres):
    holder = make_person("张伟", birth="1975-03-12")
    mother = make_person("李秀英", birth="1948-09-30", scheme="resident")
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def attempt():
        try:
            barrier.wait()
            proposals.propose_binding(holder, mother, "parent", By(holder, None, "web"))
            outcomes.append("ok")
        except common.PoolingError as error:
            outcomes.append(error.code if not isinstance(error, NotEligible) else ",".join(error.answer.codes))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["already_bound"] * 3 + ["ok"]
    assert Binding.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_undos_and_a_consent_racing_for_the_last_slot_never_exceed_the_maximum(require_postgres):
    from pooling import changes

    RegionPolicy.objects.create(region_id=HAIKOU, effective_from=datetime.date(2024, 1, 1), max_beneficiaries=3)
    holder = make_person("张伟", birth="1975-03-12")
    make_citizen(holder)
    people = [make_person(f"亲属{i}", birth="1950-01-01", scheme="resident") for i in range(4)]
    by = By(holder, None, "web")
    first = proposals.propose_binding(holder, people[0], "parent", by)
    second = proposals.propose_binding(holder, people[1], "parent", by)
    third = proposals.propose_binding(holder, people[2], "parent", by)
    for binding in (first, second, third):
        proposals.consent_binding(binding, By(binding.beneficiary, None, "web"))
    _b, undo_first = changes.unbind(first, by)
    _b, undo_second = changes.unbind(second, by)
    waiting = proposals.propose_binding(holder, people[3], "parent", by)  # 2 used: one slot is left
    barrier = threading.Barrier(3)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(action):
        try:
            barrier.wait()
            action()
            result = "ok"
        except common.PoolingError as error:
            result = error.code
        except Exception as error:  # noqa: BLE001 - report anything else as a failure below
            result = f"error: {error!r}"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    actions = [
        lambda: changes.undo_change(undo_first.pk, by),
        lambda: changes.undo_change(undo_second.pk, by),
        lambda: proposals.consent_binding(waiting, By(people[3], None, "web")),
    ]
    threads = [threading.Thread(target=attempt, args=(a,)) for a in actions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["ok", "ok", "undo_refused"]
    assert Binding.objects.live().for_holder(holder).count() == 3
