"""`manage.py import_registry FILE.csv` and the same upload in admin (SPEC §6)."""

from __future__ import annotations

import datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from accounts.idnumbers import make_id_number
from accounts.models import AuditEvent, InsuredPerson
from accounts.registry import on_person_changed, person_change_listeners
from tests.conftest import login_staff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

HEADER = "id_number,name,phone,scheme,status,region_code"
ZHANG = make_id_number("460100", datetime.date(1975, 3, 12), 11)
WANG = make_id_number("460100", datetime.date(1977, 6, 8), 22)
LI = make_id_number("110111", datetime.date(1935, 5, 1), 42)  # 1935, county code from 1986


def _file(tmp_path: Path, *lines: str, name: str = "registry.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def _run(path: Path) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_registry", str(path), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _fail(path: Path) -> tuple[str, str]:
    err = StringIO()
    with pytest.raises(CommandError) as info:
        call_command("import_registry", str(path), stdout=StringIO(), stderr=err)
    return str(info.value), err.getvalue()


GOOD = [
    f"{ZHANG},张伟,13900000001,employee,active,460100",
    f"{WANG},王丽,13900000002,flexible,active,460100",
    f"{LI},李秀英,,resident,suspended,110111",
]


def test_it_imports_a_good_file_and_reports_what_it_created(tmp_path):
    out, err = _run(_file(tmp_path, *GOOD))
    assert out.strip() == "created 3, updated 0, unchanged 0"
    assert err == ""
    zhang = InsuredPerson.objects.by_id_number(ZHANG)
    assert zhang is not None
    assert (zhang.name, zhang.phone, zhang.scheme, zhang.status, zhang.region_id) == (
        "张伟", "13900000001", "employee", "active", "460100"
    )
    assert zhang.birth_date == datetime.date(1975, 3, 12)
    assert zhang.sex == "M"
    li = InsuredPerson.objects.by_id_number(LI)
    assert li is not None and li.phone == "" and li.birth_date.year == 1935 and li.sex == "F"
    assert AuditEvent.objects.filter(action="registry.created", channel="command").count() == 3


def test_it_accepts_a_byte_order_mark_and_windows_line_ends(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(("\ufeff" + "\r\n".join([HEADER, *GOOD]) + "\r\n").encode("utf-8"))
    out, _err = _run(path)
    assert "created 3" in out


def test_it_writes_nothing_when_one_row_is_bad_and_names_the_line(tmp_path):
    bad_checksum = ZHANG[:-1] + ("0" if ZHANG[-1] != "0" else "1")
    path = _file(tmp_path, GOOD[0], f"{bad_checksum},张伟,13900000001,employee,active,460100", GOOD[1])
    message, err = _fail(path)
    assert "1 bad line(s); nothing was written." in message
    assert err.strip().startswith("line 3: ID number")
    assert "checksum" in err
    assert InsuredPerson.objects.count() == 0
    assert not AuditEvent.objects.filter(action__startswith="registry.").exists()


def test_it_reports_every_bad_row_with_its_reason(tmp_path):
    path = _file(
        tmp_path,
        GOOD[0],
        f"{WANG},王丽,13900000002,civil_servant,active,460100",  # line 3: scheme
        f"{LI},李秀英,,resident,retired,110111",  # line 4: status
        f"{make_id_number('460100', datetime.date(1980, 1, 1), 5)},赵六,13900000009,employee,active,999999",
        f"{make_id_number('460100', datetime.date(1980, 1, 1), 7)},,12345,employee,active,460100",  # name, phone
        f"{make_id_number('460100', datetime.date(1980, 1, 1), 9)},多列,13900000010,employee,active,460100,extra",
        f"{ZHANG[:10]}AB{ZHANG[12:]},钱七,13900000011,employee,active,460100",  # line 8: letters in the ID
    )
    message, err = _fail(path)
    assert "6 bad line(s)" in message
    lines = err.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["line 3", "line 4", "line 5", "line 6", "line 7", "line 8"]
    assert "scheme civil_servant is not one of employee, flexible, resident" in lines[0]
    assert "status retired is not one of active, suspended, terminated" in lines[1]
    assert "region code 999999 is not a current 6-digit division code" in lines[2]
    assert "the name is empty" in lines[3] and "phone 12345 is not an 11-digit mobile number" in lines[3]
    assert "the row has 7 columns instead of 6" in lines[4]
    assert "17 digits followed by a digit or the letter X" in lines[5]
    assert InsuredPerson.objects.count() == 0


def test_it_rejects_a_file_with_the_same_id_number_twice(tmp_path):
    lower_x_twin = GOOD[0].replace(ZHANG, ZHANG.lower())
    message, err = _fail(_file(tmp_path, GOOD[0], GOOD[1], lower_x_twin))
    assert "line 4: the same ID number is already on line 2" in err
    assert InsuredPerson.objects.count() == 0


def test_it_rejects_a_row_with_too_few_columns(tmp_path):
    _message, err = _fail(_file(tmp_path, f"{ZHANG},张伟,13900000001,employee"))
    assert "line 2: the row has 4 columns instead of 6" in err


def test_it_counts_lines_as_an_editor_shows_them_even_after_blank_lines(tmp_path):
    path = _file(tmp_path, GOOD[0], "", f"{WANG},王丽,13900000002,employee,dead,460100")
    _message, err = _fail(path)
    assert err.strip().startswith("line 4: status dead")


@pytest.mark.parametrize(
    "header",
    ["id,name,phone,scheme,status,region", "name,id_number,phone,scheme,status,region_code", ""],
)
def test_it_rejects_a_wrong_header(tmp_path, header):
    path = tmp_path / "wrong.csv"
    path.write_text(header + "\n" + GOOD[0] + "\n", encoding="utf-8")
    _message, err = _fail(path)
    assert "line 1: the header must be exactly: id_number,name,phone,scheme,status,region_code" in err
    assert InsuredPerson.objects.count() == 0


def test_reimporting_the_same_file_changes_nothing(tmp_path):
    path = _file(tmp_path, *GOOD)
    _run(path)
    before = list(InsuredPerson.objects.order_by("pk").values_list("pk", "updated_at"))
    out, _err = _run(path)
    assert out.strip() == "created 0, updated 0, unchanged 3"
    assert list(InsuredPerson.objects.order_by("pk").values_list("pk", "updated_at")) == before


def test_a_changed_row_is_updated_and_higher_layers_hear_of_it(tmp_path):
    _run(_file(tmp_path, *GOOD))
    heard = []

    def listener(change, actor, channel):
        heard.append((change.person.name, change.before["status"], change.after["status"], channel))

    on_person_changed(listener)
    try:
        out, _err = _run(_file(tmp_path, GOOD[0].replace("active", "terminated"), GOOD[1], GOOD[2], name="b.csv"))
    finally:
        person_change_listeners.remove(listener)
    assert out.strip() == "created 0, updated 1, unchanged 2"
    assert InsuredPerson.objects.by_id_number(ZHANG).status == "terminated"
    assert heard == [("张伟", "active", "terminated", "command")]
    event = AuditEvent.objects.get(action="registry.updated")
    assert event.before["status"] == "active" and event.after["status"] == "terminated"
    assert "phone" not in event.before  # no personal numbers copied into the audit trail


def test_a_new_phone_number_is_an_update(tmp_path):
    _run(_file(tmp_path, *GOOD))
    out, _err = _run(_file(tmp_path, GOOD[0].replace("13900000001", "13712345678"), name="b.csv"))
    assert "updated 1" in out
    assert InsuredPerson.objects.by_phone("13712345678").get().name == "张伟"
    assert not InsuredPerson.objects.by_phone("13900000001").exists()


def test_it_explains_a_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes(("\n".join([HEADER, GOOD[0]]) + "\n").encode("gbk"))
    message, _err = _fail(path)
    assert "not UTF-8 text" in message
    assert InsuredPerson.objects.count() == 0


def test_it_explains_a_missing_file(tmp_path):
    message, _err = _fail(tmp_path / "nope.csv")
    assert "no such file" in message


def test_id_and_phone_numbers_are_encrypted_at_rest_and_found_by_hash(tmp_path):
    _run(_file(tmp_path, *GOOD))
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_insuredperson")
        raw = " ".join(str(value) for row in cursor.fetchall() for value in row)
    for secret in (ZHANG, WANG, LI, "13900000001", "13900000002", ZHANG[6:14]):
        assert secret not in raw
    assert "张伟" in raw  # names are not encrypted (staff search by name)
    assert InsuredPerson.objects.by_id_number(ZHANG.lower()).name == "张伟"
    assert InsuredPerson.objects.by_id_number(f"{ZHANG[:6]} {ZHANG[6:]}").name == "张伟"
    assert InsuredPerson.objects.by_phone("+86 139-0000-0002").get().name == "王丽"
    assert InsuredPerson.objects.by_id_number(make_id_number("460100", datetime.date(1980, 1, 1), 1)) is None


# -- The same import in admin ----------------------------------------------------------------


def _upload(client, content: bytes):
    return client.post(
        reverse("admin:accounts_insuredperson_import"),
        {"file": SimpleUploadedFile("registry.csv", content, content_type="text/csv")},
        follow=True,
    )


def test_bureau_staff_can_upload_the_registry_in_admin(en_client, bureau_clerk):
    login_staff(en_client, bureau_clerk)
    response = _upload(en_client, ("\n".join([HEADER, *GOOD]) + "\n").encode())
    assert response.status_code == 200
    assert "Import done: 3 created, 0 updated, 0 unchanged." in response.content.decode()
    assert InsuredPerson.objects.count() == 3
    assert AuditEvent.objects.filter(action="registry.created", channel="admin", actor=bureau_clerk).count() == 3


def test_the_admin_upload_lists_every_bad_line_and_writes_nothing(en_client, bureau_clerk):
    login_staff(en_client, bureau_clerk)
    content = "\n".join([HEADER, GOOD[0], GOOD[1].replace("flexible", "xx"), GOOD[2].replace(",110111", ",000000")])
    response = _upload(en_client, content.encode())
    html = response.content.decode()
    assert "2 lines are wrong; nothing was written." in html
    assert "line 3: scheme xx is not one of" in html
    assert "line 4: region code 000000" in html
    assert InsuredPerson.objects.count() == 0


def test_the_admin_upload_explains_a_file_that_is_not_utf8(en_client, bureau_clerk):
    login_staff(en_client, bureau_clerk)
    response = _upload(en_client, ("\n".join([HEADER, GOOD[0]]) + "\n").encode("gbk"))
    assert "The file is not UTF-8 text. Save it as &#x27;CSV UTF-8&#x27; and upload again." in response.content.decode()
    assert InsuredPerson.objects.count() == 0


def test_citizens_cannot_reach_the_admin_upload(en_client, holder):
    en_client.force_login(holder.user)
    response = en_client.get(reverse("admin:accounts_insuredperson_import"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
