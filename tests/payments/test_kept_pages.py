"""A dashboard or spending page seen again is the copy rendered a moment ago (portal/pagecache.py),
and only while nothing it shows has changed: what a citizen sees is never older than the data.

Each test looks at the page as the citizen would after a change made the way the portal makes it
(the settlement API, a form on the page, a worker's task), and checks the copy was not shown.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification
from payments import ledger
from pooling.models import Binding, BindingStatus
from portal import pagecache
from portal.templatetags.portal_tags import money

from .conftest import voucher_for

pytestmark = pytest.mark.django_db

# What a kept page costs: session, user (with person), the page's state, session save.
KEPT = 4
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def browser(person, language="en") -> Client:
    client = Client(enforce_csrf_checks=True)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    client.force_login(person.user)
    return client


def view(client: Client, url: str, django_assert_max_num_queries) -> tuple[str, int]:
    with django_assert_max_num_queries(60) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode(), len(captured.captured_queries)


def without_tokens(html: str) -> str:
    return TOKEN.sub('name="csrfmiddlewaretoken" value=""', html)


@pytest.mark.parametrize("name", ["portal:dashboard", "payments:spending"])
def test_a_page_seen_again_is_the_kept_copy_with_the_visitors_own_form_tokens(family, name,
                                                                             django_assert_max_num_queries):
    holder, _mother = family
    url = reverse(name)
    first_browser, second_browser = browser(holder), browser(holder)
    first, rendered = view(first_browser, url, django_assert_max_num_queries)
    again, kept = view(first_browser, url, django_assert_max_num_queries)
    assert kept == KEPT < rendered
    assert without_tokens(again) == without_tokens(first)
    assert pagecache.PLACEHOLDER not in again
    # The same person in another browser gets the copy too, with tokens for that browser's cookie.
    other, kept = view(second_browser, url, django_assert_max_num_queries)
    assert kept == KEPT and without_tokens(other) == without_tokens(first)
    for client, html in ((first_browser, again), (second_browser, other)):
        token = TOKEN.search(html).group(1)
        answer = client.post(reverse("portal:display-mode"), {"csrfmiddlewaretoken": token, "age_friendly": "1",
                                                              "next": url})
        assert answer.status_code == 302  # the form on the kept page works (a wrong token answers 403)
    assert Client(enforce_csrf_checks=True).post(reverse("portal:display-mode"), {"csrfmiddlewaretoken": "x" * 64})\
        .status_code == 403


def test_a_payment_through_the_api_shows_at_once_on_both_sides(family, hospital, django_assert_max_num_queries):
    holder, mother = family
    holders, mothers = browser(holder), browser(mother)
    dashboard, spending = reverse("portal:dashboard"), reverse("payments:spending")
    for client, url in ((holders, dashboard), (holders, spending), (mothers, dashboard)):
        view(client, url, django_assert_max_num_queries)
        assert view(client, url, django_assert_max_num_queries)[1] == KEPT
    before = ledger.balance_of(holder)
    assert hospital.settle(voucher_for(holder), 12_345, reference="INV-KEPT").status_code == 201
    after = ledger.balance_of(holder)
    assert after == before - 12_345
    html, queries = view(holders, dashboard, django_assert_max_num_queries)
    assert queries > KEPT and money(after) in html and money(before) not in html
    html, queries = view(holders, spending, django_assert_max_num_queries)
    assert queries > KEPT and money(12_345) in html
    # His mother's page shows what is left of his balance for her: it moved with his payment.
    html, queries = view(mothers, dashboard, django_assert_max_num_queries)
    assert queries > KEPT and money(after) in html and money(before) not in html


def test_a_change_made_on_the_page_shows_with_its_message_once(family, django_assert_max_num_queries):
    holder, mother = family
    client = browser(holder)
    dashboard = reverse("portal:dashboard")
    view(client, dashboard, django_assert_max_num_queries)
    binding = Binding.objects.get(holder=holder, beneficiary=mother)
    home = view(client, dashboard, django_assert_max_num_queries)[0]
    token = TOKEN.search(home).group(1)
    answer = client.post(reverse("pooling:pause", args=[binding.pk]), {"csrfmiddlewaretoken": token})
    assert answer.status_code == 302 and answer["Location"] == dashboard
    message = f"Paused: {mother.name} cannot pay from your account until you resume."
    shown, queries = view(client, dashboard, django_assert_max_num_queries)
    assert message in shown and queries > KEPT
    assert Binding.objects.get(pk=binding.pk).status == BindingStatus.PAUSED
    again, queries = view(client, dashboard, django_assert_max_num_queries)
    assert message not in again  # shown once, not kept with the page
    assert without_tokens(again).replace(message, "") != without_tokens(home)  # the pause shows


def test_reading_the_messages_clears_the_header_badge_at_once(family, django_assert_max_num_queries):
    holder, _mother = family
    client = browser(holder)
    dashboard = reverse("portal:dashboard")
    view(client, dashboard, django_assert_max_num_queries)
    badge = re.compile(r'<span class="badge text-bg-danger">\d+ unread</span>')
    assert badge.search(view(client, dashboard, django_assert_max_num_queries)[0])
    Notification.objects.filter(person=holder).update(read_at=timezone.now())
    html, queries = view(client, dashboard, django_assert_max_num_queries)
    assert not badge.search(html) and queries > KEPT


def test_a_kept_page_is_only_ever_its_owners(family, django_assert_max_num_queries):
    holder, mother = family
    dashboard = reverse("portal:dashboard")
    his = view(browser(holder), dashboard, django_assert_max_num_queries)[0]
    assert holder.phone in his  # (his own page shows his phone number)
    hers, queries = view(browser(mother), dashboard, django_assert_max_num_queries)
    assert holder.phone not in hers and mother.phone in hers and queries > KEPT


def test_language_display_mode_and_address_each_have_their_own_copy(family, django_assert_max_num_queries):
    holder, _mother = family
    dashboard = reverse("portal:dashboard")
    english, chinese = browser(holder, "en"), browser(holder, "zh-hans")
    view(english, dashboard, django_assert_max_num_queries)
    html, queries = view(chinese, dashboard, django_assert_max_num_queries)
    assert queries > KEPT and 'lang="zh-CN"' in html
    english.cookies["age_friendly"] = "1"
    html, queries = view(english, dashboard, django_assert_max_num_queries)
    assert queries > KEPT and 'lang="en"' in html and "age-friendly" in html
    spending = reverse("payments:spending")
    view(english, spending, django_assert_max_num_queries)
    assert view(english, spending + "?category=pharmacy_drug", django_assert_max_num_queries)[1] > KEPT


def test_a_copy_is_kept_for_the_rest_of_its_minute_only(family, monkeypatch, django_assert_max_num_queries):
    holder, _mother = family
    client, dashboard = browser(holder), reverse("portal:dashboard")
    now = 1_800_000_000.0
    monkeypatch.setattr(pagecache.time, "time", lambda: now)
    view(client, dashboard, django_assert_max_num_queries)
    monkeypatch.setattr(pagecache.time, "time", lambda: now + 59)
    assert view(client, dashboard, django_assert_max_num_queries)[1] == KEPT
    monkeypatch.setattr(pagecache.time, "time", lambda: now + 60)
    assert view(client, dashboard, django_assert_max_num_queries)[1] > KEPT


def test_the_number_of_kept_pages_is_bounded_and_zero_switches_it_off(family, settings,
                                                                      django_assert_max_num_queries):
    holder, mother = family
    dashboard = reverse("portal:dashboard")
    settings.PAGE_CACHE_ENTRIES = 1
    his, hers = browser(holder), browser(mother)
    view(his, dashboard, django_assert_max_num_queries)
    view(hers, dashboard, django_assert_max_num_queries)
    assert len(pagecache.store) == 1
    assert view(his, dashboard, django_assert_max_num_queries)[1] > KEPT  # his copy made room for hers
    settings.PAGE_CACHE_ENTRIES = 0
    pagecache.store.clear()
    view(his, dashboard, django_assert_max_num_queries)
    assert view(his, dashboard, django_assert_max_num_queries)[1] > KEPT and len(pagecache.store) == 0


def test_what_is_not_a_page_is_not_kept(family, django_assert_max_num_queries):
    holder, _mother = family
    client = browser(holder)
    url = reverse("payments:spending") + "?format=csv"
    first = client.get(url)
    assert first["Content-Type"].startswith("text/csv") and len(pagecache.store) == 0
    assert client.get(url).content == first.content
