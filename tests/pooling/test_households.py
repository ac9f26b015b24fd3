"""Relationships checked against household registration (户籍): the rules, the import, the effect."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation

from accounts.households import import_households
from accounts.models import AuditEvent, HouseholdMember, Notification
from pooling import households, proposals
from pooling.common import By, NotEligible, PoolingError
from pooling.households import CONFIRMS, CONTRADICTS, UNKNOWN, Member, relation_between, verdict
from pooling.models import Binding, BindingStatus
from tests.conftest import login_staff, make_citizen, make_id, make_person

S = BindingStatus


def csv_of(*rows):
    return "household_id,id_number,relationship_to_head\n" + "".join(f"{h},{n},{r}\n" for h, n, r in rows)


def web(person):
    return By(person, getattr(person, "user", None), "web")


# -- the pure rule -------------------------------------------------------------------------------


@pytest.mark.parametrize(("a", "b", "expected"), [
    ("head", "child", ("child",)),
    ("child", "head", ("parent",)),
    ("spouse", "child", ("child",)),
    ("child", "spouse", ("parent",)),
    ("child", "child", ("sibling",)),
    ("head", "parent", ("parent",)),
    ("parent", "head", ("child",)),
    ("head", "spouse_parent", ("parent_in_law",)),
    ("child", "parent", ("grandparent",)),
    ("parent", "child", ("grandchild",)),
    ("head", "other", ()),
    ("grandchild", "child", ("parent", "?")),
])
def test_it_derives_what_one_member_is_to_another(a, b, expected):
    assert relation_between(a, b) == expected


def test_it_confirms_contradicts_or_does_not_know():
    head, child = Member("H1", "head"), Member("H1", "child")
    assert verdict(head, child, "child") == CONFIRMS
    assert verdict(child, head, "parent") == CONFIRMS
    assert verdict(Member("H1", "child"), Member("H1", "child"), "child") == CONTRADICTS
    assert verdict(head, Member("H1", "grandchild"), "child") == CONTRADICTS
    assert verdict(Member("H1", "child"), Member("H1", "grandchild"), "child") == UNKNOWN  # or a nephew
    assert verdict(head, Member("H2", "child"), "child") == UNKNOWN  # another household (a married child)
    assert verdict(None, child, "child") == UNKNOWN
    assert verdict(head, Member("H1", "other"), "sibling") == UNKNOWN


def test_it_finds_the_guardians_of_a_child():
    child = Member("H1", "child")
    members = [(1, Member("H1", "head")), (2, Member("H1", "spouse")), (3, Member("H1", "parent")),
               (4, Member("H1", "sibling")), (5, Member("H2", "head"))]
    assert households.guardians_of(child, members) == [1, 2, 3]


# -- the import ----------------------------------------------------------------------------------


@pytest.fixture
def family(db):
    """A household: father (head), mother (spouse), a 10-year-old son, the head's father."""
    father = make_person("赵大海", birth="1984-02-02", sex="M", phone="13900000011")
    mum = make_person("钱小梅", birth="1986-03-03", sex="F", phone="13900000012")
    boy = make_person("赵小龙", birth="2016-06-06", sex="M", scheme="resident", phone="")
    grandpa = make_person("赵老汉", birth="1955-01-01", sex="M", phone="13900000013")
    for p in (father, mum, grandpa):
        make_citizen(p)
    return {"father": father, "mum": mum, "boy": boy, "grandpa": grandpa}


def family_csv(f):
    return csv_of(("H1", f["father"].id_number, "head"), ("H1", f["mum"].id_number, "spouse"),
                  ("H1", f["boy"].id_number, "child"), ("H1", f["grandpa"].id_number, "parent"))


def test_the_command_imports_a_good_file_and_a_rerun_changes_nothing(family, tmp_path, capsys):
    path = tmp_path / "households.csv"
    path.write_text(family_csv(family), encoding="utf-8")
    call_command("import_households", str(path))
    assert "created 4, updated 0, unchanged 0" in capsys.readouterr().out
    assert HouseholdMember.objects.get(person=family["boy"]).relationship_to_head == "child"
    call_command("import_households", str(path))
    assert "created 0, updated 0, unchanged 4" in capsys.readouterr().out
    assert HouseholdMember.objects.count() == 4
    assert AuditEvent.objects.filter(action="household.created").count() == 4


def test_the_command_names_every_bad_line_and_writes_nothing(family, tmp_path, capsys):
    path = tmp_path / "households.csv"
    unknown = make_id(birth="1970-01-01")
    path.write_text(csv_of(
        ("H1", family["father"].id_number, "head"),
        ("H1", family["mum"].id_number, "wife"),
        ("H1", "12345", "child"),
        ("H1", unknown, "sibling"),
        ("H1", family["grandpa"].id_number, "head"),
        ("", family["boy"].id_number, "child"),
    ), encoding="utf-8")
    with translation.override("en"), pytest.raises(CommandError) as failed:
        call_command("import_households", str(path))
    assert "5 bad line(s); nothing was written" in str(failed.value)
    err = capsys.readouterr().err
    assert "line 3: relationship_to_head wife is not one of" in err
    assert "line 4: ID number 12345" in err
    assert "line 5: ID number" in err and "not in the insured register" in err
    assert "line 6: household H1 already has a head on line 2" in err
    assert "line 7: the household number is empty" in err
    assert "line 2" not in err.replace("on line 2", "")
    assert HouseholdMember.objects.count() == 0


def test_the_import_reports_in_chinese(family):
    with translation.override("zh-hans"):
        result = import_households(csv_of(("H1", family["mum"].id_number, "wife")))
    assert not result.ok and result.errors[0].line == 2
    with translation.override("zh-hans"):
        assert str(result.errors[0]).startswith("第 2 行：与户主关系 wife 不在以下取值中：head, spouse")


def test_the_import_moves_a_person_to_their_new_household(family):
    assert import_households(family_csv(family)).created == 4
    result = import_households(csv_of(("H9", family["grandpa"].id_number, "head")))
    assert (result.created, result.updated) == (0, 1)
    assert HouseholdMember.objects.get(person=family["grandpa"]).household_id == "H9"


def test_bureau_staff_upload_the_file_in_admin(client, bureau_clerk, family):
    from django.core.files.uploadedfile import SimpleUploadedFile

    login_staff(client, bureau_clerk)
    client.cookies["django_language"] = "en"
    url = reverse("admin:accounts_householdmember_import")
    assert "Import household CSV" in client.get(reverse("admin:accounts_householdmember_changelist")).content.decode()
    bad = client.post(url, {"file": SimpleUploadedFile("h.csv", csv_of(("H1", "12345", "child")).encode())})
    assert "line 2" in bad.content.decode() and HouseholdMember.objects.count() == 0
    good = client.post(url, {"file": SimpleUploadedFile("h.csv", family_csv(family).encode())})
    assert good.status_code == 302 and HouseholdMember.objects.count() == 4
    assert AuditEvent.objects.filter(action="household.created", channel="admin", actor=bureau_clerk).count() == 4


# -- proposing against the register --------------------------------------------------------------


def test_a_stranger_cannot_bind_a_child_without_a_counter(holder, family, django_capture_on_commit_callbacks):
    """An unrelated adult who knows a 10-year-old's ID number and name: the request waits for a counter."""
    import_households(family_csv(family))
    boy = family["boy"]
    with django_capture_on_commit_callbacks(execute=True):
        binding = proposals.propose_binding(holder, boy, "child", web(holder))
    assert binding.status == S.PENDING and binding.awaits_counter and not binding.auto_activated
    assert not binding.answer_code_hash  # no link, no code: nobody can answer it by a message
    assert not Notification.objects.filter(person=boy, kind="pooling.request").exists()
    notice = Notification.objects.get(person=holder, kind="pooling.proposed")
    assert "柜台" in notice.body or "counter" in notice.body
    # The boy's parents and grandfather are told someone asked.
    told = set(Notification.objects.filter(kind="pooling.minor_requested").values_list("person_id", flat=True))
    assert told == {family["father"].pk, family["mum"].pk, family["grandpa"].pk}
    # Nobody can consent by a message or in the portal; only a counter with documents completes it.
    with pytest.raises(PoolingError) as refused:
        proposals.consent_binding(binding, web(boy))
    assert refused.value.code == "awaits_counter"
    assert Binding.objects.get().status == S.PENDING


def test_a_minor_without_household_data_waits_for_a_counter(holder, son):
    binding = proposals.propose_binding(holder, son, "child", web(holder))
    assert binding.status == S.PENDING and binding.awaits_counter and not binding.auto_activated


def test_a_minor_confirmed_by_the_register_joins_at_once_and_the_other_guardians_are_told(
    family, sent_messages, django_capture_on_commit_callbacks,
):
    import_households(family_csv(family))
    father, boy = family["father"], family["boy"]
    with django_capture_on_commit_callbacks(execute=True):
        binding = proposals.propose_binding(father, boy, "child", web(father))
    assert binding.status == S.ACTIVE and binding.auto_activated and not binding.awaits_counter
    bound = Notification.objects.filter(kind="pooling.minor_bound")
    assert set(bound.values_list("person_id", flat=True)) == {family["mum"].pk, family["grandpa"].pk}
    assert "赵大海" in bound.get(person=family["mum"]).body
    texted = {m.address for m in sent_messages}
    assert family["mum"].phone in texted and family["grandpa"].phone in texted


def test_a_grandparent_confirmed_by_the_register_also_binds_at_once(family):
    import_households(family_csv(family))
    binding = proposals.propose_binding(family["grandpa"], family["boy"], "grandchild", web(family["grandpa"]))
    assert binding.status == S.ACTIVE and binding.auto_activated
    assert set(Notification.objects.filter(kind="pooling.minor_bound").values_list("person_id", flat=True)) == {
        family["father"].pk, family["mum"].pk}


def test_a_counter_with_the_documents_completes_a_waiting_minor_and_tells_the_guardians(
    holder, family, counter_assistant,
):
    import_households(family_csv(family))
    binding = proposals.propose_binding(holder, family["boy"], "child", web(holder))
    by = By(family["boy"], counter_assistant, "counter")
    binding = proposals.consent_binding(binding, by, documents=list(proposals.REQUIRED_DOCUMENTS))
    assert binding.status == S.ACTIVE and not binding.awaits_counter and binding.auto_activated
    assert Notification.objects.filter(kind="pooling.minor_bound", person=family["mum"]).exists()


def test_a_contradiction_is_refused_with_what_to_do(family):
    import_households(family_csv(family))
    with pytest.raises(NotEligible) as refused:
        proposals.propose_binding(family["grandpa"], family["boy"], "child", web(family["grandpa"]))
    reason = refused.value.answer.reasons[0]
    assert refused.value.answer.codes == ["household_contradicts"]
    with translation.override("en"):
        assert reason.message == "The household register does not show this person as your son."
        assert "service counter" in reason.what_to_do and "household register" in reason.what_to_do
    with translation.override("zh-hans"):
        assert "户" in reason.message and "柜台" in reason.what_to_do
    assert Binding.objects.count() == 0


def test_an_adult_in_another_household_still_gives_their_own_consent(holder, mother):
    import_households(csv_of(("H7", holder.id_number, "head"), ("H8", mother.id_number, "head")))
    binding = proposals.propose_binding(holder, mother, "parent", web(holder))
    assert binding.status == S.PENDING and not binding.awaits_counter and binding.answer_code_hash
    assert proposals.consent_binding(binding, web(mother)).status == S.ACTIVE


@pytest.mark.parametrize(("language", "refusal", "waits"), [
    ("en", "does not show this person as your", "does not show that you are their parent"),
    ("zh-hans", "户籍", "柜台"),
])
def test_the_propose_page_refuses_a_contradiction_and_explains_a_waiting_minor(
    client, holder, family, language, refusal, waits,
):
    import_households(family_csv(family) + f"H5,{holder.id_number},head\n")
    client.cookies["django_language"] = language
    client.force_login(family["grandpa"].user)
    boy = family["boy"]
    page = client.post(reverse("pooling:propose"), {"id_number": boy.id_number, "name": boy.name,
                                                    "relationship": "child", "confirm": "1"}).content.decode()
    assert 'data-code="household_contradicts"' in page and refusal in page
    client.force_login(holder.user)
    page = client.post(reverse("pooling:propose"), {"id_number": boy.id_number, "name": boy.name,
                                                    "relationship": "child"}).content.decode()
    assert 'id="awaits-counter"' in page and waits in page
    assert Binding.objects.count() == 0


@pytest.mark.parametrize(("language", "says"), [("en", "only after a service counter"), ("zh-hans", "医保服务柜台")])
def test_a_stranger_sending_the_request_for_a_child_sees_it_wait_for_a_counter(client, holder, family, language, says):
    import_households(family_csv(family))
    client.cookies["django_language"] = language
    client.force_login(holder.user)
    boy = family["boy"]
    response = client.post(reverse("pooling:propose"), {"id_number": boy.id_number, "name": boy.name,
                                                        "relationship": "child", "confirm": "1", "pledge": "1"},
                           follow=True)
    binding = Binding.objects.get()
    assert binding.status == S.PENDING and binding.awaits_counter and not binding.auto_activated
    assert says in response.content.decode()
