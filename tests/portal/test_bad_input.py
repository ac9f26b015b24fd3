"""Bad input on pages: a clear translated 400, never a 500 (issue 13 item 10)."""

from __future__ import annotations

import pytest
from django.conf import settings

from accounts.models import InsuredPerson, User
from tests.conftest import PASSWORD, login_staff

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("target", ["1", "", "dashboard", "//evil.example/", "http://evil.example/x", "/\\evil.example",
                                    "javascript:alert(1)", "portal:dashboard"])
def test_extending_the_session_with_a_malformed_next_goes_home(client, holder, target):
    client.force_login(holder.user)
    response = client.post("/accounts/session/extend/", {"next": target})
    assert response.status_code == 302 and response["Location"] == "/"


def test_extending_the_session_returns_to_the_page_it_came_from(client, holder):
    client.force_login(holder.user)
    response = client.post("/accounts/session/extend/", {"next": "/payments/spending/?page=2"})
    assert response.status_code == 302 and response["Location"] == "/payments/spending/?page=2"


@pytest.mark.parametrize("query", ["scheme__exact=%00", "status__exact=%00", "q=%00", "o=%00", "a%00=1"])
def test_admin_filters_with_a_nul_are_a_translated_400(client, bureau_clerk, query):
    login_staff(client, bureau_clerk)
    response = client.get(f"/admin/accounts/insuredperson/?{query}")
    assert response.status_code == 400
    page = response.content.decode()
    assert "输入内容无法接受" in page and "无法保存的字符" in page


def test_the_refusal_page_is_in_english_for_who_chose_english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get("/pooling/check/?id_number=%00")
    assert response.status_code == 400
    assert "Input not accepted" in response.content.decode()


def test_a_nul_in_the_path_is_a_400(client):
    assert client.get("/pooling/answer/abc%00def/").status_code == 400


def test_a_nul_in_a_log_in_field_is_a_400_and_counts_no_failed_attempt(client, holder):
    from axes.models import AccessAttempt

    response = client.post("/accounts/login/", {"username": "1380000\x000001", "password": PASSWORD})
    assert response.status_code == 400
    assert "无法保存的字符" in response.content.decode()
    assert AccessAttempt.objects.count() == 0


def test_a_nul_in_a_sign_up_field_is_a_400_and_writes_nothing(client):
    users, people = User.objects.count(), InsuredPerson.objects.count()
    response = client.post("/accounts/signup/", {"id_number": "46010019800101\x00011", "name": "张\x00三",
                                                 "phone": "13900000000"})
    assert response.status_code == 400
    assert (User.objects.count(), InsuredPerson.objects.count()) == (users, people)


def test_a_nul_in_a_multipart_field_is_a_400(client, holder):
    client.force_login(holder.user)
    response = client.post("/accounts/preferences/", {"language": "en\x00"})  # multipart by default
    assert response.status_code == 400


def test_ordinary_input_still_passes(client, holder):
    client.force_login(holder.user)
    assert client.get("/pooling/check/?id_number=abc").status_code == 200
    assert client.get("/admin/").status_code in (302, 403)  # a citizen is not staff: not a 400
