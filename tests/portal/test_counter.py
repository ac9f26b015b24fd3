"""The elderly-assist counter: look-ups with a reason, every action on a citizen's behalf, receipts, scope.

All as the ``counter_assistant`` persona (海口 office). Each action goes through the same service
function as the citizen's page, writes a CounterAction with the documents seen, and ends on a receipt.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, InsuredPerson, Notification, Office, Region, RegionPolicy, Role, User
from payments.models import Voucher
from pooling import proposals
from pooling.common import By
from pooling.models import Binding, BindingStatus, DeductionOrder
from portal.models import CounterAction, CounterDocument
from tests.conftest import HAIKOU, PASSWORD, SANYA, login_staff, make_person

from ..pooling.conftest import credit, make_binding
from .counter_data import consent_documents, documents, person_id

pytestmark = pytest.mark.django_db
S = BindingStatus


@pytest.fixture
def assistant_client(en_client, counter_assistant):
    login_staff(en_client, counter_assistant)
    return en_client


@pytest.fixture
def sanya_assistant(db):
    office = Office.objects.create(name="三亚市医保服务大厅", region=Region.objects.get(pk=SANYA))
    user = User(username="counter-sanya", role=Role.COUNTER, office=office)
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def elderly(db):
    """An elderly man of 海口 without a smartphone account, and his son with employee insurance."""
    father = make_person("赵建国", birth="1942-04-08", sex="M", phone="13900000011")
    son = make_person("赵明", birth="1970-06-01", sex="M", phone="13900000012")
    return father, son


def find(client, method, reason="in_person", **fields):
    data = {"method": method, f"by_{method}-reason": reason}
    data.update({f"by_{method}-{k}": v for k, v in fields.items()})
    return client.post(reverse("counter:home"), data)


def the_action(kind):
    return CounterAction.objects.get(kind=kind)


# -- look-ups --------------------------------------------------------------------------------------


def test_look_up_by_id_number_is_audited_with_its_reason(assistant_client, counter_assistant, mother):
    response = find(assistant_client, "id", id_number=mother.id_number, reason="phone_change")
    assert response.status_code == 302 and response.url == reverse("counter:person", args=[mother.pk])
    search = AuditEvent.objects.get(action="counter.search")
    assert (search.actor, search.on_behalf_of, search.channel) == (counter_assistant, mother, "counter")
    assert search.after == {"method": "id", "reason": "phone_change", "found": 1}
    page = assistant_client.get(response.url).content.decode()
    assert "To change the registered phone" in page
    lookup = AuditEvent.objects.get(action="counter.lookup")
    assert lookup.on_behalf_of == mother and lookup.after == {"reason": "phone_change"}


def test_look_up_by_name_and_birth_date(assistant_client, elderly):
    father, _son = elderly
    response = find(assistant_client, "name", name="赵 建国", birth_date="1942-04-08")
    assert response.url == reverse("counter:person", args=[father.pk])
    assert AuditEvent.objects.get(action="counter.search").after["method"] == "name"


def test_two_people_with_the_same_name_and_birth_date_are_listed_masked(assistant_client, elderly):
    father, _son = elderly
    namesake = make_person("赵建国", birth="1942-04-08", sex="M", phone="13900000099")
    html = find(assistant_client, "name", name="赵建国", birth_date="1942-04-08").content.decode()
    assert "2 people found" in html
    for person in (father, namesake):
        assert reverse("counter:person", args=[person.pk]) in html
        assert person.masked_id_number in html and person.id_number not in html
        assert person.phone not in html
    assert AuditEvent.objects.get(action="counter.search").after["found"] == 2


def test_look_up_by_phone(assistant_client, mother):
    response = find(assistant_client, "phone", phone="138-0000-0002", reason="signup")
    assert response.url == reverse("counter:person", args=[mother.pk])


def test_a_look_up_needs_a_reason_and_finds_nobody_of_another_region(assistant_client, outsider):
    html = find(assistant_client, "name", reason="", name=outsider.name, birth_date="1990-05-05").content.decode()
    assert "Reason for the look-up" in html and not AuditEvent.objects.filter(action="counter.search").exists()
    html = find(assistant_client, "name", name=outsider.name, birth_date="1990-05-05").content.decode()
    assert "Nobody insured in this region has this name and birth date" in html
    assert reverse("counter:person", args=[outsider.pk]) not in html
    html = find(assistant_client, "phone", phone=outsider.phone).content.decode()
    assert "Nobody insured in this region has this registered phone" in html
    assert AuditEvent.objects.filter(action="counter.search", after__found=0).count() == 2


def test_only_counter_assistants_use_the_workspace(client, holder):
    client.force_login(holder.user)
    assert client.get(reverse("counter:home")).status_code == 403
    assert client.get(reverse("counter:person", args=[holder.pk])).status_code == 403


# -- scope -----------------------------------------------------------------------------------------


def test_an_assistant_of_another_region_gets_404_exactly_like_a_missing_person(client, sanya_assistant, holder, mother):
    binding = make_binding(holder, mother)
    action = CounterAction.objects.create(office=Office.objects.create(name="x", region_id=HAIKOU),
                                          staff=sanya_assistant, person=holder, kind="limits")
    login_staff(client, sanya_assistant)
    missing = 999_999
    pairs = [
        ("counter:person", [holder.pk], [missing]),
        ("counter:receipt", [holder.pk, action.pk], [missing, action.pk]),
        ("counter:phone", [holder.pk], [missing]),
        ("counter:signup", [holder.pk], [missing]),
        ("counter:voucher", [holder.pk], [missing]),
        ("counter:pooling-order", [mother.pk], [missing]),
        ("counter:pooling-undo", [holder.pk], [missing]),
        ("counter:pooling-propose", [holder.pk], [missing]),
        ("counter:pooling-limits", [holder.pk, binding.pk], [missing, binding.pk]),
        ("counter:pooling-end-date", [holder.pk, binding.pk], [missing, binding.pk]),
        ("counter:pooling-pause", [holder.pk, binding.pk], [missing, binding.pk]),
        ("counter:pooling-unbind", [holder.pk, binding.pk], [missing, binding.pk]),
        ("counter:pooling-consent", [mother.pk, binding.pk], [missing, binding.pk]),
    ]
    for name, foreign, absent in pairs:
        a, b = client.get(reverse(name, args=foreign)), client.get(reverse(name, args=absent))
        assert a.status_code == b.status_code == 404, name
        assert a.templates[0].name == b.templates[0].name, name
        post = client.post(reverse(name, args=foreign), person_id(holder))
        assert post.status_code == 404, name
    assert Binding.objects.get().status == S.ACTIVE and Binding.objects.get().monthly_cap_fen is None
    assert not AuditEvent.objects.filter(action="counter.lookup").exists()


def test_a_binding_of_someone_else_answers_like_a_missing_one(assistant_client, holder, mother, outsider):
    foreign = make_binding(outsider, make_person("外人", region=SANYA))
    for name in ("counter:pooling-limits", "counter:pooling-unbind", "counter:pooling-pause"):
        assert assistant_client.get(reverse(name, args=[holder.pk, foreign.pk])).status_code == 404
        assert assistant_client.get(reverse(name, args=[holder.pk, 999_999])).status_code == 404


def _province_wide(region=HAIKOU):
    RegionPolicy.objects.create(region_id=region, effective_from=datetime.date(2020, 1, 2), pooling_scope="province")


def test_province_wide_scope_consent_for_a_relative_insured_elsewhere_is_recorded(assistant_client, holder):
    _province_wide()
    sister = make_person("张丽", region=SANYA, birth="1978-02-02", sex="F", scheme="resident")
    url = reverse("counter:pooling-propose", args=[holder.pk])
    data = {"id_number": sister.id_number, "name": sister.name, "relationship": "sibling", "record_consent": "on",
            "confirm": "1", **consent_documents(holder, sister)}
    response = assistant_client.post(url, data)
    binding = Binding.objects.get()
    assert binding.status == S.ACTIVE and binding.consent_channel == "counter"
    assert response.url == reverse("counter:receipt", args=[holder.pk, the_action("propose_active").pk])


def test_without_a_wider_scope_a_relative_elsewhere_cannot_be_added(assistant_client, holder):
    sister = make_person("张丽", region=SANYA, birth="1978-02-02", sex="F", scheme="resident")
    data = {"id_number": sister.id_number, "name": sister.name, "relationship": "sibling", "record_consent": "on",
            "confirm": "1", **consent_documents(holder, sister)}
    html = assistant_client.post(reverse("counter:pooling-propose", args=[holder.pk]), data).content.decode()
    assert "cannot be added yet" in html and not Binding.objects.exists()


def test_province_wide_scope_waiting_request_of_a_relative_elsewhere_can_be_answered_at_the_holders_counter(
        assistant_client, holder):
    _province_wide()
    sister = make_person("张丽", region=SANYA, birth="1978-02-02", sex="F", scheme="resident")
    binding = proposals.propose_binding(holder, sister, "sibling", By(holder, holder.user))
    page = assistant_client.get(reverse("counter:person", args=[holder.pk])).content.decode()
    assert reverse("counter:pooling-consent", args=[holder.pk, binding.pk]) in page
    assistant_client.post(reverse("counter:pooling-consent", args=[holder.pk, binding.pk]),
                          consent_documents(holder, sister))
    assert Binding.objects.get().status == S.ACTIVE


# -- actions ---------------------------------------------------------------------------------------


def test_propose_with_documents_records_consent_stores_numbers_protected_and_prints_a_receipt(
        assistant_client, counter_assistant, elderly):
    father, son = elderly
    url = reverse("counter:pooling-propose", args=[son.pk])
    data = {"id_number": father.id_number, "name": father.name, "relationship": "parent", "record_consent": "on",
            **consent_documents(son, father)}
    assert 'id="counter-confirm"' in assistant_client.post(url, data).content.decode()
    response = assistant_client.post(url, data | {"confirm": "1"})
    binding = Binding.objects.get()
    assert binding.status == S.ACTIVE and set(binding.consent_documents) >= {"id_card", "insurance_card",
                                                                             "relationship_proof"}
    action = the_action("propose_active")
    assert (action.staff, action.person, action.relative, action.office) == (
        counter_assistant, son, father, counter_assistant.office)
    assert action.object_id == str(binding.pk) and action.audit_event.action == "counter.action"
    assert AuditEvent.objects.filter(action="pooling.proposed", channel="counter", actor=counter_assistant,
                                     on_behalf_of=son).exists()
    docs = list(action.documents.all())
    assert [(d.kind, d.owner, d.present) for d in docs] == [
        ("id_card", "person", True), ("id_card", "relative", True), ("insurance_card", "relative", True),
        ("hukou_page", "relative", True)]
    assert docs[1].number == father.id_number
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {CounterDocument._meta.db_table}")  # noqa: S608
        raw = repr(cursor.fetchall())
        cursor.execute(f"SELECT * FROM {AuditEvent._meta.db_table}")  # noqa: S608
        raw += repr(cursor.fetchall())
    for number in (father.id_number, son.id_number, "H46010012345"):
        assert number not in raw
    receipt = assistant_client.get(response.url).content.decode()
    assert father.masked_id_number in receipt and father.id_number not in receipt and "H46*****2345" in receipt


def test_propose_without_consent_sends_a_request(assistant_client, elderly):
    father, son = elderly
    data = {"id_number": father.id_number, "name": father.name, "relationship": "parent", "confirm": "1",
            **person_id(son)}
    response = assistant_client.post(reverse("counter:pooling-propose", args=[son.pk]), data)
    assert Binding.objects.get().status == S.PENDING
    assert response.url.endswith(f"/receipt/{the_action('propose').pk}/")


def test_consent_needs_every_document_and_the_right_id_card(assistant_client, holder, mother):
    binding = proposals.propose_binding(holder, mother, "parent", By(holder, holder.user))
    url = reverse("counter:pooling-consent", args=[mother.pk, binding.pk])
    wrong = documents(("id_card", "person", holder.id_number, True), ("id_card", "relative", holder.id_number, True),
                      ("insurance_card", "person", "H1234567", True), ("hukou_page", "person", "12-3", True))
    html = assistant_client.post(url, wrong).content.decode()
    assert "is not the number registered for them" in html
    missing = documents(("id_card", "person", mother.id_number, True))
    html = assistant_client.post(url, missing).content.decode()
    assert "Missing:" in html and "Proof of the relationship" in html
    assert Binding.objects.get().status == S.PENDING and not CounterAction.objects.exists()
    response = assistant_client.post(url, consent_documents(mother, holder))
    assert Binding.objects.get().status == S.ACTIVE
    action = the_action("consent")
    assert response.url == reverse("counter:receipt", args=[mother.pk, action.pk]) and action.relative == holder


def test_limits_are_set_through_the_service_and_audited(assistant_client, counter_assistant, holder, mother):
    binding = make_binding(holder, mother)
    url = reverse("counter:pooling-limits", args=[holder.pk, binding.pk])
    assert assistant_client.get(url).status_code == 200
    html = assistant_client.post(url, {"monthly": "300", **documents()}).content.decode()
    assert "Please check the ID card of" in html and Binding.objects.get().monthly_cap_fen is None
    response = assistant_client.post(url, {"monthly": "300", "per_payment": "", "annual": "", **person_id(holder)})
    assert Binding.objects.get().monthly_cap_fen == 30_000
    event = AuditEvent.objects.get(action="pooling.limits_set")
    assert (event.actor, event.on_behalf_of, event.channel) == (counter_assistant, holder, "counter")
    receipt = assistant_client.get(response.url).content.decode()
    assert "per month ¥300.00" in receipt and "per payment no limit" in receipt


def test_limits_of_a_relative_are_not_reachable_from_the_relatives_page(assistant_client, holder, mother):
    binding = make_binding(holder, mother)
    assert assistant_client.get(reverse("counter:pooling-limits", args=[mother.pk, binding.pk])).status_code == 404


def test_pause_and_resume(assistant_client, holder, mother):
    binding = make_binding(holder, mother)
    assistant_client.post(reverse("counter:pooling-pause", args=[holder.pk, binding.pk]), person_id(holder))
    assert Binding.objects.get().status == S.PAUSED
    page = assistant_client.get(reverse("counter:person", args=[holder.pk])).content.decode()
    assert reverse("counter:pooling-resume", args=[holder.pk, binding.pk]) in page
    assert reverse("counter:pooling-undo", args=[holder.pk]) in page
    assistant_client.post(reverse("counter:pooling-resume", args=[holder.pk, binding.pk]), person_id(holder))
    assert Binding.objects.get().status == S.ACTIVE
    assert [a.kind for a in CounterAction.objects.order_by("id")] == ["pause", "resume"]
    assert AuditEvent.objects.filter(action__in=["pooling.paused", "pooling.resumed"], channel="counter").count() == 2


def test_resuming_an_active_binding_explains_instead_of_failing(assistant_client, holder, mother):
    binding = make_binding(holder, mother)
    html = assistant_client.post(reverse("counter:pooling-resume", args=[holder.pk, binding.pk]),
                                 person_id(holder)).content.decode()
    assert "This pooling is not paused." in html and not CounterAction.objects.exists()


def test_end_date(assistant_client, holder, mother):
    binding = make_binding(holder, mother)
    day = timezone.localdate() + datetime.timedelta(days=90)
    response = assistant_client.post(reverse("counter:pooling-end-date", args=[holder.pk, binding.pk]),
                                     {"end_date": day.isoformat(), **person_id(holder)})
    assert Binding.objects.get().end_date == day
    assert day.isoformat() in assistant_client.get(response.url).content.decode()
    html = assistant_client.post(reverse("counter:pooling-end-date", args=[holder.pk, binding.pk]),
                                 {"end_date": "2000-01-01", **person_id(holder)}).content.decode()
    assert "The end date must be in the future." in html and Binding.objects.get().end_date == day


def test_deduction_order(assistant_client, holder, mother):
    wife = make_person("王梅", birth="1976-01-01", sex="F")
    second = make_binding(wife, holder, "spouse")
    page = assistant_client.get(reverse("counter:person", args=[holder.pk])).content.decode()
    assert reverse("counter:pooling-order", args=[holder.pk]) in page
    url = reverse("counter:pooling-order", args=[holder.pk])
    html = assistant_client.post(url, {"position-own": "1", f"position-binding:{second.pk}": "1",
                                       **person_id(holder)}).content.decode()
    assert "Give each source a different position" in html
    response = assistant_client.post(url, {"position-own": "2", f"position-binding:{second.pk}": "1",
                                           **person_id(holder)})
    assert DeductionOrder.objects.get(person=holder).sources == [f"binding:{second.pk}", "own"]
    assert "Account of 王梅 → Own personal account" in assistant_client.get(response.url).content.decode()
    assert AuditEvent.objects.filter(action="pooling.order_set", channel="counter").exists()


def test_unbind_and_undo(assistant_client, holder, mother):
    binding = make_binding(holder, mother)
    assistant_client.post(reverse("counter:pooling-unbind", args=[holder.pk, binding.pk]),
                          {"note": "", **person_id(holder)})
    assert Binding.objects.get().status == S.ENDED
    assert assistant_client.get(reverse("counter:pooling-undo", args=[holder.pk])).status_code == 200
    response = assistant_client.post(reverse("counter:pooling-undo", args=[holder.pk]), person_id(holder))
    assert Binding.objects.get().status == S.ACTIVE
    assert response.url.endswith(f"/receipt/{the_action('undo').pk}/")
    assert AuditEvent.objects.filter(action="pooling.undone", channel="counter").exists()
    again = assistant_client.get(reverse("counter:pooling-undo", args=[holder.pk]))
    assert again.status_code == 302


def test_a_voucher_code_is_printed_once(assistant_client, counter_assistant, mother):
    url = reverse("counter:voucher", args=[mother.pk])
    assert assistant_client.get(url).status_code == 200
    response = assistant_client.post(url, person_id(mother))
    html = response.content.decode()
    code = re.search(r'data-testid="voucher-code">([\d ]+)<', html).group(1)
    assert len(code.replace(" ", "")) == 18 and "<svg" in html
    voucher = Voucher.objects.get(person=mother)
    assert voucher.used_at is None and voucher.expires_at > timezone.now()
    assert AuditEvent.objects.get(action="voucher.issue").channel == "counter"
    action = the_action("voucher")
    again = assistant_client.get(reverse("counter:receipt", args=[mother.pk, action.pk])).content.decode()
    assert code not in again and "One-time e-voucher code printed" in again


def test_changing_the_registered_phone_needs_the_id_card(assistant_client, counter_assistant, mother):
    url = reverse("counter:phone", args=[mother.pk])
    assert assistant_client.get(url).status_code == 200
    other = make_person("别人").id_number
    html = assistant_client.post(url, {"id_number": other, "present": "on", "new_phone": "13712345678"}).content.decode()
    assert "The ID card number does not match this person" in html
    assert InsuredPerson.objects.get(pk=mother.pk).phone == "13800000002"
    response = assistant_client.post(url, {"id_number": mother.id_number, "present": "on",
                                           "new_phone": "137 1234 5678"})
    assert InsuredPerson.objects.get(pk=mother.pk).phone == "13712345678"
    event = AuditEvent.objects.get(action="registry.phone_changed")
    assert (event.actor, event.channel, event.before, event.after) == (
        counter_assistant, "counter", {"phone": "138****0002"}, {"phone": "137****5678"})
    assert Notification.objects.filter(person=mother, kind="account.phone_changed").exists()
    receipt = assistant_client.get(response.url).content.decode()
    assert "137****5678" in receipt and "13712345678" not in receipt and mother.id_number not in receipt


def test_sign_up_help_sends_the_code_to_the_registered_phone(assistant_client, counter_assistant, sent_messages,
                                                             django_capture_on_commit_callbacks):
    grandpa = make_person("黄志强", birth="1940-01-01", sex="M", phone="13900000077")
    url = reverse("counter:signup", args=[grandpa.pk])
    assert assistant_client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assistant_client.post(url, {"step": "send", "present": "on"})
    action = the_action("signup")
    assert action.details["phone"] == "139****0077"
    text = next(m for m in sent_messages if m.address == "13900000077").body
    code = re.search(r"\b(\d{6})\b", text).group(1)
    response = assistant_client.post(url, {"step": "finish", "code": code, "password1": "Garden-Walk-1942",
                                           "password2": "Garden-Walk-1942"})
    assert response.url == reverse("counter:receipt", args=[grandpa.pk, action.pk])
    assert User.objects.get(person=grandpa).check_password("Garden-Walk-1942")
    assert AuditEvent.objects.filter(action="counter.signup_completed", actor=counter_assistant).exists()


def _confirmation_token(html: str) -> str:
    return re.search(r'name="documents" value="([^"]+)"', html).group(1)


def test_premium_at_the_counter_is_confirmed_before_anything_is_written(assistant_client, holder, mother):
    from payments import ledger
    from payments.models import PremiumPayment
    from payments.premiums import premium_amount, premium_year
    from portal.templatetags.portal_tags import format_fen

    credit(holder, 100_000)
    make_binding(holder, mother)
    amount = premium_amount(mother)
    url = reverse("counter:premium-pay", args=[holder.pk])
    pay = {"relative": mother.pk, "year": premium_year()}
    page = assistant_client.get(reverse("counter:person", args=[holder.pk])).content.decode()
    link = f"{url}?relative={mother.pk}&amp;year={premium_year()}"
    assert link in page
    form = assistant_client.get(link.replace("&amp;", "&")).content.decode()
    assert "Pay the resident premium of 李秀英" in form and "Next: check the details" in form

    def nothing_written() -> bool:
        return (not PremiumPayment.objects.exists() and not CounterAction.objects.exists()
                and not AuditEvent.objects.filter(action="premium.pay").exists()
                and ledger.balance_of(holder) == 100_000)

    # The documents, then a page that says what will happen; nothing is paid yet.
    confirm = assistant_client.post(url, {**pay, **person_id(holder)})
    assert confirm.status_code == 200 and nothing_written()
    html = confirm.content.decode()
    for text in (
        "Check the premium payment", "Nothing has been paid yet",
        f"张伟 ({holder.masked_id_number})", f"李秀英 ({mother.masked_id_number}) · Parent",
        f"Urban-rural resident insurance premium for {premium_year()}",
        f'data-testid="confirm-amount">{format_fen(amount)}<',
        "Medical-insurance personal account of 张伟", "¥1,000.00",
        f'data-testid="confirm-balance-after">{format_fen(100_000 - amount)}<',
        f"Resident identity card · 张伟 · {holder.masked_id_number}",
        f"Confirm and pay {format_fen(amount)}", 'value="edit"',
    ):
        assert text in html, text
    for secret in (holder.id_number, mother.id_number, holder.phone, mother.phone):
        assert secret not in html  # not even in the hidden fields: the documents travel encrypted
    token = _confirmation_token(html)

    # Back: the documents as typed, still nothing written.
    back = assistant_client.post(url, {**pay, "documents": token, "step": "edit"})
    assert back.status_code == 200 and nothing_written()
    assert f'value="{holder.id_number}"' in back.content.decode() and "Next: check the details" in back.content.decode()

    # Confirm: paid once, with its receipt.
    response = assistant_client.post(url, {**pay, "documents": token, "step": "confirm"})
    action = the_action("premium")
    assert response.status_code == 302 and response.url == reverse("counter:receipt", args=[holder.pk, action.pk])
    assert PremiumPayment.objects.get().amount_fen == amount and ledger.balance_of(holder) == 100_000 - amount
    assert action.documents.count() == 1

    # Confirm again (a double click, a reload, the browser's back button): nothing more is paid.
    again = assistant_client.post(url, {**pay, "documents": token, "step": "confirm"}, follow=True)
    assert again.redirect_chain[-1][0] == reverse("counter:receipt", args=[holder.pk, action.pk])
    assert "This premium has already been paid. Here is its receipt." in again.content.decode()
    assert PremiumPayment.objects.count() == 1 and CounterAction.objects.count() == 1
    assert ledger.balance_of(holder) == 100_000 - amount
    assert AuditEvent.objects.filter(action="premium.pay").count() == 1


def test_the_premium_confirmation_needs_the_documents_and_cannot_be_forged(assistant_client, holder, mother):
    from payments.models import PremiumPayment
    from payments.premiums import premium_year

    credit(holder, 100_000)
    make_binding(holder, mother)
    url = reverse("counter:premium-pay", args=[holder.pk])
    pay = {"relative": mother.pk, "year": premium_year()}
    # Without the person's ID card there is no confirmation page.
    response = assistant_client.post(url, {**pay, **documents(("id_card", "person", "", True))})
    assert response.status_code == 200 and "Check the premium payment" not in response.content.decode()
    assert "Please check the ID card of 张伟" in response.content.decode()
    # A confirmation whose documents were not made by the portal pays nothing.
    response = assistant_client.post(url, {**pay, "documents": "not-a-token", "step": "confirm"})
    assert response.status_code == 200 and not PremiumPayment.objects.exists()
    # The confirmation page in Chinese, the default language.
    assistant_client.cookies["django_language"] = "zh-hans"
    html = assistant_client.post(url, {**pay, **person_id(holder)}).content.decode()
    for text in ("核对保费缴纳信息", "尚未缴费", f"张伟（{holder.masked_id_number}）",
                 f"{premium_year()} 年度城乡居民医保保费", "张伟的医保个人账户", "确认并缴纳", ">返回<"):
        assert text in html, text
    assert not PremiumPayment.objects.exists()


# -- the receipt -----------------------------------------------------------------------------------


def test_the_receipt_has_everything_a_citizen_takes_home(assistant_client, counter_assistant, holder, mother):
    binding = make_binding(holder, mother)
    response = assistant_client.post(reverse("counter:pooling-limits", args=[holder.pk, binding.pk]),
                                     {"monthly": "500", **consent_documents(holder, mother, relative_present=False)})
    html = assistant_client.get(response.url).content.decode()
    action = the_action("limits")
    assert action.receipt_number in html
    assert counter_assistant.office.name in html and counter_assistant.username in html
    assert timezone.localtime(action.created_at).strftime("%Y-%m-%d %H:%M") in html
    assert "Spending limits set" in html and "per month ¥500.00" in html
    assert holder.masked_id_number in html and mother.masked_id_number in html
    for person in (holder, mother):
        assert person.id_number not in html and person.phone not in html
    assert "460***********" in html and "Household register page" in html
    assert html.count(">No<") == 3  # the relative was not present for their three documents
    assert "Signature of the citizen" in html and 'class="signature-line"' in html
    assert "Next time on your phone" in html and 'class="steps"' in html
    assert 'class="btn btn-primary btn-lg js-print" id="print-receipt" hidden' in html
    assert "use your browser's print command" in html
    assert "/static/css/counter.css" in html and "/static/js/counter.js" in html
    assert "style=" not in html and "<script>" not in html
    view = AuditEvent.objects.filter(action="counter.receipt", on_behalf_of=holder)
    assert view.count() == 1


def test_the_print_style_sheet_is_a4_and_hides_the_page_furniture():
    from pathlib import Path

    from django.conf import settings

    css = (Path(settings.BASE_DIR) / "static/css/counter.css").read_text()
    assert "@media print" in css and "size: A4" in css and ".site-header" in css
    js = (Path(settings.BASE_DIR) / "static/js/counter.js").read_text()
    assert "window.print()" in js


def test_recent_receipts_are_listed_on_the_person_page(assistant_client, holder, mother):
    binding = make_binding(holder, mother)
    assistant_client.post(reverse("counter:pooling-pause", args=[holder.pk, binding.pk]), person_id(holder))
    page = assistant_client.get(reverse("counter:person", args=[holder.pk])).content.decode()
    action = the_action("pause")
    assert reverse("counter:receipt", args=[holder.pk, action.pk]) in page and action.receipt_number in page


def test_a_receipt_of_another_person_is_not_found_through_someone_else(assistant_client, holder, mother):
    binding = make_binding(holder, mother)
    assistant_client.post(reverse("counter:pooling-pause", args=[holder.pk, binding.pk]), person_id(holder))
    action = the_action("pause")
    assert assistant_client.get(reverse("counter:receipt", args=[mother.pk, action.pk])).status_code == 404


def test_the_premium_page_names_only_relatives_of_the_payer(assistant_client, holder, outsider):
    from payments.premiums import premium_year

    response = assistant_client.get(reverse("counter:premium-pay", args=[holder.pk]),
                                    {"relative": outsider.pk, "year": premium_year()})
    assert response.status_code == 302 and outsider.name not in assistant_client.get(response.url).content.decode()
