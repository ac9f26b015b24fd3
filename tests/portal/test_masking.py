"""ID and phone numbers are masked on every page except to their owner; staff lookups are audited."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.idnumbers import mask_id_number, mask_phone
from accounts.models import AuditEvent
from tests.conftest import login_staff

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
    login_staff(client, counter_assistant)
    response = client.post(reverse("counter:home"), {"method": "id", "by_id-id_number": mother.id_number,
                                                     "by_id-reason": "in_person"}, follow=True)
    html = response.content.decode()
    assert response.status_code == 200
    assert mask_id_number(mother.id_number) in html and mask_phone(mother.phone) in html
    _assert_masked(html, mother, where="on the counter person page")
    lookup = AuditEvent.objects.get(action="counter.lookup")
    assert (lookup.actor, lookup.on_behalf_of, lookup.channel) == (counter_assistant, mother, "counter")


def test_the_counter_cannot_look_up_someone_from_another_region(client, counter_assistant, outsider):
    login_staff(client, counter_assistant)
    response = client.get(reverse("counter:person", args=[outsider.pk]))
    assert response.status_code == 404


def test_the_admin_list_and_detail_show_masked_numbers_and_audit_the_lookup(client, bureau_clerk, holder, mother):
    login_staff(client, bureau_clerk)
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
    login_staff(client, bureau_clerk)
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
    login_staff(client, bureau_clerk)
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


# -- The whole demo family, on every page any of them can reach --------------------------------


def _links(html: str) -> list[str]:
    """Same-site page links of a page (no static files, no external sites)."""
    import re

    found = []
    for href in re.findall(r'href="(/[^"#]*)"', html):
        href = href.replace("&amp;", "&")
        if href.startswith(("/static/", "/admin/logout", "/accounts/logout", "/jsi18n")):
            continue
        found.append(href)
    return found


def _crawl(client, start: list[str], limit: int = 120) -> dict[str, str]:
    """Pages reachable from ``start`` by following links (GET only), up to ``limit`` pages."""
    seen: dict[str, str] = {}
    queue = list(start)
    while queue and len(seen) < limit:
        url = queue.pop(0)
        if url in seen:
            continue
        response = client.get(url)
        if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
            seen[url] = ""
            continue
        html = response.content.decode()
        seen[url] = html
        queue += [link for link in _links(html) if link not in seen]
    return seen


@pytest.fixture
def demo_family(db):
    from accounts.models import InsuredPerson
    from portal import demo

    demo.load()
    return {p.key: InsuredPerson.objects.by_id_number(p.id_number) for p in demo.PEOPLE}


def test_no_page_a_demo_citizen_can_reach_shows_another_persons_numbers(client, demo_family):
    people = [p for p in demo_family.values() if p is not None]
    citizens = [p for p in people if hasattr(p, "user")]
    assert len(citizens) >= 5
    pages = 0
    for me in citizens:
        client.force_login(me.user)
        start = [u for u in _plain_urls() if not u.startswith(("/admin/", "/api/")) and "logout" not in u]
        for url, html in _crawl(client, start, limit=80).items():
            if not html:
                continue
            pages += 1
            others = [p for p in people if p.pk != me.pk]
            for other in others:
                assert other.id_number not in html, f"{other.name}'s ID number shown to {me.name} on {url}"
                if other.phone and other.phone != me.phone:
                    assert other.phone not in html, f"{other.name}'s phone shown to {me.name} on {url}"
    assert pages >= 40


def test_no_admin_or_counter_page_shows_full_numbers_of_the_demo_family(client, demo_family):
    from accounts.models import User

    people = [p for p in demo_family.values() if p is not None]
    numbers = [p.id_number for p in people] + [p.phone for p in people if p.phone]
    for username, start in (("admin", ["/admin/"]), ("counter", ["/counter/"])):
        login_staff(client, User.objects.get(username=username))
        if username == "counter":
            start += [f"/counter/person/{p.pk}/" for p in people if p.region_id == "460100"]
        crawled = _crawl(client, start, limit=250)
        assert sum(1 for html in crawled.values() if html) >= 10
        for url, html in crawled.items():
            for number in numbers:
                assert number not in html, f"a full number is shown to {username} on {url}"
