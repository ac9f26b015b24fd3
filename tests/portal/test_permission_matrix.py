"""The permission matrix: every URL of the project and every admin page and action, for every persona.

Personas: anonymous; a citizen (张伟, the holder); his bound relative (李秀英); an unrelated citizen
of 三亚 (王芳); counter assistants of 海口 and of 三亚; bureau viewers and administrators of 海口 and
of 三亚; institutions (a 海口 hospital and a 三亚 pharmacy) with API keys.

Every URL pattern must have an entry in ``IDS`` (a new view without one fails the first test),
so nothing is left out of the matrix. Ids come in three kinds: the subject's own object ("own",
the holder's or 海口's), another person's or region's ("foreign", 王芳's or 三亚's) and one that does
not exist ("missing"). A foreign id must answer exactly like a missing one: same status, same
body once the id itself is taken out.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts import scoping
from accounts.models import HouseholdMember, InsuredPerson, Notification, Office, RegionPolicy
from payments.institutions import create_institution
from payments.models import PremiumPayment, Settlement
from payments.vouchers import issue_voucher
from pooling.models import Binding, BindingStatus, UndoableChange
from portal.models import CounterAction
from statements.models import StatementRun
from tests.conftest import HAIKOU, PASSWORD, SANYA, login_staff, make_bureau_staff, make_person

from ..payments.conftest import Api, credit, voucher_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

MISSING = 987654321

# Pages anyone may open without logging in.
PUBLIC = {
    "healthz", "readyz", "portal:home", "portal:display-mode", "portal:set-language",
    "accounts:signup", "accounts:signup-verify", "accounts:signup-resend", "accounts:login", "accounts:logout",
    "accounts:reset", "accounts:reset-verify", "accounts:reset-resend",
    "pooling:answer-code", "pooling:consent-link", "pooling:checker", "pooling:guides", "pooling:guide",
    "pooling:premium-guide", "pooling:how-to", "pooling:faq", "api:openapi", "javascript-catalog",
    "accounts:session-extend",  # without a session: back to the home page, nothing extended
}


def walk(patterns: list[Any], namespace: str = "") -> list[tuple[str, URLPattern]]:
    found = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            if pattern.namespace == "admin":
                continue  # admin pages: see the admin part below (every model admin, every action)
            found += walk(pattern.url_patterns, inner)
        elif pattern.name:
            found.append((f"{namespace}{pattern.name}", pattern))
    return found


# -- the world ------------------------------------------------------------------------------------


@pytest.fixture
def world(holder, mother, outsider):
    """Rows of 海口 (the holder's, own) and of 三亚 (王芳's, foreign) for every kind of id in a URL."""
    son = make_person("张明", birth="2000-02-02", sex="M")
    sanya_mother = make_person("王大妈", region=SANYA, birth="1950-01-01", sex="F", scheme="resident")
    sanya_son = make_person("王小明", region=SANYA, birth="2001-01-01", sex="M")
    now = timezone.now()
    w: dict[str, Any] = {"holder": holder, "mother": mother, "outsider": outsider}
    w["binding"] = Binding.objects.create(holder=holder, beneficiary=mother, relationship="parent",
                                          status="active", activated_at=now, flagged_for_review=True)
    w["foreign_binding"] = Binding.objects.create(holder=outsider, beneficiary=sanya_mother, relationship="parent",
                                                  status="active", activated_at=now, flagged_for_review=True)
    # A request waiting for the holder's answer (he is asked by his son), and one for 王芳.
    w["request"] = Binding.objects.create(holder=son, beneficiary=holder, relationship="parent",
                                          status=BindingStatus.PENDING, consent_deadline=now + datetime.timedelta(days=7))
    w["foreign_request"] = Binding.objects.create(holder=sanya_son, beneficiary=outsider, relationship="parent",
                                                  status=BindingStatus.PENDING,
                                                  consent_deadline=now + datetime.timedelta(days=7))
    w["notice"] = Notification.objects.create(person=holder, kind="test", subject="给张伟的通知")
    w["foreign_notice"] = Notification.objects.create(person=outsider, kind="test", subject="给王芳的通知")
    later = now + datetime.timedelta(minutes=10)
    w["undo"] = UndoableChange.objects.create(action="pause", person=holder, channel="web", expires_at=later,
                                              states={})
    w["foreign_undo"] = UndoableChange.objects.create(action="pause", person=outsider, channel="web",
                                                      expires_at=later, states={})
    w["premium"] = PremiumPayment.objects.create(payer=holder, relative=mother, year=now.year, amount_fen=38_000,
                                                 channel="web")
    w["foreign_premium"] = PremiumPayment.objects.create(payer=outsider, relative=sanya_mother, year=now.year,
                                                         amount_fen=38_000, channel="web")
    w["voucher"] = issue_voucher(holder)[0]
    w["foreign_voucher"] = issue_voucher(outsider)[0]
    haikou_office = Office.objects.create(name="海口市医保服务大厅", region_id=HAIKOU)
    sanya_office = Office.objects.create(name="三亚市医保服务大厅", region_id=SANYA)
    w["haikou_counter"] = _counter("counter-hk", haikou_office)
    w["sanya_counter"] = _counter("counter-sy", sanya_office)
    w["action"] = CounterAction.objects.create(office=haikou_office, staff=w["haikou_counter"], person=holder,
                                               kind="premium")
    w["foreign_action"] = CounterAction.objects.create(office=sanya_office, staff=w["sanya_counter"],
                                                       person=outsider, kind="premium")
    for name, region, group in (("hk-viewer", HAIKOU, scoping.CITY_VIEWER),
                                ("hk-admin", HAIKOU, scoping.CITY_ADMINISTRATOR),
                                ("sy-viewer", SANYA, scoping.CITY_VIEWER),
                                ("sy-admin", SANYA, scoping.CITY_ADMINISTRATOR)):
        w[name] = make_bureau_staff(name, region, group)
    w["policy"] = RegionPolicy.objects.create(region_id=HAIKOU, max_beneficiaries=4)
    w["foreign_policy"] = RegionPolicy.objects.create(region_id=SANYA, max_beneficiaries=4)
    HouseholdMember.objects.create(household_id="H-1", person=holder, relationship_to_head="head")
    HouseholdMember.objects.create(household_id="H-2", person=outsider, relationship_to_head="head")
    hospital, hospital_key = create_institution("HK-H1", "海口医院", "hospital", HAIKOU)
    pharmacy, pharmacy_key = create_institution("SY-P1", "三亚药房", "pharmacy", SANYA)
    w["hospital"], w["pharmacy"] = Api(hospital, hospital_key), Api(pharmacy, pharmacy_key)
    credit(holder, 100_000)
    credit(outsider, 100_000)
    w["settlement"] = Settlement.objects.get(pk=w["hospital"].settle(voucher_for(holder), 1_000).json()["id"])
    w["foreign_settlement"] = Settlement.objects.get(
        pk=w["pharmacy"].settle(voucher_for(outsider), 1_000, category="pharmacy_drug").json()["id"])
    StatementRun.objects.create(month=datetime.date(2024, 1, 1), chunk_size=100)
    return w


def _counter(username: str, office: Office) -> Any:
    from accounts.models import Role, User

    user = User(username=username, role=Role.COUNTER, office=office)
    user.set_password(PASSWORD)
    user.save()
    return user


def _pk(key: str) -> Callable[[dict[str, Any], str], dict[str, Any]]:
    def ids(w: dict[str, Any], kind: str) -> dict[str, Any]:
        return {"pk": {"own": lambda: w[key].pk, "foreign": lambda: w[f"foreign_{key}"].pk,
                       "missing": lambda: MISSING}[kind]()}
    return ids


def _person(extra: str | None = None, key: str = "binding") -> Callable[[dict[str, Any], str], dict[str, Any]]:
    """Counter URLs: the person (holder, or 王芳 of 三亚) and maybe one of their rows."""
    def ids(w: dict[str, Any], kind: str) -> dict[str, Any]:
        person = {"own": w["holder"].pk, "foreign": w["outsider"].pk, "missing": MISSING}[kind]
        kwargs = {"pk": person}
        if extra:
            row = {"own": lambda: w[key].pk, "foreign": lambda: w[f"foreign_{key}"].pk,
                   "missing": lambda: MISSING}[kind]()
            kwargs[extra] = row
        return kwargs
    return ids


def _none(w: dict[str, Any], kind: str) -> dict[str, Any]:
    return {}


# URL name -> its ids (own / foreign / missing). Names without an id take none.
IDS: dict[str, Callable[[dict[str, Any], str], dict[str, Any]]] = {
    "accounts:inbox-read": _pk("notice"),
    "pooling:binding": _pk("binding"),
    "pooling:limits": _pk("binding"),
    "pooling:end-date": _pk("binding"),
    "pooling:pause": _pk("binding"),
    "pooling:resume": _pk("binding"),
    "pooling:cancel": _pk("binding"),
    "pooling:unbind": _pk("binding"),
    "pooling:undo": _pk("undo"),
    "pooling:answer": _pk("request"),
    "pooling:consent-link": lambda w, kind: {"token": {"own": "x" * 20, "foreign": "y" * 20,
                                                       "missing": "z" * 20}[kind]},
    "pooling:guide": lambda w, kind: {"channel": "app"},
    "pooling:premium-guide": lambda w, kind: {"channel": "app"},
    "counter:person": _person(),
    "counter:receipt": _person("action", "action"),
    "counter:phone": _person(),
    "counter:signup": _person(),
    "counter:pooling-propose": _person(),
    "counter:pooling-order": _person(),
    "counter:pooling-undo": _person(),
    "counter:pooling-consent": _person("binding_pk", "request"),
    "counter:pooling-unbind": _person("binding_pk"),
    "counter:pooling-limits": _person("binding_pk"),
    "counter:pooling-end-date": _person("binding_pk"),
    "counter:pooling-pause": _person("binding_pk"),
    "counter:pooling-resume": _person("binding_pk"),
    "counter:premium-pay": _person(),
    "counter:premium-receipt": _person("payment", "premium"),
    "counter:voucher": _person(),
    "payments:voucher-qr": _pk("voucher"),
    "payments:premium-receipt": _pk("premium"),
    "statements:detail": lambda w, kind: {"month": "2024-01"},
    "statements:pdf": lambda w, kind: {"month": "2024-01"},
    "api:settlement": _pk("settlement"),
    "api:refund": _pk("settlement"),
}
WITH_IDS = {name for name, ids in IDS.items() if ids not in (_none,)}
FOREIGN_IDS = {name for name in IDS if name not in ("pooling:consent-link", "pooling:guide", "pooling:premium-guide",
                                                     "statements:detail", "statements:pdf")}
ALL_URLS = [name for name, _pattern in walk(get_resolver().url_patterns)]


def url(w: dict[str, Any], name: str, kind: str = "own") -> str:
    return reverse(name, kwargs=IDS.get(name, _none)(w, kind))


def logged_in(user: Any, staff: bool = False) -> Client:
    client = Client()
    client.cookies["django_language"] = "en"
    if user is None:
        return client
    if staff:
        return login_staff(client, user)
    client.force_login(user)
    return client


def citizen(person: InsuredPerson) -> Client:
    return logged_in(person.user_account if hasattr(person, "user_account") else person.user)


_TOKENS = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+|(nonce=")[^"]+|(csrftoken=)[^;"\s]+')


def normalised(response: Any, *ids: Any) -> tuple[int, str, str]:
    """Status, target of a redirect and body with the ids and per-request tokens taken out.

    Both sides of a comparison take out the same ids (the foreign and the missing one), so a small
    id that also stands in the page for another reason (``initial-scale=1``) is taken out of both."""
    body = response.content.decode(errors="replace") if not getattr(response, "streaming", False) else ""
    location = response.get("Location", "")
    body = _TOKENS.sub(lambda m: (m.group(1) or m.group(2) or m.group(3)) + "T", body)
    for value in ids:
        alone = re.compile(rf"(?<![\w-]){re.escape(str(value))}(?![\w-])")
        body, location = alone.sub("ID", body), alone.sub("ID", location)
    return response.status_code, location, body


def is_login_redirect(response: Any) -> bool:
    return response.status_code == 302 and (
        "/accounts/login/" in response["Location"] or "/admin/login/" in response["Location"]
        or "/second-factor/" in response["Location"])


def refused(response: Any) -> bool:
    """Sent to a log-in, forbidden, not found or a wrong method: never the page itself."""
    return is_login_redirect(response) or response.status_code in (401, 403, 404, 405)


# -- every URL is in the matrix -------------------------------------------------------------------


def test_every_url_of_the_project_is_in_the_matrix():
    for name, pattern in walk(get_resolver().url_patterns):
        if pattern.pattern.converters or re.search(r"\(\?P<", str(pattern.pattern)):
            assert name in IDS, f"{name} takes an id: add it to IDS"
    assert not set(IDS) - set(ALL_URLS), "IDS names a URL that no longer exists"


# -- anonymous ------------------------------------------------------------------------------------


def test_anonymous_reaches_only_the_public_pages(world):
    client = logged_in(None)
    for name in ALL_URLS:
        for method in ("get", "post"):
            response = getattr(client, method)(url(world, name))
            assert response.status_code < 500, (name, method)
            if name in PUBLIC:
                continue
            assert refused(response), (name, method, response.status_code)
    for path in ("/admin/", reverse("admin:accounts_insuredperson_changelist"),
                 reverse("admin:pooling_binding_change", args=[world["binding"].pk])):
        assert is_login_redirect(client.get(path)), path


# -- citizens -------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["holder", "mother", "outsider"])
def test_citizens_never_reach_the_counter_or_the_admin(world, who):
    client = citizen(world[who])
    counter = [name for name in ALL_URLS if name.startswith("counter:")]
    assert counter
    for name in counter:
        for method in ("get", "post"):
            response = getattr(client, method)(url(world, name))
            assert refused(response), (who, name, method, response.status_code)
    for model, model_admin in admin.site._registry.items():
        info = model._meta.app_label, model._meta.model_name
        for path in (reverse("admin:{}_{}_changelist".format(*info)), reverse("admin:{}_{}_add".format(*info))):
            assert is_login_redirect(client.get(path)), (who, path)
            assert is_login_redirect(client.post(path, {})), (who, path)
    assert Binding.objects.get(pk=world["binding"].pk).status == "active"


def test_a_citizens_page_with_another_persons_id_answers_like_a_missing_one(world):
    client = citizen(world["holder"])
    for name in sorted(FOREIGN_IDS):
        if name.startswith(("counter:", "api:")):
            continue
        own = client.get(url(world, name, "own"))
        assert own.status_code < 500, name
        for method in ("get", "post"):
            foreign_ids = IDS[name](world, "foreign").values()
            foreign = normalised(getattr(client, method)(url(world, name, "foreign")), *foreign_ids, MISSING)
            missing = normalised(getattr(client, method)(url(world, name, "missing")), *foreign_ids, MISSING)
            assert foreign[0] in (302, 404, 405), (name, method, foreign[0])
            assert foreign == missing, (name, method)
    # Nothing of 王芳's changed.
    assert Binding.objects.get(pk=world["foreign_binding"].pk).status == "active"
    assert Binding.objects.get(pk=world["foreign_request"].pk).status == BindingStatus.PENDING
    assert Notification.objects.get(pk=world["foreign_notice"].pk).read_at is None


def test_the_bound_relative_cannot_change_what_only_the_holder_sets(world):
    binding = world["binding"]
    before = Binding.objects.filter(pk=binding.pk).values().get()
    client = citizen(world["mother"])
    for name in ("pooling:limits", "pooling:end-date", "pooling:pause", "pooling:cancel"):
        response = client.post(url(world, name), {"monthly_cap": "1", "end_date": "2030-01-01"})
        assert response.status_code < 500, name
    after = Binding.objects.filter(pk=binding.pk).values().get()
    for field in ("status", "monthly_cap_fen", "yearly_cap_fen", "end_date", "paused_at"):
        if field in before:
            assert after[field] == before[field], field
    # Her own inbox does not show the holder's notice, which answers like a missing one.
    foreign = normalised(client.post(url(world, "accounts:inbox-read")), world["notice"].pk, MISSING)
    missing = normalised(client.post(url(world, "accounts:inbox-read", "missing")), world["notice"].pk, MISSING)
    assert foreign == missing
    assert Notification.objects.get(pk=world["notice"].pk).read_at is None


# -- the counter ----------------------------------------------------------------------------------


def test_the_counter_of_the_region_opens_its_people_and_of_another_region_answers_like_missing(world):
    own_counter = logged_in(world["haikou_counter"], staff=True)
    other_counter = logged_in(world["sanya_counter"], staff=True)
    assert own_counter.get(url(world, "counter:person")).status_code == 200
    for name in [n for n in ALL_URLS if n.startswith("counter:") and n in IDS]:
        for method in ("get", "post"):
            ids = IDS[name](world, "own").values()
            foreign = normalised(getattr(other_counter, method)(url(world, name, "own")), *ids, MISSING)
            missing = normalised(getattr(other_counter, method)(url(world, name, "missing")), *ids, MISSING)
            assert foreign[0] == 404, (name, method, foreign[0])
            assert foreign == missing, (name, method)
    assert Binding.objects.get(pk=world["binding"].pk).status == "active"


@pytest.mark.parametrize("who", ["haikou_counter", "sanya_counter"])
def test_counter_assistants_do_not_reach_the_bureau_admin(world, who):
    client = logged_in(world[who], staff=True)
    for model in admin.site._registry:
        info = model._meta.app_label, model._meta.model_name
        response = client.get(reverse("admin:{}_{}_changelist".format(*info)))
        assert is_login_redirect(response) or response.status_code == 403, (who, info)


@pytest.mark.parametrize("who", ["hk-viewer", "hk-admin", "sy-admin"])
def test_bureau_staff_do_not_use_the_counter(world, who):
    client = logged_in(world[who], staff=True)
    for name in [n for n in ALL_URLS if n.startswith("counter:")]:
        assert refused(client.get(url(world, name))), (who, name)


# -- the bureau admin -----------------------------------------------------------------------------


def scoped_rows(model_admin: Any, prefix: str) -> Any:
    from django.db.models import Q

    q = Q()
    for path in model_admin.region_paths:
        q |= Q(**{f"{path}__startswith": prefix})
    return model_admin.model._default_manager.filter(q)


def admin_urls(model: Any, pk: Any) -> list[str]:
    info = model._meta.app_label, model._meta.model_name
    return [reverse("admin:{}_{}_change".format(*info), args=[pk]), reverse("admin:{}_{}_history".format(*info), args=[pk]),
            reverse("admin:{}_{}_delete".format(*info), args=[pk])]


@pytest.mark.parametrize("who,own,foreign", [("hk-viewer", "4601", "4602"), ("hk-admin", "4601", "4602"),
                                              ("sy-viewer", "4602", "4601"), ("sy-admin", "4602", "4601")])
def test_bureau_staff_see_their_region_and_another_regions_rows_answer_like_missing(world, who, own, foreign):
    client = logged_in(world[who], staff=True)
    checked = 0
    for model, model_admin in admin.site._registry.items():
        info = model._meta.app_label, model._meta.model_name
        changelist = client.get(reverse("admin:{}_{}_changelist".format(*info)))
        assert changelist.status_code in (200, 403), (who, info)
        if not isinstance(model_admin, scoping.RegionScopedAdmin):
            continue
        mine = scoped_rows(model_admin, own).first()
        theirs = scoped_rows(model_admin, foreign).exclude(pk__in=scoped_rows(model_admin, own)).first()
        if mine is not None and changelist.status_code == 200:
            assert client.get(admin_urls(model, mine.pk)[0]).status_code == 200, (who, info)
        if theirs is None:
            continue
        checked += 1
        for foreign_url, missing_url in zip(admin_urls(model, theirs.pk), admin_urls(model, MISSING), strict=True):
            for method in ("get", "post"):
                got = normalised(getattr(client, method)(foreign_url), theirs.pk, MISSING)
                expected = normalised(getattr(client, method)(missing_url), theirs.pk, MISSING)
                assert got == expected, (who, foreign_url, method)
                assert got[0] in (302, 403, 404), (who, foreign_url, method, got[0])
    assert checked >= 8
    assert Binding.objects.get(pk=world["foreign_binding"].pk).status == "active"
    assert Binding.objects.get(pk=world["binding"].pk).status == "active"


def test_a_viewer_cannot_post_a_change_nor_run_an_action(world):
    client = logged_in(world["hk-viewer"], staff=True)
    policy = world["policy"]
    response = client.post(reverse("admin:accounts_regionpolicy_change", args=[policy.pk]),
                           {"max_beneficiaries": "1"})
    assert response.status_code == 403
    assert RegionPolicy.objects.get(pk=policy.pk).max_beneficiaries == 4
    binding = world["binding"]
    for model, model_admin in admin.site._registry.items():
        info = model._meta.app_label, model._meta.model_name
        for action in model_admin.get_action_choices(_request_of(world["hk-admin"])):
            name = action[0]
            if not name:
                continue
            pks = [binding.pk] if model is Binding else list(model._default_manager.values_list("pk", flat=True)[:3])
            response = client.post(reverse("admin:{}_{}_changelist".format(*info)),
                                   {"action": name, "_selected_action": pks, "post": "yes", "reason": "x"})
            # A viewer has no actions: the list comes back, nothing is run.
            assert response.status_code in (200, 302, 403), (info, name)
    after = Binding.objects.get(pk=binding.pk)
    assert after.status == "active" and after.flagged_for_review


def test_actions_of_another_regions_administrator_do_not_touch_this_regions_rows(world):
    client = logged_in(world["sy-admin"], staff=True)
    binding = world["binding"]
    for name in ("reject", "ask_for_proof", "mark_reviewed"):
        client.post(reverse("admin:pooling_binding_changelist"),
                    {"action": name, "_selected_action": [binding.pk], "post": "yes", "reason": "x"})
    after = Binding.objects.get(pk=binding.pk)
    assert after.status == "active" and after.flagged_for_review
    hospital = world["hospital"].institution
    before = hospital.api_key_hash
    for name in ("rotate_keys", "revoke_keys"):
        client.post(reverse("admin:payments_institution_changelist"),
                    {"action": name, "_selected_action": [hospital.pk], "post": "yes"})
    hospital.refresh_from_db()
    assert hospital.api_key_hash == before
    assert world["hospital"].get(f"/api/v1/settlements/{world['settlement'].pk}").status_code == 200


def test_the_review_queue_and_imports_stay_within_the_region(world):
    sanya = logged_in(world["sy-admin"], staff=True)
    page = sanya.get(reverse("admin:pooling_binding_review")).content.decode()
    assert world["outsider"].masked_name in page and world["holder"].masked_name not in page
    # The household file may hold any region's people: a city administrator cannot import it.
    response = sanya.get(reverse("admin:accounts_householdmember_import"))
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")
    csv = "household_id,id_number,relationship_to_head\nH-9,{},head\n".format(world["holder"].id_number)
    from django.core.files.uploadedfile import SimpleUploadedFile

    sanya.post(reverse("admin:accounts_householdmember_import"),
               {"file": SimpleUploadedFile("h.csv", csv.encode())})
    assert HouseholdMember.objects.get(person=world["holder"]).household_id == "H-1"
    viewer = logged_in(world["hk-viewer"], staff=True)
    assert viewer.get(reverse("admin:accounts_insuredperson_import")).status_code in (302, 403)


def _request_of(user: Any) -> Any:
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = user
    return request


# -- institutions ---------------------------------------------------------------------------------


def test_an_institution_cannot_read_or_refund_another_institutions_settlement(world):
    hospital, pharmacy = world["hospital"], world["pharmacy"]
    theirs, mine = world["foreign_settlement"], world["settlement"]
    assert hospital.get(f"/api/v1/settlements/{mine.pk}").status_code == 200
    for path in ("/api/v1/settlements/{}", "/api/v1/settlements/{}/"):
        got = normalised(hospital.get(path.format(theirs.pk)), theirs.pk, MISSING)
        expected = normalised(hospital.get(path.format(MISSING)), theirs.pk, MISSING)
        assert got == expected and got[0] == 404
    got = normalised(hospital.refund(theirs.pk, 100), theirs.pk, MISSING)
    expected = normalised(hospital.refund(MISSING, 100), theirs.pk, MISSING)
    assert got[:2] == expected[:2] and got[0] == 404
    assert Settlement.objects.get(pk=theirs.pk).refunded_fen == 0 if hasattr(Settlement, "refunded_fen") else True
    listed = pharmacy.get("/api/v1/settlements").content.decode()
    assert str(mine.pk) not in re.findall(r'"id": ?(\d+)', listed)


def test_an_institution_key_opens_no_page_and_a_browser_session_no_api(world):
    key = {"Authorization": f"Bearer {world['hospital'].key}"}
    client = Client()
    for name in ALL_URLS:
        if name in PUBLIC or name.startswith("api:"):
            continue
        assert refused(client.get(url(world, name), headers=key)), name
    assert is_login_redirect(client.get("/admin/", headers=key))
    browser = citizen(world["holder"])
    assert browser.get(f"/api/v1/settlements/{world['settlement'].pk}").status_code == 401
    staff = logged_in(world["hk-admin"], staff=True)
    assert staff.get(f"/api/v1/settlements/{world['settlement'].pk}").status_code == 401
