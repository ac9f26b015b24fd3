"""'Who saw or changed my information' and the authorisation record (授权记录), as citizens see them."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditChannel, AuditEvent, audit
from pooling import changes
from pooling.common import By, audit_binding
from pooling.models import Binding, BindingStatus
from tests.conftest import PASSWORD, login_staff

pytestmark = pytest.mark.django_db

CHROME_ON_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                     "Chrome/126.0.0.0 Safari/537.36")

TEXTS = {
    "en": {"title": "Who saw or changed my information", "staff": "海口市医保服务大厅适老化窗口, staff number counter1",
           "opened": "A counter opened your record", "browser": "Chrome on Windows", "signed_in": "You signed in",
           "record": "My authorisation record", "limits": "Family pooling limits set", "paused": "Family pooling paused",
           "consented": "Family pooling consented", "you": "You"},
    "zh-hans": {"title": "谁查看或更改了我的信息", "staff": "海口市医保服务大厅适老化窗口，工号 counter1",
                "opened": "服务窗口打开了您的记录", "browser": "Windows 上的 Chrome", "signed_in": "您登录了门户",
                "record": "我的授权记录", "limits": "设置了家庭共济限额", "paused": "暂停了家庭共济",
                "consented": "同意了家庭共济", "you": "您本人"},
}


def _client(language: str) -> Client:
    client = Client(HTTP_USER_AGENT=CHROME_ON_WINDOWS)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def _log_in(client: Client, person) -> None:
    response = client.post(reverse("accounts:login"), {"username": person.id_number, "password": PASSWORD})
    assert response.status_code == 302


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_counter_lookup_and_a_sign_in_appear_on_the_citizens_page(language, holder, outsider, counter_assistant):
    counter = Client()
    login_staff(counter, counter_assistant)
    assert counter.get(reverse("counter:person", kwargs={"pk": holder.pk})).status_code == 200  # the counter's own audit
    client = _client(language)
    _log_in(client, holder)
    page = client.get(reverse("accounts:activity")).content.decode()
    texts = TEXTS[language]
    assert texts["title"] in page
    assert texts["opened"] in page and texts["staff"] in page
    assert "帮办" not in page  # staff are shown by office and staff number, never by name
    assert texts["signed_in"] in page and texts["browser"] in page
    # The sign-in is recorded with a browser summary only: never the address or the full User-Agent.
    login = AuditEvent.objects.get(action="account.login", on_behalf_of=holder)
    assert login.after == {"browser": "Chrome", "system": "Windows"}
    assert "127.0.0.1" not in str(login.after) + login.note
    # Someone else's lookups are not shown.
    audit("counter.lookup", channel=AuditChannel.COUNTER, actor=counter_assistant, on_behalf_of=outsider, obj=outsider)
    assert client.get(reverse("accounts:activity")).content.decode().count(texts["opened"]) == 1


def test_the_page_shows_two_years_paginated_and_filters_by_kind(en_client, holder, counter_assistant):
    with time_machine.travel(timezone.now() - datetime.timedelta(days=3 * 365)):
        audit("counter.lookup", channel=AuditChannel.COUNTER, actor=counter_assistant, on_behalf_of=holder, obj=holder,
              after={"reason": "signup"})
    for i in range(30):
        audit("counter.lookup", channel=AuditChannel.COUNTER, actor=counter_assistant, on_behalf_of=holder, obj=holder,
              after={"reason": "phone_change" if i == 0 else "in_person"})
    en_client.force_login(holder.user)
    first = en_client.get(reverse("accounts:activity")).content.decode()
    assert "The person is at the counter and asks for help" in first and "Page 1 of 2" in first
    assert "To change the registered phone" not in first  # the oldest of the thirty is on page 2
    second = en_client.get(reverse("accounts:activity"), {"page": 2}).content.decode()
    assert "To change the registered phone" in second
    assert "To help with sign-up" not in second  # three years ago: older than the page's two years
    signins = en_client.get(reverse("accounts:activity"), {"kind": "signin"}).content.decode()
    assert "A counter opened your record" not in signins and "You signed in" in signins


def test_the_csv_download_has_every_row_of_two_years(en_client, holder, counter_assistant):
    audit("counter.lookup", channel=AuditChannel.COUNTER, actor=counter_assistant, on_behalf_of=holder, obj=holder,
          after={"reason": "follow_up"}, note="reason: follow_up")
    en_client.force_login(holder.user)
    response = en_client.get(reverse("accounts:activity"), {"format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0].startswith("Time,Kind,What,Who")
    assert any("A counter opened your record" in line and "staff number counter1" in line
               and "Reason given: Follow-up of an earlier visit" in line for line in lines)
    assert "follow_up" not in text
    assert any("You signed in" in line for line in lines)  # force_login is a sign-in too


def test_a_change_to_a_binding_by_the_holder_shows_on_the_relatives_page_with_masked_numbers(holder, mother):
    binding = Binding.objects.create(holder=holder, beneficiary=mother, relationship="parent",
                                     status=BindingStatus.ACTIVE, activated_at=timezone.now())
    changes.set_limits(binding, By(holder, holder.user), per_payment_fen=10_000, monthly_fen=None, annual_fen=None)
    client = _client("en")
    client.force_login(mother.user)
    page = client.get(reverse("accounts:activity")).content.decode()
    assert "Family pooling limits set" in page
    assert f"张*（{holder.masked_id_number}）" in page
    assert holder.id_number not in page


def _binding_with_history(holder, mother):
    binding = Binding.objects.create(holder=holder, beneficiary=mother, relationship="parent",
                                     status=BindingStatus.PENDING)
    audit_binding("proposed", binding, By(holder, holder.user))
    binding.status = BindingStatus.ACTIVE
    binding.activated_at = binding.consented_at = timezone.now()
    binding.save()
    audit_binding("consented", binding, By(mother, mother.user))
    changes.set_limits(binding, By(holder, holder.user), per_payment_fen=10_000, monthly_fen=50_000, annual_fen=None)
    changes.pause_binding(binding, By(holder, holder.user))
    changes.resume_binding(binding, By(holder, holder.user))
    return binding


def events_in(page: str) -> list[tuple[str, str]]:
    """(event type, label shown) of each row of the record's tables."""
    return re.findall(r'<tr class="event-(\w+)"><td>[^<]*</td><td>([^<]*)</td>', page)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_authorisation_record_for_holder_and_relative(language, holder, mother, outsider):
    _binding_with_history(holder, mother)
    ended = Binding.objects.create(holder=outsider, beneficiary=mother, relationship="child",
                                   status=BindingStatus.ENDED, ended_at=timezone.now())
    audit_binding("proposed", ended, By(outsider, outsider.user))
    texts = TEXTS[language]
    for person, sees in ((holder, 1), (mother, 2)):
        client = _client(language)
        client.force_login(person.user)
        page = client.get(reverse("pooling:record")).content.decode()
        assert texts["record"] in page
        assert page.count('data-testid="binding-record"') == sees
        shown = events_in(page)
        for kind, key in (("consented", "consented"), ("limits_set", "limits"), ("paused", "paused")):
            assert (kind, texts[key]) in shown
        if person == holder:  # every event of the binding, oldest first
            assert [kind for kind, _label in shown] == ["proposed", "consented", "limits_set", "paused", "resumed"]
        assert "100.00" in page and "500.00" in page  # the limits themselves
        assert 'href="/static/css/print.css"' in page and "style=" not in page
    # The relative filters by relative and by event type.
    client = _client(language)
    client.force_login(mother.user)
    only_holder = client.get(reverse("pooling:record"), {"relative": holder.pk}).content.decode()
    assert only_holder.count('data-testid="binding-record"') == 1 and outsider.masked_id_number not in only_holder.split(
        'data-testid="binding-record"')[1]
    paused = client.get(reverse("pooling:record"), {"event": "paused"}).content.decode()
    assert paused.count('data-testid="binding-record"') == 1
    assert events_in(paused) == [("paused", texts["paused"])]
    # A stranger's id in the filter is ignored (no other person's bindings leak).
    client.force_login(holder.user)
    page = client.get(reverse("pooling:record"), {"relative": outsider.pk}).content.decode()
    assert page.count('data-testid="binding-record"') == 1


def test_dashboard_and_settings_link_to_both_pages(en_client, holder):
    en_client.force_login(holder.user)
    for url in (reverse("portal:dashboard"), reverse("accounts:preferences")):
        page = en_client.get(url).content.decode()
        assert reverse("accounts:activity") in page and reverse("pooling:record") in page
        assert reverse("accounts:password-change") in page


# -- every kind of row in plain words ----------------------------------------------------------------

# Codes the trail stores that a citizen must never read: actions, reasons, methods, kinds, notes.
# (Codes that are plain English words, such as "employee" or "ages", are caught on the Chinese page:
# no English word may be left in its what, channel or details columns.)
RAW_CODES = [
    "in_person", "relative_present", "reason:", "not found", "account.", "counter.", "registry.", "household.",
    "pooling.", "premium.", "settlement.", "voucher.", "code.sent", "future.", "fax", "ghost_reason",
    "resident_premium", "holder_left_scheme", "bureau_rejected", "relationship_proof", "id_card", "hukou_page",
    "undo of", "pause all", "pause_all", "consent recorded at the counter", "zh-hans", "notify_", "_fen",
    "region_id", "secret_field", "460100", "None", "True", "False", "{", "[",
]

EXPECTED = {
    "en": [
        # look-ups, with the reason and the method in words
        "A counter looked you up", "Looked up by ID number; Reason given: The person is at the counter "
        "and asks for help", "A counter opened your record", "Reason given: other",
        "A counter opened a receipt of yours",
        # a counter action with the documents seen (never their numbers)
        "Done for you at a counter", "Family pooling paused; Documents checked: Resident identity card "
        "(The person helped)",
        # account
        "You signed in", "Chrome on Windows", "A code was texted to your phone", "For: Password reset; sent to "
        "138****0001", "Settings changed (language, messages)", "Language: English; Text messages: on; E-mail: off",
        "Someone asked to sign up with your ID number", "Portal account created with help at a counter",
        # registry and household
        "Insurance record updated (registry import)", "Insurance status: Active → Suspended",
        "Insurance record corrected by the bureau", "Changed: insurance status, pooling region, other details",
        "Registered phone changed", "New phone: 139****0099", "Death recorded", "Date: 2030-01-02",
        "Household registration recorded", "Relationship to the head of household: Head of household",
        # pooling
        "Family pooling requested", "Consent was recorded at a counter", "Family pooling ended",
        "Reason: The account holder left employee insurance", "Family pooling ended by the bureau",
        "Reason: The ages in the ID numbers do not fit this relationship", "Proof of the relationship checked",
        "Documents seen: Proof of the relationship (household register, marriage or birth certificate), "
        "Resident identity cards of both people", "Family pooling change undone", "Undone: Pausing all pooling",
        "All family pooling was paused at once", "Family pooling limits set",
        "per payment 100.00, per month no limit, per year no limit (yuan)",
        # money
        "Resident premium paid", "Premium for 李秀英 for 2031: ¥380.00", "Payment at a hospital or pharmacy",
        "Outpatient care; cost ¥120.00; ¥100.00 paid from personal accounts", "Refund from a hospital or pharmacy",
        "¥20.00 refunded",
        # what the page does not know gets a generic label, an unknown channel a generic word
        "Your record or account was changed", "Other",
    ],
    "zh-hans": [
        "服务窗口查找了您的信息", "按身份证号码查询；查询原因：本人在窗口请求帮办", "服务窗口打开了您的记录",
        "查询原因：其他", "服务窗口查看了您的回执", "服务窗口为您办理了业务",
        "暂停了家庭共济；查验的证件：居民身份证（本人）",
        "您登录了门户", "Windows 上的 Chrome", "用途：重置密码；发送至 138****0001",
        "语言：English；短信通知：开启；电子邮件通知：关闭", "在服务窗口帮助下开通了门户账户",
        "参保状态：正常参保 → 暂停参保", "更改了：参保状态、统筹区、其他信息", "新手机号码：139****0099",
        "日期：2030-01-02", "登记了户籍信息", "与户主关系：户主", "由窗口记录了同意", "原因：共济人已不再参加职工医保",
        "医保局终止了家庭共济", "原因：身份证号码中的年龄与此关系不符", "已核验亲属关系证明",
        "查验的材料：亲属关系证明（户口簿、结婚证或出生医学证明）、双方的居民身份证", "撤销了：全部暂停共济",
        "已一次暂停全部家庭共济", "每笔 100.00，每月 不限，每年 不限（元）", "为李秀英缴纳 2031 年度保费：¥380.00",
        "门诊；费用 ¥120.00；个人账户支付 ¥100.00", "已退款 ¥20.00", "您的记录或账户有更改", "其他",
    ],
}


RECORD_TEXTS = {
    "en": ["Undone: Pausing all pooling", "Reason: The ages in the ID numbers do not fit this relationship",
           "Consent was recorded at a counter"],
    "zh-hans": ["撤销了：全部暂停共济", "原因：身份证号码中的年龄与此关系不符", "由窗口记录了同意"],
}


def _table_cells(html: str) -> list[list[str]]:
    """The cells of each row of the activity table, as text."""
    body = html.split('data-testid="activity"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr class=\"activity-\w+\">(.*?)</tr>", body, flags=re.S)
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, flags=re.S)]
            for row in rows]


def _make_every_kind_of_row(holder, mother, counter_assistant) -> None:
    """Rows as the code base writes them: through the real flows where that is cheap, else the same shape."""
    import html as html_lib

    from accounts import services
    from accounts.households import import_households
    from accounts.phone_change import change_registered_phone
    from accounts.registry import import_registry, registry_rows_for
    from pooling.common import audit_binding
    from tests.payments.conftest import credit
    from tests.portal.counter_data import person_id

    binding = Binding.objects.create(holder=holder, beneficiary=mother, relationship="parent",
                                     status=BindingStatus.ACTIVE, activated_at=timezone.now())
    # The counter: a search by ID number with a reason, the person page, a pause with the ID card, its receipt.
    counter = Client()
    login_staff(counter, counter_assistant)
    found = counter.post(reverse("counter:home"), {"method": "id", "by_id-id_number": holder.id_number,
                                                   "by_id-reason": "in_person"})
    assert found.status_code == 302
    counter.get(found["Location"])
    paused = counter.post(reverse("counter:pooling-pause", args=[holder.pk, binding.pk]), person_id(holder))
    assert paused.status_code == 302
    counter.get(html_lib.unescape(paused["Location"]))
    audit("counter.lookup", channel=AuditChannel.COUNTER, actor=counter_assistant, on_behalf_of=holder, obj=holder,
          after={"reason": "ghost_reason"}, note="reason: ghost_reason")  # a reason this page does not know
    audit("counter.signup_completed", channel=AuditChannel.COUNTER, actor=counter_assistant, on_behalf_of=holder)
    # Account.
    services.send_one_time_code(holder, "reset")
    services.update_preferences(holder.user, language="en", notify_sms=True, notify_email=False, email="")
    audit("signup.existing_account", channel=AuditChannel.WEB, on_behalf_of=holder)
    # Registry and household.
    holder.status = "suspended"
    import_registry(registry_rows_for([holder]))
    holder.refresh_from_db()
    audit("registry.edited", channel=AuditChannel.ADMIN, on_behalf_of=holder, obj=holder,
          after={"changed": ["status", "region", "secret_field"]})
    change_registered_phone(holder, "13900000099", id_number_seen=holder.id_number, actor=counter_assistant)
    audit("registry.death", channel=AuditChannel.ADMIN, on_behalf_of=holder, obj=holder,
          after={"died_on": "2030-01-02"})
    assert import_households(f"household_id,id_number,relationship_to_head\nH1,{holder.id_number},head\n").ok
    # Pooling (notes and end reasons as the services write them).
    by = By(holder, holder.user)
    audit_binding("proposed", binding, by, note="consent recorded at the counter")
    binding.end_reason = "holder_left_scheme"
    audit_binding("ended", binding, By.system(), note="holder_left_scheme")
    audit_binding("rejected", binding, by, note="ages")
    audit_binding("proof_verified", binding, by, note="relationship_proof,id_card")
    audit_binding("paused", binding, by, note="pause all")
    audit_binding("undone", binding, by, note="undo of pause_all")
    binding.per_payment_cap_fen = 10_000
    audit_binding("limits_set", binding, by)
    # Money.
    audit("premium.pay", channel=AuditChannel.WEB, actor=holder.user, on_behalf_of=holder,
          after={"relative": mother.pk, "year": 2031, "amount_fen": 38_000})
    credit(holder, 1)
    audit("settlement.create", channel=AuditChannel.API, on_behalf_of=holder,
          after={"institution": "H001", "amount_fen": 12_000, "paid_fen": 10_000, "category": "outpatient",
                 "reference": "R-1"})
    audit("settlement.refund", channel=AuditChannel.API, on_behalf_of=holder, after={"refund_id": 7, "amount_fen": 2_000})
    # What the page does not know: a newer action and a channel it has no label for.
    audit("future.thing", channel="fax", actor=holder.user, on_behalf_of=holder, note="internal_note_42")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_kind_of_row_reads_in_plain_words_never_in_codes(language, holder, mother, counter_assistant):
    _make_every_kind_of_row(holder, mother, counter_assistant)
    client = _client(language)
    _log_in(client, holder)
    cells: list[list[str]] = []
    page, pages = 1, 1
    while page <= pages:
        html = client.get(reverse("accounts:activity"), {"page": page}).content.decode()
        cells += _table_cells(html)
        found = re.search(r"(?:Page|第) ?\d+ ?(?:of|页，共) ?(\d+)", html)
        pages = int(found.group(1)) if found else 1
        page += 1
    text = "\n".join(" | ".join(row) for row in cells)
    for expected in EXPECTED[language]:
        assert expected in text, f"{expected!r} not on the page:\n{text}"
    shown = "\n".join(f"{row[1]} | {row[3]} | {row[5]}" for row in cells)  # what, channel, details
    for code in RAW_CODES:
        assert code not in shown, f"raw code {code!r} shown:\n{shown}"
    assert "internal_note_42" not in text and holder.id_number not in text
    if language == "zh-hans":  # no untranslated English words in what, channel or details
        leftovers = set(re.findall(r"[A-Za-z]{3,}", shown)) - {"Chrome", "Windows", "English"}
        assert not leftovers, leftovers
    # The download says the same.
    csv_text = client.get(reverse("accounts:activity"), {"format": "csv"}).content.decode("utf-8-sig")
    for expected in EXPECTED[language][:6]:
        assert expected.split("; ")[0].split("；")[0] in csv_text
    assert "in_person" not in csv_text and "future.thing" not in csv_text
    # The authorisation record uses the same words for its events.
    record = client.get(reverse("pooling:record")).content.decode().split("<main", 1)[1]
    for expected in RECORD_TEXTS[language]:
        assert expected in record, expected
    for code in ("undo of", "pause all", "pause_all", "consent recorded at the counter", "holder_left_scheme"):
        assert code not in record, code


def test_every_action_the_code_writes_about_a_person_has_a_label():
    """A new audit action that can reach a citizen's page must be given plain words here."""
    import pathlib

    from accounts.activity import ACTION_LABELS

    root = pathlib.Path(__file__).resolve().parents[2]
    written: set[str] = {"account.login"}
    for app in ("accounts", "pooling", "payments", "portal", "statements"):
        for path in (root / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            source = path.read_text(encoding="utf-8")
            written |= set(re.findall(r"\baudit\(\s*\"([a-z_]+\.[a-z_]+)\"", source))
            written |= {f"pooling.{a}" for a in re.findall(r"\baudit_binding\(\s*\"([a-z_]+)\"", source)}
    assert len(written) > 40, written
    # Rows about no citizen (staff sign-in, policies, institutions, runs) never reach the page.
    about_nobody = {a for a in written if a.split(".")[0] in ("staff", "policy", "institution", "credits", "statements")}
    about_nobody |= {"pooling.pledge_text_saved"}
    missing = sorted(written - about_nobody - set(ACTION_LABELS))
    assert not missing, f"actions without a label on the activity page: {missing}"


def test_every_event_of_a_binding_can_be_chosen_in_the_records_filter():
    """The authorisation record filters by event type: every action written about a binding is one."""
    import pathlib

    from pooling.record import EVENT_TYPES

    root = pathlib.Path(__file__).resolve().parents[2]
    written: set[str] = set()
    for path in (root / "pooling").rglob("*.py"):
        if "migrations" not in path.parts:
            written |= set(re.findall(r"\baudit_binding\(\s*\"([a-z_]+)\"", path.read_text(encoding="utf-8")))
    assert len(written) > 15, written
    assert not sorted(written - set(EVENT_TYPES)), "binding events missing from the record's filter"


def test_the_record_filters_by_an_event_of_the_bureaus_review(en_client, holder, mother):
    binding = Binding.objects.create(holder=holder, beneficiary=mother, relationship="parent",
                                     status=BindingStatus.ACTIVE, activated_at=timezone.now())
    audit_binding("proof_requested", binding, By(holder, holder.user))
    audit_binding("paused", binding, By(holder, holder.user))
    en_client.force_login(holder.user)
    page = en_client.get(reverse("pooling:record"), {"event": "proof_requested"}).content.decode()
    assert events_in(page) == [("proof_requested", "The bureau asked for proof of the relationship")]
    assert '<option value="proof_requested" selected>' in page
