"""Server side of the accessibility work (issue 14): no pop-ups, no lost work at time-out."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.payments.conftest import bind

pytestmark = pytest.mark.django_db


def test_stay_logged_in_from_the_page_script_answers_json_and_keeps_the_page(en_client, holder):
    en_client.force_login(holder.user)
    response = en_client.post(reverse("accounts:session-extend"), {"next": "/dashboard/"},
                              headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.json()["ok"] is True and response.json()["seconds"] > 0
    en_client.logout()
    response = en_client.post(reverse("accounts:session-extend"), {"next": "/dashboard/"},
                              headers={"Accept": "application/json"})
    assert response.status_code == 401 and response.json() == {"ok": False}


def test_the_log_in_page_says_why_after_a_time_out(en_client, settings):
    settings.SESSION_COOKIE_AGE = 15 * 60
    page = en_client.get(reverse("accounts:login") + "?expired=1&next=/payments/spending/").content.decode()
    assert "You were logged out after 15 minutes without activity" in page
    assert "payments/spending" in page
    assert "logged out after" not in en_client.get(reverse("accounts:login")).content.decode()


def test_every_page_states_its_time_limit_in_plain_words(en_client, holder, settings):
    settings.SESSION_COOKIE_AGE = 20 * 60
    en_client.force_login(holder.user)
    page = en_client.get(reverse("portal:dashboard")).content.decode()
    assert "For your safety you are logged out after 20 minutes without activity." in page
    assert 'role="alertdialog"' in page


def test_pause_all_asks_on_a_page_first_and_only_the_post_pauses(en_client, holder, mother):
    binding = bind(holder, mother)
    en_client.force_login(holder.user)
    dashboard = en_client.get(reverse("portal:dashboard")).content.decode()
    assert "data-confirm" not in dashboard and 'href="/pooling/pause-all/"' in dashboard
    page = en_client.get(reverse("pooling:pause-all")).content.decode()
    assert "Pause all pooling now?" in page and "Yes, pause all pooling" in page
    binding.refresh_from_db()
    assert binding.status == "active"
    assert en_client.post(reverse("pooling:pause-all")).status_code == 302
    binding.refresh_from_db()
    assert binding.status == "paused"


def test_the_spending_filter_is_one_get_form_without_a_token(en_client, holder):
    en_client.force_login(holder.user)
    for name in ("payments:spending", "payments:my-payments"):
        page = en_client.get(reverse(name)).content.decode()
        forms = re.findall(r"<form[^>]*>.*?</form>", page, flags=re.S)
        assert not any("<form" in f[5:] for f in forms), name
        get_forms = [f for f in forms if 'method="get"' in f]
        assert get_forms and all("csrfmiddlewaretoken" not in f for f in get_forms)


def test_datetime_attributes_have_no_microseconds():
    import datetime

    from portal.templatetags.portal_tags import isodatetime

    value = datetime.datetime(2026, 11, 30, 1, 2, 3, 456789, tzinfo=datetime.UTC)
    assert isodatetime(value) == "2026-11-30T09:02:03+08:00"
    assert isodatetime(None) == ""
