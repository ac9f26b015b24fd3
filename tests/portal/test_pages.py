"""The shared layout: home page content, error pages, navigation by role."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import login_staff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def test_the_home_page_explains_family_pooling_in_plain_words(en_client):
    page = en_client.get(reverse("portal:home")).content.decode()
    for text in (
        "How it works",
        "Who can share, and with whom",
        "What the shared money can pay",
        "It cannot pay",
        "Your relatives keep their own insurance",
        'Family pooling is not the "family account"',
        "Prefer to do it in person?",
    ):
        assert text in page
    assert reverse("accounts:login") in page and reverse("accounts:signup") in page


def test_the_home_page_is_in_simplified_chinese_by_default(client):
    page = client.get(reverse("portal:home")).content.decode()
    assert '<html lang="zh-CN"' in page
    assert "家庭共济" in page


def test_a_missing_page_is_explained_in_the_layout(en_client):
    response = en_client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Page not found" in page and 'id="main"' in page


def test_a_form_sent_without_its_security_token_gets_a_friendly_page(holder):
    client = Client(enforce_csrf_checks=True)
    client.cookies["django_language"] = "en"
    response = client.post(reverse("accounts:login"), {"username": holder.id_number, "password": "x"})
    assert response.status_code == 403
    page = response.content.decode()
    assert "Please try again" in page and "was not accepted" in page
    assert 'id="main"' in page  # the portal's layout, with its navigation and language switch


def test_citizens_see_their_links_and_staff_see_theirs(en_client, holder, counter_assistant, bureau_clerk):
    en_client.force_login(holder.user)
    page = en_client.get(reverse("portal:home")).content.decode()
    assert reverse("accounts:inbox") in page and reverse("accounts:preferences") in page
    assert reverse("counter:home") not in page and "/admin/" not in page

    login_staff(en_client, counter_assistant)
    assert en_client.get(reverse("portal:dashboard"))["Location"] == reverse("counter:home")
    assert reverse("counter:home") in en_client.get(reverse("portal:home")).content.decode()

    login_staff(en_client, bureau_clerk)
    assert en_client.get(reverse("portal:dashboard"))["Location"] == reverse("admin:index")
