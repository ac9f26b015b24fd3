"""ID and phone numbers are masked on every page except to their owner; staff lookups are audited."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.idnumbers import mask_id_number, mask_phone
from accounts.models import AuditEvent

pytestmark = pytest.mark.django_db


def _secrets(*people) -> list[str]:
    values = []
    for person in people:
        values += [person.id_number, person.phone, person.id_number[6:14] + person.id_number[14:]]
    return values


def _assert_masked(html: str, *people, where: str = "") -> None:
    for value in _secrets(*people):
        assert value not in html, f"{value} shown unmasked {where}"


def _plain_urls(resolver: URLResolver | None = None, namespace: str = "", prefix: str = "") -> list[str]:
    """Every URL of the project that takes no argument (the pages a crawler can reach)."""
    resolver = resolver or get_resolver()
    urls: list[str] = []
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.pattern.converters or "(?P" in str(pattern.pattern):
                continue
            ns = pattern.namespace or ""
            full_ns = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            urls += _plain_urls(pattern, full_ns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            if pattern.pattern.converters or "(?P" in str(pattern.pattern) or "<" in str(pattern.pattern):
                continue
            route = str(pattern.pattern)
            if route.startswith("^") or route.endswith("$"):
                continue
            urls.append("/" + prefix + route)
    return sorted(set(urls))


def test_the_owner_sees_their_own_full_id_number_and_phone(client, holder):
    client.force_login(holder.user)
    html = client.get(reverse("portal:dashboard")).content.decode()
    assert f'data-testid="own-id">{holder.id_number}<' in html
    assert holder.phone in html


def test_no_citizen_page_shows_another_persons_numbers(client, holder, mother, outsider):
    client.force_login(holder.user)
    crawled = 0
    for url in _plain_urls():
        if url.startswith(("/admin/", "/api/")) or "logout" in url:
            continue
        response = client.get(url)
        if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
            crawled += 1
            _assert_masked(response.content.decode(), mother, outsider, where=f"on {url} to {holder.name}")
    assert crawled >= 5


def test_the_counter_shows_the_person_helped_with_masked_numbers_and_audits_the_lookup(client, counter_assistant, mother):
    client.force_login(counter_assistant)
    response = client.post(reverse("counter:home"), {"id_number": mother.id_number}, follow=True)
    html = response.content.decode()
    assert response.status_code == 200
    assert mask_id_number(mother.id_number) in html and mask_phone(mother.phone) in html
    _assert_masked(html, mother, where="on the counter person page")
    lookup = AuditEvent.objects.get(action="counter.lookup")
    assert (lookup.actor, lookup.on_behalf_of, lookup.channel) == (counter_assistant, mother, "counter")


def test_the_counter_cannot_look_up_someone_from_another_region(client, counter_assistant, outsider):
    client.force_login(counter_assistant)
    response = client.get(reverse("counter:person", args=[outsider.pk]))
    assert response.status_code == 404


def test_the_admin_list_and_detail_show_masked_numbers_and_audit_the_lookup(client, bureau_clerk, holder, mother):
    client.force_login(bureau_clerk)
    listing = client.get(reverse("admin:accounts_insuredperson_changelist")).content.decode()
    assert mask_id_number(holder.id_number) in listing
    _assert_masked(listing, holder, mother, where="on the admin list")

    detail = client.get(reverse("admin:accounts_insuredperson_change", args=[mother.pk]))
    html = detail.content.decode()
    assert detail.status_code == 200
    assert mask_id_number(mother.id_number) in html and mask_phone(mother.phone) in html
    _assert_masked(html, mother, where="on the admin detail page")
    event = AuditEvent.objects.get(action="staff.lookup")
    assert (event.actor, event.on_behalf_of, event.channel) == (bureau_clerk, mother, "admin")


def test_the_admin_finds_a_person_by_full_id_number_or_phone_and_audits_the_search(client, bureau_clerk, holder, mother):
    client.force_login(bureau_clerk)
    url = reverse("admin:accounts_insuredperson_changelist")
    by_id = client.get(url, {"q": holder.id_number.lower()}).content.decode()
    assert mask_id_number(holder.id_number) in by_id and mask_id_number(mother.id_number) not in by_id
    by_phone = client.get(url, {"q": mother.phone}).content.decode()
    assert mask_id_number(mother.id_number) in by_phone and mask_id_number(holder.id_number) not in by_phone
    searches = AuditEvent.objects.filter(action="staff.search", actor=bureau_clerk)
    assert searches.count() == 2
    assert all(holder.id_number not in e.note and mother.phone not in e.note for e in searches)


def test_no_admin_list_shows_full_numbers(client, bureau_clerk, holder, mother, outsider):
    from accounts.notifications import notify

    notify(holder, "test", "Hello", "A message")
    stranger = holder.id_number[:14] + ("0000" if holder.id_number[14:] != "0000" else "0002")
    for typed in (holder.id_number, holder.phone, stranger, "13912345678"):  # failures land in axes' tables
        client.post(reverse("accounts:login"), {"username": typed, "password": "wrong"})
    client.force_login(bureau_clerk)
    client.get(reverse("admin:accounts_insuredperson_change", args=[holder.pk]))  # leaves an audit row
    crawled = 0
    for url in _plain_urls():
        if not url.startswith("/admin/") or "logout" in url:
            continue
        response = client.get(url)
        if response.status_code == 200:
            crawled += 1
            html = response.content.decode()
            _assert_masked(html, holder, mother, outsider, where=f"on {url}")
            assert stranger not in html and "13912345678" not in html, f"a typed number is shown on {url}"
    assert crawled >= 8
    user_page = client.get(reverse("admin:accounts_user_change", args=[holder.user.pk])).content.decode()
    _assert_masked(user_page, holder, where="on the admin user page")
