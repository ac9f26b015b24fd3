"""The eligibility rules, one test per rule, without a database.

Messages are lazy translations (the Chinese text is added later by the lead); each test checks
the English wording under override("en") and that the message is a lazy translation object.
"""

from __future__ import annotations

import datetime

from django.utils.functional import Promise
from django.utils.translation import override

from accounts.models import RegionPolicy
from pooling.eligibility import Counts, PersonFacts, check_binding, facts_from_checker

TODAY = datetime.date(2026, 6, 1)
HAIKOU, SANYA, CHANGSHA, YUEYANG = "460100", "460200", "430100", "430600"


def person(scheme="employee", status="active", region=HAIKOU, name="海南省海口市", birth="1975-03-12", pk=1, **kw):
    return PersonFacts(known=True, scheme=scheme, status=status, region_code=region, region_name=name,
                       birth_date=datetime.date.fromisoformat(birth), person_id=pk, **kw)


HOLDER = person()
MOTHER = person(scheme="resident", birth="1948-09-30", pk=2)


def policy(**kw):
    return RegionPolicy(**kw)


def check(holder=HOLDER, candidate=MOTHER, relationship="parent", pol=None, counts=None, **kw):
    return check_binding(holder, candidate, relationship, pol or policy(), TODAY, counts, **kw)


def english(reason):
    assert isinstance(reason.explanation, Promise) and isinstance(reason.advice, Promise)
    with override("en"):
        return reason.message, reason.what_to_do


def only(answer, code):
    assert answer.codes == [code]
    return english(answer.reasons[0])


def test_it_accepts_an_ordinary_mother():
    answer = check()
    assert answer.ok and answer.warnings == [] and not answer.joins_at_once


def test_it_refuses_binding_yourself():
    message, advice = only(check(candidate=HOLDER, relationship="spouse", counts=None), "self")
    assert "cannot add yourself" in message
    assert "relative you want to help" in advice


def test_it_refuses_a_holder_without_a_personal_account():
    message, advice = only(check(holder=person(scheme="resident")), "holder_no_account")
    assert "Only people with employee medical insurance" in message
    assert "can add you instead" in advice


def test_it_refuses_a_holder_whose_insurance_is_not_active():
    message, advice = only(check(holder=person(status="suspended")), "holder_not_active")
    assert "not active" in message and "restore your insurance" in advice


def test_it_explains_an_uninsured_relative_and_how_to_enrol():
    answer = check(candidate=PersonFacts.unknown())
    message, advice = only(answer, "candidate_not_insured")
    assert "could not find this person in the medical insurance register" in message
    assert "needs to enrol in basic medical insurance first" in advice


def test_it_refuses_a_relative_whose_insurance_is_terminated():
    message, advice = only(check(candidate=person(status="terminated", birth="1948-01-01", pk=3)), "candidate_not_active")
    assert message == "Your parent's insurance is terminated, so they cannot receive pooled money now."
    assert "renew their insurance" in advice


def test_it_refuses_a_deceased_relative():
    message, _advice = only(check(candidate=person(died=True, birth="1948-01-01", pk=3)), "candidate_deceased")
    assert "deceased" in message


def test_it_refuses_a_relationship_the_region_does_not_allow():
    pol = policy(allowed_relationships=["spouse", "parent", "child"])
    sister = person(scheme="resident", birth="1980-11-11", pk=4)
    message, advice = only(check(candidate=sister, relationship="sibling", pol=pol), "relationship_not_allowed")
    assert message == ("In your region, family pooling is allowed only for: spouse, parent, child. "
                       "A brother or sister is not included.")
    assert "Another relative" in advice


def test_it_refuses_an_unknown_relationship():
    message, _advice = only(check(relationship="friend"), "relationship_unknown")
    assert "only for close relatives" in message


def test_it_refuses_a_relative_in_another_region():
    father = person(region=SANYA, name="海南省三亚市", birth="1946-01-15", pk=5)
    message, advice = only(check(candidate=father), "outside_region")
    assert message == ("Your parent is insured in 海南省三亚市, and 海南省海口市 allows family pooling "
                       "only with relatives insured in 海南省海口市.")
    assert "resident insurance premium" in advice


def test_it_allows_the_same_province_or_the_whole_country_when_the_region_does():
    changsha = person(region=CHANGSHA, name="长沙")
    assert check(holder=changsha, candidate=person(region=YUEYANG, birth="1948-01-01", pk=6),
                 pol=policy(pooling_scope="province")).ok
    answer = check(holder=changsha, candidate=person(region=HAIKOU, birth="1948-01-01", pk=6),
                   pol=policy(pooling_scope="province"))
    assert answer.codes == ["outside_province"]
    assert "same province" in english(answer.reasons[0])[0]
    assert check(holder=changsha, candidate=MOTHER, pol=policy(pooling_scope="national")).ok


def test_it_counts_active_and_pending_against_the_maximum():
    message, advice = only(check(counts=Counts(active=5, pending=1)), "maximum_reached")
    assert message == ("You already have 6 relatives (5 active, 1 waiting for an answer). "
                       "Your region allows at most 6.")
    assert "cancel a request" in advice
    assert check(counts=Counts(active=4, pending=1)).ok
    assert check(pol=policy(max_beneficiaries=10), counts=Counts(active=9)).ok


def test_it_refuses_a_pair_that_is_already_bound():
    message, _advice = only(check(counts=Counts(active=1, pair_status="pending")), "already_bound")
    assert "already on your list" in message and "waiting for an answer" in message


def test_it_refuses_re_binding_during_the_cooling_period():
    counts = Counts(cooling_until=TODAY + datetime.timedelta(days=3))
    _message, advice = only(check(counts=counts), "cooling_period")
    assert advice == "You can add them again from 2026-06-04."
    assert check(counts=Counts(cooling_until=TODAY)).ok


def test_it_returns_every_reason_not_only_the_first():
    holder = person(scheme="resident", status="suspended")
    father = person(region=SANYA, status="suspended", birth="1946-01-15", pk=5)
    answer = check(holder=holder, candidate=father, relationship="grandparent",
                   pol=policy(allowed_relationships=["spouse", "parent", "child"]), counts=Counts(active=6))
    assert answer.codes == ["holder_no_account", "holder_not_active", "candidate_not_active",
                            "relationship_not_allowed", "outside_region", "maximum_reached"]


def test_it_warns_about_a_zero_balance_without_blocking():
    answer = check(counts=Counts(holder_balance_fen=0))
    assert answer.ok and answer.warning_codes == ["zero_balance"]
    message, advice = english(answer.warnings[0])
    assert "balance is ¥0" in message and "You can still add your relative" in advice
    assert check(counts=Counts(holder_balance_fen=100)).warnings == []


def test_it_flags_a_parent_too_young_for_review():
    young_parent = person(scheme="resident", birth="1985-01-01", pk=7)
    answer = check(candidate=young_parent)
    assert answer.ok and answer.review_flags == ["age_gap_too_small"]
    message, advice = english(answer.warnings[0])
    assert message.startswith("The ID numbers say your parent is less than 15 years older than you.")
    assert "household register" in advice


def test_it_flags_a_child_or_grandchild_too_old_for_review():
    assert check(candidate=person(birth="1985-01-01", pk=8), relationship="child").review_flags == ["age_gap_too_small"]
    assert check(candidate=person(birth="1991-01-01", pk=8), relationship="child").review_flags == []
    assert check(candidate=person(birth="1990-01-01", pk=8), relationship="grandchild").review_flags == [
        "age_gap_too_small"]


def test_it_flags_a_spouse_under_the_marriage_age():
    answer = check(holder=person(birth="1990-01-01"), candidate=person(birth="2008-01-01", pk=9), relationship="spouse")
    assert answer.review_flags == ["age_spouse_too_young"]
    assert "younger than 20" in english(answer.warnings[0])[0]
    assert check(candidate=person(birth="1977-01-01", pk=9), relationship="spouse").warnings == []


def test_it_lets_a_young_child_join_at_once_when_the_register_confirms_the_parent():
    son = person(scheme="resident", birth="2016-04-01", pk=10)
    assert check(candidate=son, relationship="child", household="confirms").joins_at_once
    teen = person(scheme="resident", birth="2009-01-01", pk=11)
    assert not check(candidate=teen, relationship="child", household="confirms").joins_at_once
    assert not check(candidate=son, relationship="sibling", household="confirms").joins_at_once


def test_a_minor_without_a_confirming_register_waits_for_a_counter():
    son = person(scheme="resident", birth="2016-04-01", pk=10)
    for household in ("unknown", "different"):
        answer = check(candidate=son, relationship="child", household=household)
        assert answer.ok and not answer.joins_at_once and answer.awaits_counter
    assert check(candidate=son, relationship="sibling", household="unknown").awaits_counter
    assert not check(candidate=person(birth="1950-01-01", pk=12), relationship="parent").awaits_counter


def test_a_register_that_contradicts_the_relationship_refuses_it():
    answer = check(relationship="parent", household="contradicts")
    message, advice = only(answer, "household_contradicts")
    assert "household register does not show" in message and "service counter" in advice


def test_it_answers_the_public_checker_from_a_short_form():
    me = facts_from_checker("employee", HAIKOU, "海口", None, TODAY)
    relative = facts_from_checker("resident", SANYA, "三亚", 78, TODAY)
    answer = check_binding(me, relative, "parent", policy(), TODAY)
    assert answer.codes == ["outside_region"]
    uninsured = facts_from_checker("", "", "", 78, TODAY, insured=False)
    assert check_binding(me, uninsured, "parent", policy(), TODAY).codes == ["candidate_not_insured"]


def test_it_renders_messages_in_the_language_active_when_shown():
    from accounts.models import Relationship

    answer = check(candidate=person(region=SANYA, name="三亚", birth="1946-01-15", pk=5))
    for language in ("en", "zh-hans"):
        with override(language):
            label = str(Relationship.PARENT.label).lower()
            assert label in answer.reasons[0].message
            assert answer.reasons[0].what_to_do


def test_it_names_the_relative_by_sex_when_the_registry_knows_it():
    sister = PersonFacts(known=True, scheme="resident", status="suspended", region_code=HAIKOU,
                         birth_date=datetime.date(1980, 11, 11), person_id=12, sex="F")
    message, _advice = only(check(candidate=sister, relationship="sibling"), "candidate_not_active")
    assert message.startswith("Your sister's insurance is suspended")


def _all_kinds_of_answer():
    """Scenarios that between them produce most refusal codes and warnings."""
    yield check(candidate=HOLDER, relationship="spouse")
    yield check(holder=person(scheme="resident", status="suspended"),
                candidate=person(status="terminated", region=SANYA, name="三亚", pk=3),
                relationship="parent_in_law", pol=policy(allowed_relationships=["spouse", "parent", "child"]),
                counts=Counts(active=5, pending=1, holder_balance_fen=0))
    yield check(counts=Counts(pair_status="active"))
    yield check(counts=Counts(cooling_until=TODAY + datetime.timedelta(days=3)))
    yield check(candidate=person(birth="1990-01-01", pk=4), relationship="parent")
    yield check(counts=Counts(holder_balance_fen=0))
    yield check_binding(HOLDER, facts_from_checker("", "", "", 78, TODAY, insured=False), "parent", policy(), TODAY)


def test_it_explains_every_reason_in_chinese_as_well_as_english():
    seen = set()
    for answer in _all_kinds_of_answer():
        for reason in [*answer.reasons, *answer.warnings]:
            seen.add(reason.code)
            with override("en"):
                english_text = (reason.message, reason.what_to_do)
            with override("zh-hans"):
                chinese_text = (reason.message, reason.what_to_do)
            for en, zh in zip(english_text, chinese_text, strict=True):
                assert zh != en, f"{reason.code} is not translated: {en}"
                assert any("\u4e00" <= ch <= "\u9fff" for ch in zh), f"{reason.code} has no Chinese text: {zh}"
    assert len(seen) >= 8, seen


def test_it_lists_allowed_relationships_the_chinese_way_in_chinese():
    answer = check(relationship="sibling", pol=policy(allowed_relationships=["spouse", "parent", "child"]))
    reason = next(r for r in answer.reasons if r.code == "relationship_not_allowed")
    with override("zh-hans"):
        assert "配偶、父母、子女" in reason.message
    with override("en"):
        assert "spouse, parent, child" in reason.message
