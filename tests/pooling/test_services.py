"""Every state change of a binding, as the holder, the relative and the bureau see it."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.utils import timezone

from accounts.models import AuditEvent, Notification, RegionPolicy
from accounts.registry import import_registry, registry_rows_for
from pooling import changes, lifecycle, proposals, tasks
from pooling.common import By, NotEligible, PoolingError
from pooling.models import Binding, BindingStatus, EndReason
from pooling.planning import plan_payment
from tests.conftest import HAIKOU, SANYA, make_person

from .conftest import credit, make_binding

pytestmark = pytest.mark.django_db
S = BindingStatus


def web(person):
    return By(person, getattr(person, "user", None), "web")


def kinds(person):
    return list(Notification.objects.filter(person=person).order_by("id").values_list("kind", flat=True))


def propose(holder, relative, relationship="parent", **kw):
    return proposals.propose_binding(holder, relative, relationship, web(holder), **kw)


# -- propose -----------------------------------------------------------------------------------


def test_it_sends_a_request_that_waits_for_consent(holder, mother, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        binding = propose(holder, mother)
    assert binding.status == S.PENDING
    assert binding.consent_deadline.date() == (timezone.now() + datetime.timedelta(days=7)).date()
    request = Notification.objects.get(person=mother, kind="pooling.request")
    assert "张伟" in request.subject
    # The inbox (readable by staff in admin) links to the relative's own page, never to the signed link.
    assert request.link == f"/pooling/request/{binding.pk}/" and "/pooling/answer/" in request.body
    assert kinds(holder) == ["pooling.proposed"]
    event = AuditEvent.objects.get(action="pooling.proposed")
    assert (event.channel, event.actor, event.on_behalf_of) == ("web", holder.user, holder)


def test_it_refuses_with_every_reason_and_changes_nothing(holder):
    sanya_father = make_person("张建国", region=SANYA, birth="1946-01-15", status="suspended")
    with pytest.raises(NotEligible) as refused:
        propose(holder, sanya_father, "grandchild")
    assert refused.value.answer.codes == ["candidate_not_active", "outside_region"]
    assert refused.value.answer.warning_codes == ["age_gap_too_small"]
    assert Binding.objects.count() == 0 and Notification.objects.count() == 0


def test_it_refuses_an_uninsured_relative_found_by_id_number(holder):
    from tests.conftest import make_id

    assert proposals.find_candidate(make_id(HAIKOU, "1950-01-01"), "李四") is None
    with pytest.raises(NotEligible) as refused:
        propose(holder, None)
    assert refused.value.answer.codes == ["candidate_not_insured"]


def test_it_refuses_a_name_that_does_not_match_the_id_number(mother):
    with pytest.raises(PoolingError) as error:
        proposals.find_candidate(mother.id_number, "李秀")
    assert error.value.code == "name_mismatch"
    assert proposals.find_candidate(mother.id_number.lower(), " 李秀英 ") == mother


def same_household(*members):
    """Household registration (户籍): the first is the head, then (person, role) pairs."""
    from accounts.households import import_households

    head, *others = members
    rows = [f"T1,{head.id_number},head"] + [f"T1,{p.id_number},{role}" for p, role in others]
    assert import_households("household_id,id_number,relationship_to_head\n" + "\n".join(rows)).ok


def test_it_activates_a_young_child_at_once_when_the_household_register_confirms(holder, son):
    same_household(holder, (son, "child"))
    binding = propose(holder, son, "child")
    assert binding.status == S.ACTIVE and binding.auto_activated
    assert kinds(holder) == ["pooling.active"] and kinds(son) == ["pooling.active"]


def test_it_flags_implausible_ages_for_review(holder):
    young = make_person("年轻妈妈", birth="1985-01-01", scheme="resident")
    binding = propose(holder, young, "parent")
    assert binding.flagged_for_review and binding.review_reasons == ["age_gap_too_small"]


def test_it_counts_pending_requests_against_the_maximum(holder):
    RegionPolicy.objects.create(region_id=HAIKOU, effective_from=datetime.date(2024, 1, 1), max_beneficiaries=2)
    first, second, third = (make_person(f"亲属{i}", birth="1950-01-01", scheme="resident") for i in range(3))
    propose(holder, first)
    pending = propose(holder, second)
    with pytest.raises(NotEligible) as refused:
        propose(holder, third)
    assert refused.value.answer.codes == ["maximum_reached"]
    # Accepting never fails because the request's own slot is counted.
    assert proposals.consent_binding(pending, web(second)).status == S.ACTIVE


# -- answering ---------------------------------------------------------------------------------


def test_it_activates_when_the_relative_consents(holder, mother):
    binding = propose(holder, mother)
    binding = proposals.consent_binding(binding, web(mother))
    assert binding.status == S.ACTIVE and binding.activated_at and binding.consent_channel == "web"
    assert "pooling.active" in kinds(holder)


def test_it_accepts_consent_through_the_signed_link_once(holder, mother):
    binding = propose(holder, mother)
    token = proposals.consent_token(binding)
    assert proposals.binding_from_token(token) == binding
    proposals.consent_binding(binding, web(mother))
    with pytest.raises(PoolingError) as stale:
        proposals.binding_from_token(token)
    assert stale.value.code == "stale_token"
    with pytest.raises(PoolingError):
        proposals.binding_from_token(token[:-2] + "xx")


def test_it_lets_only_the_relative_answer(holder, mother, outsider):
    binding = propose(holder, mother)
    for who in (holder, outsider):
        with pytest.raises(PoolingError):
            proposals.consent_binding(binding, web(who))
    assert Binding.objects.get().status == S.PENDING


def test_it_records_a_decline_and_tells_the_holder(holder, mother):
    binding = proposals.decline_binding(propose(holder, mother), web(mother), "not now")
    assert binding.status == S.DECLINED
    assert "pooling.declined" in kinds(holder)


def test_it_lets_the_holder_withdraw_a_waiting_request(holder, mother):
    binding = proposals.cancel_binding(propose(holder, mother), web(holder))
    assert binding.status == S.CANCELLED
    with pytest.raises(PoolingError):
        proposals.cancel_binding(binding, web(holder))


def test_it_expires_unanswered_requests_after_the_policy_days(holder, mother):
    with time_machine.travel(datetime.datetime(2026, 3, 1, 10, tzinfo=datetime.UTC), tick=False):
        binding = propose(holder, mother)
    with time_machine.travel(datetime.datetime(2026, 3, 6, 9, tzinfo=datetime.UTC), tick=False):
        assert tasks.remind_pending_bindings_task() == 0
    with time_machine.travel(datetime.datetime(2026, 3, 7, 10, tzinfo=datetime.UTC), tick=False):
        assert tasks.remind_pending_bindings_task() == 1
        assert tasks.remind_pending_bindings_task() == 0
        assert tasks.expire_pending_bindings_task() == 0
    with time_machine.travel(datetime.datetime(2026, 3, 8, 10, 1, tzinfo=datetime.UTC), tick=False):
        with pytest.raises(PoolingError):
            proposals.consent_binding(binding, web(mother))
        assert tasks.expire_pending_bindings_task() == 1
        assert tasks.expire_pending_bindings_task() == 0
    assert Binding.objects.get().status == S.EXPIRED
    assert kinds(mother).count("pooling.reminder") == 1
    assert "pooling.expired" in kinds(holder) and "pooling.expired" in kinds(mother)


# -- unbind, pause, limits and undo ------------------------------------------------------------


def test_either_side_can_unbind_and_payments_stop_at_once(holder, mother):
    credit(holder, 10_000)
    binding = make_binding(holder, mother)
    binding, _change = changes.unbind(binding, web(mother), "I have my own money now")
    assert binding.status == S.ENDED and binding.end_reason == EndReason.UNBOUND_BY_BENEFICIARY
    assert plan_payment(mother, "pharmacy_drug", 1_000).paid_fen == 0
    other = make_binding(holder, mother)
    assert changes.unbind(other, web(holder))[0].end_reason == EndReason.UNBOUND_BY_HOLDER
    assert AuditEvent.objects.filter(action="pooling.unbound", note="I have my own money now").exists()


def test_it_undoes_an_unbind_within_ten_minutes_only(holder, mother):
    credit(holder, 10_000)
    start = datetime.datetime(2026, 3, 1, 10, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        binding = make_binding(holder, mother)
        _b, change = changes.unbind(binding, web(holder))
    with time_machine.travel(start + datetime.timedelta(minutes=9), tick=False):
        with pytest.raises(PoolingError):
            changes.undo_change(change.pk, web(mother))  # only who made the change
        changes.undo_change(change.pk, web(holder))
    binding.refresh_from_db()
    assert binding.status == S.ACTIVE and binding.end_reason == ""
    with time_machine.travel(start + datetime.timedelta(minutes=12), tick=False):
        _b, late = changes.unbind(binding, web(holder))
    with time_machine.travel(start + datetime.timedelta(minutes=23), tick=False), pytest.raises(PoolingError) as error:
        changes.undo_change(late.pk, web(holder))
    assert error.value.code == "undo_expired"


def test_it_pauses_and_resumes_one_relative(holder, mother):
    credit(holder, 10_000)
    binding = make_binding(holder, mother)
    changes.pause_binding(binding, web(holder))
    assert plan_payment(mother, "pharmacy_drug", 1_000).paid_fen == 0
    changes.resume_binding(binding, web(holder))
    assert plan_payment(mother, "pharmacy_drug", 1_000).paid_fen == 1_000
    with pytest.raises(PoolingError):
        changes.pause_binding(binding, web(mother))


def test_it_pauses_everything_at_once_and_undoes_it(holder, mother, son):
    first, second = make_binding(holder, mother), make_binding(holder, son, "child")
    paused, change = changes.pause_all(holder, web(holder))
    assert {b.status for b in Binding.objects.all()} == {S.PAUSED}
    changes.undo_change(change.pk, web(holder))
    assert {b.status for b in Binding.objects.all()} == {S.ACTIVE}
    changes.pause_all(holder, web(holder))
    assert [b.pk for b in changes.resume_all(holder, web(holder))] == [first.pk, second.pk]


def test_it_sets_limits_and_can_undo_them(holder, mother):
    credit(holder, 100_000)
    binding = make_binding(holder, mother)
    _b, change = changes.set_limits(binding, web(holder), per_payment_fen=5_000, monthly_fen=None, annual_fen=None)
    assert plan_payment(mother, "pharmacy_drug", 8_000).paid_fen == 5_000
    assert "pooling.limits" in kinds(mother)
    changes.undo_change(change.pk, web(holder))
    assert plan_payment(mother, "pharmacy_drug", 8_000).paid_fen == 8_000
    with pytest.raises(PoolingError):
        changes.set_limits(binding, web(holder), per_payment_fen=-1, monthly_fen=None, annual_fen=None)


def test_it_does_not_undo_over_a_later_change(holder, mother):
    binding = make_binding(holder, mother)
    _b, change = changes.pause_binding(binding, web(holder))
    changes.resume_binding(binding, web(holder))
    with pytest.raises(PoolingError) as error:
        changes.undo_change(change.pk, web(holder))
    assert error.value.code == "undo_conflict"


# -- end dates, re-binding, minors -------------------------------------------------------------


def test_it_reminds_before_the_end_date_and_then_ends(holder, mother):
    with time_machine.travel(datetime.datetime(2026, 3, 1, 3, tzinfo=datetime.UTC), tick=False):
        binding = make_binding(holder, mother)
        changes.set_end_date(binding, web(holder), datetime.date(2026, 3, 20))
        assert tasks.end_dates_task() == 0
    with time_machine.travel(datetime.datetime(2026, 3, 14, 3, tzinfo=datetime.UTC), tick=False):
        assert tasks.end_dates_task() == 1
        assert tasks.end_dates_task() == 0
        assert kinds(mother).count("pooling.end_reminder") == 1
    with time_machine.travel(datetime.datetime(2026, 3, 20, 3, tzinfo=datetime.UTC), tick=False):
        assert tasks.end_dates_task() == 0
    with time_machine.travel(datetime.datetime(2026, 3, 21, 3, tzinfo=datetime.UTC), tick=False):
        assert tasks.end_dates_task() == 1
    binding.refresh_from_db()
    assert binding.status == S.ENDED and binding.end_reason == EndReason.END_DATE


def test_it_allows_re_binding_after_the_cooling_period(holder, mother):
    RegionPolicy.objects.create(region_id=HAIKOU, effective_from=datetime.date(2024, 1, 1), cooling_days=30)
    start = datetime.datetime(2026, 3, 1, 3, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        changes.unbind(make_binding(holder, mother), web(holder))
    with time_machine.travel(start + datetime.timedelta(days=10), tick=False), pytest.raises(NotEligible) as refused:
        propose(holder, mother)
    assert refused.value.answer.codes == ["cooling_period"]
    with time_machine.travel(start + datetime.timedelta(days=30), tick=False):
        assert propose(holder, mother).status == S.PENDING


def test_it_asks_a_child_who_turns_sixteen_to_confirm(holder):
    child = make_person("张小红", birth="2010-05-10", scheme="resident")
    same_household(holder, (child, "child"))
    with time_machine.travel(datetime.datetime(2026, 5, 1, 3, tzinfo=datetime.UTC), tick=False):
        binding = propose(holder, child, "child")
        assert binding.status == S.ACTIVE
        assert tasks.ask_minors_to_confirm_task() == 0
    with time_machine.travel(datetime.datetime(2026, 5, 10, 3, tzinfo=datetime.UTC), tick=False):
        assert tasks.ask_minors_to_confirm_task() == 1
        assert tasks.ask_minors_to_confirm_task() == 0
    binding.refresh_from_db()
    assert binding.confirmation_requested_at and "pooling.confirm" in kinds(child)
    binding = proposals.consent_binding(binding, web(child))
    assert binding.status == S.ACTIVE and binding.confirmation_requested_at is None


def test_a_young_person_can_end_it_instead_of_confirming(holder):
    child = make_person("张小红", birth="2010-05-10", scheme="resident")
    binding = make_binding(holder, child, "child", auto_activated=True, confirmation_requested_at=timezone.now())
    binding = proposals.decline_binding(binding, web(child))
    assert binding.status == S.ENDED and binding.end_reason == EndReason.MINOR_DECLINED


# -- the counter -------------------------------------------------------------------------------


def test_a_counter_assistant_records_consent_with_documents_checked(holder, mother, counter_assistant):
    binding = propose(holder, mother)
    at_counter = By(mother, counter_assistant, "counter")
    with pytest.raises(PoolingError) as error:
        proposals.consent_binding(binding, at_counter, documents=["id_card"])
    assert error.value.code == "documents_missing"
    binding = proposals.consent_binding(binding, at_counter, documents=["id_card", "insurance_card", "relationship_proof"])
    assert binding.status == S.ACTIVE and binding.consent_channel == "counter"
    event = AuditEvent.objects.get(action="pooling.consented")
    assert (event.actor, event.on_behalf_of, event.channel) == (counter_assistant, mother, "counter")


def test_a_counter_can_set_up_pooling_on_the_spot(holder, mother, counter_assistant):
    binding = proposals.propose_binding(
        holder, mother, "parent", By(holder, counter_assistant, "counter"),
        consent_documents=["id_card", "insurance_card", "relationship_proof"],
    )
    assert binding.status == S.ACTIVE and binding.consented_at


def test_a_citizen_cannot_claim_documents_were_checked(holder, mother):
    with pytest.raises(PoolingError) as error:
        propose(holder, mother, consent_documents=["id_card", "insurance_card", "relationship_proof"])
    assert error.value.code == "not_counter"


# -- life events -------------------------------------------------------------------------------


def _import(*people):
    result = import_registry(registry_rows_for(people))
    assert result.ok, result.errors


def test_it_suspends_pooling_while_insurance_is_suspended_and_restores_it(holder, mother):
    binding = make_binding(holder, mother)
    mother.status = "suspended"
    _import(mother)
    binding.refresh_from_db()
    assert binding.status == S.SUSPENDED
    mother.status = "active"
    _import(mother)
    binding.refresh_from_db()
    assert binding.status == S.ACTIVE


def test_it_ends_pooling_when_the_holder_leaves_the_employee_scheme(holder, mother, son):
    active, pending = make_binding(holder, mother), make_binding(holder, son, "child", status=S.PENDING)
    holder.scheme = "resident"
    _import(holder)
    active.refresh_from_db()
    pending.refresh_from_db()
    assert (active.status, active.end_reason) == (S.ENDED, EndReason.HOLDER_LEFT_SCHEME)
    assert pending.status == S.CANCELLED
    assert "pooling.ended" in kinds(mother)


def test_it_ends_pooling_when_the_holder_moves_region_or_insurance_ends(holder, mother):
    first = make_binding(holder, mother)
    holder.region_id = SANYA
    _import(holder)
    first.refresh_from_db()
    assert first.end_reason == EndReason.HOLDER_LEFT_REGION
    holder.region_id = HAIKOU
    _import(holder)
    second = make_binding(holder, mother)
    mother.status = "terminated"
    _import(mother)
    second.refresh_from_db()
    assert second.end_reason == EndReason.INSURANCE_TERMINATED


def test_it_ends_every_binding_when_a_person_dies(holder, mother, bureau_clerk):
    binding = make_binding(holder, mother)
    lifecycle.record_death(mother, datetime.date(2026, 1, 1), By(None, bureau_clerk, "admin"))
    binding.refresh_from_db()
    assert (binding.status, binding.end_reason) == (S.ENDED, EndReason.DEATH)


def test_the_request_text_message_carries_the_answer_link(holder, mother, sent_messages,
                                                          django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        binding = propose(holder, mother)
    texts = [m for m in sent_messages if m.address == mother.phone]
    assert texts, "the relative is texted"
    assert "/pooling/answer/" in texts[0].body and texts[0].body.split("/pooling/answer/")[1].split("/")[0]
    token = texts[0].body.split("/pooling/answer/")[1].split("/")[0]
    assert proposals.binding_from_token(token) == binding


def _code_from_message(person):
    import re

    body = Notification.objects.filter(person=person, kind="pooling.request").latest("id").body
    return re.search(r"\b(\d{6})\b", re.sub(r"https?://\S+", "", body)).group(1)


def test_the_code_in_the_message_opens_the_request_and_wrong_codes_lock_out(holder, mother):
    binding = propose(holder, mother)
    code = _code_from_message(mother)
    assert proposals.binding_from_code(mother, code) == binding
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(proposals.ANSWER_CODE_ATTEMPTS):
        with pytest.raises(PoolingError) as error:
            proposals.binding_from_code(mother, wrong)
        assert error.value.code == "bad_code"
    with pytest.raises(PoolingError) as error:
        proposals.binding_from_code(mother, code)
    assert error.value.code == "locked"


def test_it_ends_pooling_when_the_relative_moves_outside_the_allowed_area(holder, mother):
    binding = make_binding(holder, mother)
    mother.region_id = SANYA
    _import(mother)
    binding.refresh_from_db()
    assert (binding.status, binding.end_reason) == (S.ENDED, EndReason.BENEFICIARY_LEFT_REGION)


def test_a_relative_without_a_portal_log_in_gets_a_text_and_can_answer_later(holder, sent_messages,
                                                                              django_capture_on_commit_callbacks):
    father = make_person("张建国", birth="1946-01-15", sex="M", phone="13900000003")
    with django_capture_on_commit_callbacks(execute=True):
        binding = propose(holder, father)
    assert binding.status == S.PENDING
    assert [m.address for m in sent_messages if m.address == father.phone] == [father.phone]
    from tests.conftest import make_citizen

    make_citizen(father)  # signs up later, within the answer period
    assert proposals.consent_binding(binding, web(father)).status == S.ACTIVE


def test_the_periodic_tasks_are_scheduled():
    from portal.celery import app

    tasks_scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert {
        "pooling.tasks.expire_pending_bindings_task", "pooling.tasks.remind_pending_bindings_task",
        "pooling.tasks.end_dates_task", "pooling.tasks.ask_minors_to_confirm_task",
    } <= tasks_scheduled
