"""The bureau's review queue: both ages, the reason in words, and three decisions."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts import scoping
from accounts.models import AuditEvent, Notification
from pooling import changes, review
from pooling.common import By, PoolingError
from pooling.models import Binding, BindingStatus, EndReason
from pooling.planning import ordered_sources
from tests.conftest import SANYA, login_staff, make_bureau_staff, make_person

from .conftest import make_binding

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
S = BindingStatus


@pytest.fixture
def flagged(holder):
    """张伟 (born 1975) says a woman born 1985 is his mother: flagged for review."""
    young = make_person("年轻妈妈", birth="1985-01-01", sex="F", scheme="resident")
    return make_binding(holder, young, "parent", flagged_for_review=True, review_reasons=["age_gap_too_small"])


@pytest.fixture
def reviewer(db):
    return make_bureau_staff("reviewer", "460100", scoping.CITY_ADMINISTRATOR)


def test_the_queue_shows_both_ages_the_relationship_and_the_reason_in_words(en_client, flagged, reviewer, outsider):
    elsewhere = make_binding(outsider, make_person("三亚亲属", region=SANYA, birth="1991-01-01"), "parent",
                             flagged_for_review=True, review_reasons=["age_gap_too_small"])
    login_staff(en_client, reviewer)
    page = en_client.get(reverse("admin:pooling_binding_review")).content.decode()
    row = page[page.index(f'id="binding-{flagged.pk}"'):]
    row = row[:row.index("</tr>")]
    assert f"<td>{flagged.holder.age()}</td>" in row and f"<td>{flagged.beneficiary.age()}</td>" in row
    assert "Parent" in row and "The age gap between the two people does not fit the relationship" in row
    assert "age_gap_too_small" not in page and "[" not in row
    assert f'id="binding-{elsewhere.pk}"' not in page  # another region's binding


def test_confirming_clears_the_flag(en_client, flagged, reviewer):
    login_staff(en_client, reviewer)
    en_client.post(reverse("admin:pooling_binding_changelist"),
                   {"action": "mark_reviewed", "_selected_action": [flagged.pk]})
    flagged.refresh_from_db()
    assert not flagged.flagged_for_review and flagged.reviewed_by == reviewer and flagged.status == S.ACTIVE
    assert AuditEvent.objects.filter(action="pooling.reviewed", actor=reviewer, note="confirmed").exists()


def test_rejecting_ends_the_binding_and_tells_both_people_why(en_client, flagged, reviewer):
    login_staff(en_client, reviewer)
    changelist = reverse("admin:pooling_binding_changelist")
    ask = en_client.post(changelist, {"action": "reject", "_selected_action": [flagged.pk]})
    assert ask.status_code == 200 and "Reason told to both people" in ask.content.decode()
    assert Binding.objects.get(pk=flagged.pk).status == S.ACTIVE  # nothing happens before the reason is chosen
    en_client.post(changelist, {"action": "reject", "_selected_action": [flagged.pk], "reason": "ages", "note": ""})
    flagged.refresh_from_db()
    assert (flagged.status, flagged.end_reason) == (S.ENDED, EndReason.BUREAU_REJECTED)
    told = Notification.objects.filter(kind="pooling.rejected")
    assert {n.person_id for n in told} == {flagged.holder_id, flagged.beneficiary_id}
    assert all("身份证号码中的年龄与此关系不符" in n.body for n in told)
    assert ordered_sources(flagged.beneficiary) == []


def test_a_binding_waiting_for_proof_pays_nothing_until_a_counter_has_seen_it(
        en_client, flagged, reviewer, counter_assistant):
    login_staff(en_client, reviewer)
    en_client.post(reverse("admin:pooling_binding_changelist"),
                   {"action": "ask_for_proof", "_selected_action": [flagged.pk]})
    flagged.refresh_from_db()
    assert flagged.status == S.AWAITING_PROOF and flagged.proof_requested_at is not None
    assert ordered_sources(flagged.beneficiary) == []
    told = Notification.objects.filter(kind="pooling.proof_requested")
    assert {n.person_id for n in told} == {flagged.holder_id, flagged.beneficiary_id}
    with pytest.raises(PoolingError):  # the holder cannot simply switch it back on
        changes.resume_binding(flagged, By(flagged.holder, flagged.holder.user))

    at_counter = By(flagged.holder, counter_assistant, "counter")
    with pytest.raises(PoolingError):
        review.verify_relationship_proof(flagged, at_counter, ["id_card"])
    review.verify_relationship_proof(flagged, at_counter, ["id_card", "relationship_proof"])
    flagged.refresh_from_db()
    assert flagged.status == S.ACTIVE and flagged.proof_requested_at is None
    assert [getattr(s, "pk", s) for s in ordered_sources(flagged.beneficiary)] == [flagged.pk]


def test_a_viewer_sees_the_queue_but_cannot_decide(en_client, flagged):
    login_staff(en_client, make_bureau_staff("looker", "460100", scoping.CITY_VIEWER))
    page = en_client.get(reverse("admin:pooling_binding_review")).content.decode()
    assert f'id="binding-{flagged.pk}"' in page and "Bring proof to a counter" not in page
    en_client.post(reverse("admin:pooling_binding_changelist"),
                   {"action": "ask_for_proof", "_selected_action": [flagged.pk]})
    assert Binding.objects.get(pk=flagged.pk).status == S.ACTIVE
