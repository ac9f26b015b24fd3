"""Sign-up by claiming a registry record, log-in, lockout, password reset, session, preferences."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from accounts.idnumbers import make_id_number
from accounts.models import AuditEvent, Notification, OneTimeCode, User
from tests.conftest import PASSWORD, make_citizen, make_person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

NEW_PASSWORD = "Quiet-River-2026"


@pytest.fixture
def newcomer():
    """黄志强: in the registry, no portal account yet."""
    return make_person("黄志强", birth="1960-08-18", sex="M", phone="13900000011")


def _code_from(sent_messages, phone: str) -> str:
    texts = [m for m in sent_messages if m.address == phone]
    assert texts, f"no text message to {phone}"
    return re.search(r"\b(\d{6})\b", texts[-1].body).group(1)


@pytest.fixture(autouse=True)
def _commit(django_capture_on_commit_callbacks, request):
    """Run on_commit callbacks (the SMS delivery) as each request's transaction commits."""
    global _capture
    _capture = django_capture_on_commit_callbacks
    yield
    _capture = None


_capture = None


def _post(client, url, data=None, **extra):
    with _capture(execute=True):
        return client.post(url, data or {}, **extra)


def _start(client, person, name=None):
    return _post(client, reverse("accounts:signup"), {"id_number": person.id_number, "name": name or person.name})


def _verify(client, code, password=NEW_PASSWORD, url="accounts:signup-verify"):
    return client.post(reverse(url), {"code": code, "password1": password, "password2": password})


def _page(response) -> str:
    return response.content.decode()


# -- Sign-up ---------------------------------------------------------------------------------


def test_it_signs_up_a_registry_person_with_a_code_sent_to_their_phone(en_client, newcomer, sent_messages):
    response = _start(en_client, newcomer)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:signup-verify")
    assert len(sent_messages) == 1
    assert sent_messages[0].channel == "memory" and sent_messages[0].address == "13900000011"
    code = _code_from(sent_messages, "13900000011")

    page = _page(en_client.get(reverse("accounts:signup-verify")))
    assert "If these details match our records, a 6-digit code has been sent" in page
    assert "139****0011" not in page

    response = _verify(en_client, code)
    assert response.status_code == 302 and response["Location"] == reverse("portal:dashboard")
    user = User.objects.get(person=newcomer)
    assert user.role == "citizen" and user.check_password(NEW_PASSWORD)
    dashboard = _page(en_client.get(reverse("portal:dashboard")))
    assert "Welcome, 黄志强. Your account is ready." in dashboard
    assert AuditEvent.objects.filter(action="account.created", on_behalf_of=newcomer).exists()
    # The code is not kept in the database once it has been handed to the SMS sender.
    notification = Notification.objects.get(person=newcomer, kind="one_time_code")
    assert code not in notification.body
    assert OneTimeCode.objects.get(person=newcomer).used_at is not None


def test_it_accepts_the_id_number_with_a_lower_case_x_and_spaces(en_client, sent_messages):
    number = next(n for s in range(200) if (n := make_id_number("460100", datetime.date(1950, 2, 2), s)).endswith("X"))
    person = make_person("赵大爷", id_number=number, phone="13900000020")
    response = _post(en_client, reverse("accounts:signup"), {"id_number": f" {number[:6]} {number[6:-1]}x", "name": "赵大爷"})
    assert response.status_code == 302
    assert _code_from(sent_messages, person.phone)


def _assert_nothing_sent(response, sent_messages):
    """The same answer as a real sign-up (the next step), but nothing texted and no code made."""
    assert response.status_code == 302 and response["Location"] == reverse("accounts:signup-verify")
    assert sent_messages == []
    assert not OneTimeCode.objects.exists()
    assert "_auth_user_id" not in response.wsgi_request.session


def test_an_id_number_that_is_not_in_the_registry_gets_the_same_answer_and_no_code(en_client, sent_messages):
    stranger = make_id_number("460100", datetime.date(1970, 1, 1), 999)
    response = _post(en_client, reverse("accounts:signup"), {"id_number": stranger, "name": "路人"})
    _assert_nothing_sent(response, sent_messages)


def test_a_wrong_name_gets_the_same_answer_and_no_code(en_client, newcomer, sent_messages):
    response = _start(en_client, newcomer, name="黄志刚")
    _assert_nothing_sent(response, sent_messages)
    assert not User.objects.filter(person=newcomer).exists()
    # Whatever code is then typed, it is "not correct", as a wrong guess of a real code would be.
    assert "That code is not correct." in _page(_verify(en_client, "123456"))
    assert not User.objects.filter(person=newcomer).exists()


@pytest.mark.parametrize("typed", ["阿卜杜.热合曼", "阿卜杜 • 热合曼", "阿卜杜．热合曼", " 阿卜杜·热合曼 "])
def test_it_accepts_the_name_separator_however_it_is_typed(en_client, sent_messages, typed):
    person = make_person("阿卜杜·热合曼", region="650102", birth="1952-05-05", phone="13900000030")
    response = _post(en_client, reverse("accounts:signup"), {"id_number": person.id_number, "name": typed})
    assert response.status_code == 302
    assert _code_from(sent_messages, person.phone)


def test_a_name_without_its_separator_is_still_a_different_name(en_client, sent_messages):
    person = make_person("阿卜杜·热合曼", region="650102", birth="1952-05-05", phone="13900000030")
    _post(en_client, reverse("accounts:signup"), {"id_number": person.id_number, "name": "阿卜杜热合曼x"})
    assert sent_messages == []


def test_a_person_with_an_account_gets_a_notice_instead_of_a_code(en_client, holder, sent_messages):
    response = _start(en_client, holder)
    assert response.status_code == 302 and response["Location"] == reverse("accounts:signup-verify")
    assert not OneTimeCode.objects.exists()
    assert [m.address for m in sent_messages] == [holder.phone]
    assert "您已经有账户了" in sent_messages[0].body  # in the holder's own language
    assert not re.search(r"\b\d{6}\b", sent_messages[0].body)
    assert User.objects.filter(person=holder).count() == 1


def test_the_record_of_a_person_who_has_died_gets_no_code(en_client, newcomer, sent_messages):
    newcomer.died_on = datetime.date(2025, 1, 1)
    newcomer.save()
    _assert_nothing_sent(_start(en_client, newcomer), sent_messages)


def test_a_person_without_a_registered_phone_is_pointed_to_the_counter(en_client, sent_messages):
    person = make_person("孙婆婆", birth="1938-04-04", phone="")
    _assert_nothing_sent(_start(en_client, person), sent_messages)
    assert "elderly-assist counter" in _page(en_client.get(reverse("accounts:signup-verify")))


def test_it_explains_a_mistyped_id_number_on_the_form(en_client, sent_messages):
    response = en_client.post(reverse("accounts:signup"), {"id_number": "46010019600818035", "name": "黄志强"})
    assert "An ID number has 18 characters; you entered 17." in _page(response)
    assert 'id="error-summary"' in _page(response)
    assert sent_messages == []


def test_a_wrong_code_is_counted_and_creates_nothing(en_client, newcomer, sent_messages):
    _start(en_client, newcomer)
    code = _code_from(sent_messages, newcomer.phone)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    response = _verify(en_client, wrong)
    assert response.status_code == 200
    assert "That code is not correct." in _page(response)
    assert OneTimeCode.objects.get(person=newcomer).attempts == 1
    assert not User.objects.filter(person=newcomer).exists()


def test_an_expired_code_is_refused(en_client, newcomer, sent_messages):
    _start(en_client, newcomer)
    code = _code_from(sent_messages, newcomer.phone)
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=settings.OTP_VALID_SECONDS + 1)):
        response = _verify(en_client, code)
    assert "This code has expired. Please ask for a new one." in _page(response)
    assert not User.objects.filter(person=newcomer).exists()


def test_after_too_many_wrong_codes_even_the_right_one_is_refused(en_client, newcomer, sent_messages):
    _start(en_client, newcomer)
    code = _code_from(sent_messages, newcomer.phone)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(settings.OTP_MAX_ATTEMPTS):
        _verify(en_client, wrong)
    response = _verify(en_client, code)
    assert "Too many wrong codes. Please ask for a new one." in _page(response)
    assert not User.objects.filter(person=newcomer).exists()


def test_a_new_code_can_be_asked_for_after_a_minute_and_replaces_the_old_one(en_client, newcomer, sent_messages):
    _start(en_client, newcomer)
    first = _code_from(sent_messages, newcomer.phone)
    response = _post(en_client, reverse("accounts:signup-resend"), follow=True)
    assert "A code was sent less than a minute ago." in _page(response)
    assert len(sent_messages) == 1
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=61)):
        response = _post(en_client, reverse("accounts:signup-resend"), follow=True)
        assert "If these details match our records, a new code has been sent" in _page(response)
        second = _code_from(sent_messages, newcomer.phone)
        assert len(sent_messages) == 2
        if first != second:
            assert "That code is not correct." in _page(_verify(en_client, first))
        assert _verify(en_client, second).status_code == 302
    assert User.objects.filter(person=newcomer).exists()


def test_coming_back_to_the_start_page_within_a_minute_goes_on_with_the_code_already_sent(
    en_client, newcomer, sent_messages
):
    _start(en_client, newcomer)
    response = _start(en_client, newcomer)
    assert response.status_code == 302 and response["Location"] == reverse("accounts:signup-verify")
    assert len(sent_messages) == 1


def test_the_verify_page_without_a_started_sign_up_sends_people_back_to_the_start(en_client):
    response = en_client.get(reverse("accounts:signup-verify"))
    assert response.status_code == 302 and response["Location"] == reverse("accounts:signup")


def test_a_weak_or_mismatched_password_is_explained_and_the_code_is_not_used_up(en_client, newcomer, sent_messages):
    _start(en_client, newcomer)
    code = _code_from(sent_messages, newcomer.phone)
    response = en_client.post(reverse("accounts:signup-verify"), {"code": code, "password1": "12345678", "password2": "12345678"})
    assert "This password is entirely numeric." in _page(response)
    response = en_client.post(reverse("accounts:signup-verify"), {"code": code, "password1": NEW_PASSWORD, "password2": "x"})
    assert "The two passwords are not the same." in _page(response)
    assert OneTimeCode.objects.get(person=newcomer).used_at is None
    assert _verify(en_client, code).status_code == 302


# -- Log-in ----------------------------------------------------------------------------------


def _login(client, username, password=PASSWORD):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def test_it_logs_in_by_id_number(en_client, holder):
    response = _login(en_client, holder.id_number)
    assert response.status_code == 302 and response["Location"] == reverse("portal:dashboard")
    assert "Hello, 张伟" in _page(en_client.get(reverse("portal:dashboard")))


def test_it_logs_in_by_id_number_typed_with_spaces(en_client, holder):
    number = holder.id_number
    assert _login(en_client, f"{number[:6]} {number[6:14]} {number[14:]}").status_code == 302


def test_it_logs_in_by_registered_phone_number(en_client, holder):
    assert _login(en_client, "138 0000 0001").status_code == 302
    assert en_client.session["_auth_user_id"] == str(holder.user.pk)


def test_a_phone_shared_by_relatives_asks_for_the_id_number(en_client, mother):
    father = make_person("张建国", birth="1946-01-15", sex="M", phone=mother.phone)
    make_citizen(father)
    response = _login(en_client, mother.phone)
    assert response.status_code == 200
    assert "Several people use this phone number" in _page(response)
    assert "Please log in with your ID number instead." in _page(response)
    assert _login(en_client, mother.id_number).status_code == 302


def test_a_wrong_password_says_what_to_do(en_client, holder):
    response = _login(en_client, holder.id_number, "not-the-password")
    assert response.status_code == 200
    assert "do not match" in _page(response) and "after 5 failed tries" in _page(response)
    assert "_auth_user_id" not in en_client.session


def test_citizens_cannot_log_in_by_their_internal_user_name(en_client, holder):
    assert _login(en_client, holder.user.username).status_code == 200


def test_five_failures_lock_the_account_and_show_a_friendly_page(en_client, holder):
    number = holder.id_number
    # Writing the number differently each time does not dodge the count.
    variants = [number, number.lower(), f"{number[:6]} {number[6:]}", holder.phone]
    for variant in variants:
        assert _login(en_client, variant, "wrong-password").status_code == 200
    fifth = _login(en_client, "+86 " + holder.phone, "wrong-password")
    assert fifth.status_code in (403, 429)
    response = _login(en_client, number, PASSWORD)  # now even the right password is refused
    assert response.status_code in (403, 429)
    page = _page(response)
    assert "Log-in blocked for a while" in page
    assert reverse("accounts:reset") in page
    assert "_auth_user_id" not in en_client.session


def test_the_lockout_ends_after_the_cool_off(en_client, holder):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(en_client, holder.id_number, "wrong-password")
    assert _login(en_client, holder.id_number).status_code in (403, 429)
    with time_machine.travel(timezone.now() + settings.AXES_COOLOFF_TIME + datetime.timedelta(seconds=1)):
        assert _login(en_client, holder.id_number).status_code == 302


def test_one_persons_lockout_does_not_lock_another(en_client, holder, outsider):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(en_client, holder.id_number, "wrong-password")
    assert _login(en_client, outsider.id_number).status_code == 302


# -- Password reset, log-out, session ------------------------------------------------------


def test_a_forgotten_password_is_reset_with_a_code(en_client, holder, sent_messages):
    response = _post(en_client, reverse("accounts:reset"), {"id_number": holder.id_number})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:reset-verify")
    code = _code_from(sent_messages, holder.phone)
    response = _verify(en_client, code, url="accounts:reset-verify")
    assert response.status_code == 302 and response["Location"] == reverse("accounts:login")
    assert _login(en_client, holder.id_number, PASSWORD).status_code == 200
    assert _login(en_client, holder.id_number, NEW_PASSWORD).status_code == 302
    assert AuditEvent.objects.filter(action="account.password_reset", on_behalf_of=holder).exists()


def test_a_reset_with_a_wrong_code_keeps_the_old_password(en_client, holder, sent_messages):
    _post(en_client, reverse("accounts:reset"), {"id_number": holder.id_number})
    code = _code_from(sent_messages, holder.phone)
    response = _verify(en_client, f"{(int(code) + 1) % 1_000_000:06d}", url="accounts:reset-verify")
    assert "That code is not correct." in _page(response)
    holder.user.refresh_from_db()
    assert holder.user.check_password(PASSWORD)


def test_a_reset_for_someone_without_an_account_gets_the_same_answer_and_no_code(en_client, newcomer, sent_messages):
    response = _post(en_client, reverse("accounts:reset"), {"id_number": newcomer.id_number})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:reset-verify")
    assert sent_messages == []


def test_log_out_is_a_post(en_client, holder):
    en_client.force_login(holder.user)
    assert en_client.get(reverse("accounts:logout")).status_code == 405
    response = en_client.post(reverse("accounts:logout"))
    assert response.status_code == 302 and response["Location"] == reverse("portal:home")
    assert "You have logged out." in _page(en_client.get(reverse("portal:home")))
    assert en_client.get(reverse("portal:dashboard")).status_code == 302


def test_pages_carry_the_session_expiry_warning_and_the_session_can_be_extended(en_client, holder):
    en_client.force_login(holder.user)
    page = _page(en_client.get(reverse("portal:dashboard")))
    assert f'data-session-seconds="{settings.SESSION_COOKIE_AGE}"' in page
    assert 'id="session-warning"' in page and "Stay logged in" in page
    response = en_client.post(reverse("accounts:session-extend"), {"next": reverse("accounts:inbox")})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:inbox")
    assert "You are still logged in." in _page(en_client.get(reverse("accounts:inbox")))
    # An outside address in "next" is not followed.
    response = en_client.post(reverse("accounts:session-extend"), {"next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_an_idle_session_ends(en_client, holder):
    en_client.force_login(holder.user)
    assert en_client.get(reverse("portal:dashboard")).status_code == 200
    later = timezone.now() + datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE + 60)
    with time_machine.travel(later):
        response = en_client.get(reverse("portal:dashboard"))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_visitors_see_no_session_warning(en_client, db):
    page = _page(en_client.get(reverse("portal:home")))
    assert 'id="session-warning"' not in page and "data-session-seconds" not in page


# -- Preferences, language, age-friendly mode ----------------------------------------------


def test_preferences_are_saved(en_client, holder):
    user = holder.user
    en_client.force_login(user)
    assert en_client.post(reverse("accounts:reauth"), {"password": PASSWORD}).status_code == 302
    response = en_client.post(
        reverse("accounts:preferences"),
        {"language": "en", "notify_email": "on", "email": "zhang.wei@example.com"},  # SMS unticked
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.language, user.notify_sms, user.notify_email, user.email) == ("en", False, True, "zhang.wei@example.com")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert "Your preferences have been saved." in _page(en_client.get(reverse("accounts:preferences")))


def test_preferences_need_an_address_for_e_mail(en_client, holder):
    en_client.force_login(holder.user)
    response = en_client.post(reverse("accounts:preferences"), {"language": "en", "notify_sms": "on", "notify_email": "on"})
    assert "Enter an e-mail address to receive e-mails" in _page(response)
    holder.user.refresh_from_db()
    assert holder.user.notify_email is False


def test_the_language_switch_is_remembered_in_a_cookie_and_on_the_account(client, holder):
    client.force_login(holder.user)
    assert 'lang="zh-CN"' in _page(client.get(reverse("portal:home")))
    response = client.post(reverse("portal:set-language"), {"language": "en", "next": reverse("portal:home")})
    assert response.status_code == 302 and response["Location"] == reverse("portal:home")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    holder.user.refresh_from_db()
    assert holder.user.language == "en"
    assert 'lang="en"' in _page(client.get(reverse("portal:home")))


def test_a_saved_language_follows_the_citizen_to_a_new_browser(client, holder):
    User.objects.filter(pk=holder.user.pk).update(language="en")
    client.force_login(holder.user)
    assert 'lang="en"' in _page(client.get(reverse("portal:dashboard")))


def test_the_age_friendly_toggle_is_remembered_in_a_cookie_and_on_the_account(client, holder):
    client.force_login(holder.user)
    home = reverse("portal:home")
    assert 'class=" ' in _page(client.get(home)) or "age-friendly" not in _page(client.get(home)).split("<body")[1][:80]
    response = client.post(reverse("portal:display-mode"), {"age_friendly": "1", "next": home})
    assert response.status_code == 302 and response["Location"] == home
    assert response.cookies["age_friendly"].value == "1"
    holder.user.refresh_from_db()
    assert holder.user.age_friendly is True
    assert '<body class="age-friendly' in _page(client.get(home))
    client.post(reverse("portal:display-mode"), {"age_friendly": "0", "next": home})
    holder.user.refresh_from_db()
    assert holder.user.age_friendly is False
    assert '<body class="age-friendly' not in _page(client.get(home))


def test_the_age_friendly_mode_follows_the_citizen_to_a_new_browser(client, holder):
    User.objects.filter(pk=holder.user.pk).update(age_friendly=True)
    client.force_login(holder.user)
    assert '<body class="age-friendly' in _page(client.get(reverse("portal:home")))


def test_visitors_can_switch_to_age_friendly_mode_too(client, db):
    response = client.post(reverse("portal:display-mode"), {"age_friendly": "1", "next": "https://evil.example/"})
    assert response["Location"] == "/"
    assert '<body class="age-friendly' in _page(client.get(reverse("portal:home")))
