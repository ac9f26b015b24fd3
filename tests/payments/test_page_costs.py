"""What the busiest citizen pages cost: their queries are pinned, so a change cannot add some unseen.

bench/pages.py measures their CPU time per request; these numbers are the part a test can hold
steady. Each page is read for a family with something in every section (bindings in each
state, caps, payments, an undo banner, an unread message). The session store and the unread
count, which run on every logged-in page, are plain SQL: their answers are compared with the ORM's.
"""

from __future__ import annotations

import datetime

import pytest
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification
from portal.sessions import SessionStore
from tests.conftest import login_staff, make_person

from .conftest import voucher_for

pytestmark = pytest.mark.django_db

# Session, user (with person and region), bindings, spending figures, balance, undo banner,
# recent payments, statements, unread count, session save.
DASHBOARD_HOLDER = 10
# The relative's: session, user, bindings, undo banner, balances of her sources, the spending
# under each of the binding's caps (month, year, pharmacy: the payment preview), the
# allowances, statements, unread count, session save.
DASHBOARD_RELATIVE = 12
# Session, user, grouped totals (choices, totals, count), balance, unread count, the page's rows,
# premiums, session save.
SPENDING = 8
MY_PAYMENTS = 7


@pytest.fixture(autouse=True)
def _render_every_time(settings):
    """These pin what rendering a page costs: no kept copy (portal/pagecache.py) answers instead."""
    settings.PAGE_CACHE_ENTRIES = 0


def queries_of(client, person, url, django_assert_max_num_queries, most):
    client.force_login(person.user)
    client.get(url)  # (the first request of a log-in also reads what later ones do not)
    with django_assert_max_num_queries(most) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode(), len(captured.captured_queries)


def test_the_holders_dashboard_reads_a_fixed_number_of_queries(client, family, django_assert_max_num_queries):
    holder, _mother = family
    html, _n = queries_of(client, holder, reverse("portal:dashboard"), django_assert_max_num_queries, DASHBOARD_HOLDER)
    assert "2 of 6 used, 1 pending" in html
    assert 'data-testid="recently-ended"' in html and 'id="undo-banner"' in html
    assert "海南一心大药房" in html  # the recent payments


def test_the_relatives_dashboard_reads_a_fixed_number_of_queries(client, family, django_assert_max_num_queries):
    _holder, mother = family
    html, _n = queries_of(client, mother, reverse("portal:dashboard"), django_assert_max_num_queries,
                          DASHBOARD_RELATIVE)
    assert 'data-testid="allowances"' in html and 'data-testid="preview"' in html


def test_the_spending_page_reads_a_fixed_number_of_queries(client, family, django_assert_max_num_queries):
    holder, mother = family
    url = reverse("payments:spending")
    html, _n = queries_of(client, holder, url, django_assert_max_num_queries, SPENDING)
    assert "¥23.00" in html and "¥33.00" in html  # the mother's total; the month's
    with django_assert_max_num_queries(SPENDING):  # filtered: the same
        filtered = client.get(url, {"person": mother.pk, "category": "pharmacy_drug"}).content.decode()
    assert "¥3.00" in filtered and "¥20.00" not in filtered


def test_my_payments_reads_a_fixed_number_of_queries(client, family, django_assert_max_num_queries):
    _holder, mother = family
    html, _n = queries_of(client, mother, reverse("payments:my-payments"), django_assert_max_num_queries, MY_PAYMENTS)
    assert "张伟" in html and "¥20.00" in html


def test_the_spending_page_costs_the_same_for_many_payments(client, family, hospital, django_assert_num_queries,
                                                            django_assert_max_num_queries):
    holder, mother = family
    url = reverse("payments:spending")
    _html, few = queries_of(client, holder, url, django_assert_max_num_queries, SPENDING)
    for amount in range(100, 125):
        hospital.settle(voucher_for(mother), amount)
    with django_assert_num_queries(few):
        html = client.get(url).content.decode()
    assert "Page 1 of 2" in html


# -- what every logged-in page runs ---------------------------------------------------------------


def test_the_unread_count_is_the_orms(client, holder):
    Notification.objects.create(person=holder, kind="payment", subject="s", body="b")
    Notification.objects.create(person=holder, kind="payment", subject="s", body="b", read_at=timezone.now())
    Notification.objects.create(person=holder, kind="one_time_code", subject="s", body="b")
    Notification.objects.create(person=make_person("别人"), kind="payment", subject="s", body="b")
    expected = Notification.objects.filter(person=holder, read_at__isnull=True).exclude(kind="one_time_code").count()
    client.force_login(holder.user)
    client.cookies["django_language"] = "en"
    html = client.get(reverse("portal:dashboard")).content.decode()
    assert expected == 1 and f"{expected} unread" in html


def test_the_session_store_reads_saves_and_expires_as_djangos():
    store = SessionStore()
    store["who"] = "张伟"
    store.create()
    key = store.session_key
    again = SessionStore(key)
    assert again["who"] == "张伟"
    again["seen"] = 1
    again.set_expiry(600)
    again.save()
    row = Session.objects.get(session_key=key)
    assert SessionStore().decode(row.session_data) == {"who": "张伟", "seen": 1, "_session_expiry": 600}
    assert 590 < (row.expire_date - timezone.now()).total_seconds() <= 600
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    expired = SessionStore(key)
    assert expired.load() == {} and expired.session_key is None  # a new one would be made on save


def test_saving_a_session_deleted_meanwhile_fails_as_djangos():
    store = SessionStore()
    store["who"] = "张伟"
    store.create()
    stale = SessionStore(store.session_key)
    assert stale["who"] == "张伟"  # read before
    Session.objects.filter(session_key=store.session_key).delete()  # logged out elsewhere
    stale["more"] = 1
    with pytest.raises(UpdateError):
        stale.save()


def test_a_logged_in_request_moves_the_session_expiry(client, holder, settings):
    client.force_login(holder.user)
    key = client.session.session_key
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() + datetime.timedelta(seconds=60))
    client.get(reverse("portal:dashboard"))
    left = (Session.objects.get(session_key=key).expire_date - timezone.now()).total_seconds()
    assert left > settings.SESSION_COOKIE_AGE - 60


def test_a_deactivated_user_is_logged_out_on_the_next_request(client, holder):
    client.force_login(holder.user)
    assert client.get(reverse("portal:dashboard")).status_code == 200
    type(holder.user).objects.filter(pk=holder.user.pk).update(is_active=False)
    response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_a_user_without_a_person_still_logs_in(client, bureau_clerk):
    login_staff(client, bureau_clerk)
    response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")


def test_the_precompiled_user_query_reads_what_the_orm_reads(holder, bureau_clerk, django_assert_num_queries):
    from accounts.backends import IdentifierBackend
    from accounts.models import User

    def values(obj):
        return None if obj is None else {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}

    holder.user.last_login = timezone.now()
    holder.user.save()
    for user in (holder.user, bureau_clerk):
        expected = User.objects.select_related("person__region").get(pk=user.pk)
        with django_assert_num_queries(1):  # the user, their registry record and its region: one query
            found = IdentifierBackend().get_user(str(user.pk))
            person = found.person
            region = person.region if person is not None else None
        assert values(found) == values(expected)
        assert values(person) == values(expected.person)
        assert values(region) == values(expected.person.region if expected.person else None)
    assert holder.user.last_login is not None and found is not None
    assert IdentifierBackend().get_user("not a number") is None
    assert IdentifierBackend().get_user(10**9) is None
