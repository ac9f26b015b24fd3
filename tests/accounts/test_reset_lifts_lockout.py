"""A successful password reset lifts the log-in lock-out it was offered for (issue 13 item 6)."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.urls import reverse

from tests.conftest import PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

NEW_PASSWORD = "Quiet-River-2026"


def _login(client, username, password=PASSWORD):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def test_the_new_password_works_at_once_after_a_lockout(en_client, holder, sent_messages,
                                                        django_capture_on_commit_callbacks):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(en_client, holder.id_number, "wrong-password")
    locked = _login(en_client, holder.id_number)
    assert locked.status_code in (403, 429)
    assert reverse("accounts:reset") in locked.content.decode()  # the page offers a reset
    with django_capture_on_commit_callbacks(execute=True):
        en_client.post(reverse("accounts:reset"), {"id_number": holder.id_number})
    texts = [m for m in sent_messages if m.address == holder.phone]
    code = re.search(r"\b(\d{6})\b", texts[-1].body).group(1)
    with django_capture_on_commit_callbacks(execute=True):
        response = en_client.post(reverse("accounts:reset-verify"),
                                  {"code": code, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert _login(en_client, holder.id_number, NEW_PASSWORD).status_code == 302


def test_a_lockout_without_a_reset_still_holds(en_client, holder):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(en_client, holder.id_number, "wrong-password")
    assert _login(en_client, holder.id_number).status_code in (403, 429)
