"""Malformed input into every citizen form and every API field (issue 15 item 3), driven by hypothesis.

Each form is posted (or, for search forms, fetched) as the persona who uses it, with a valid
baseline in which hypothesis replaces some fields by wrong types (repeated values), empty and
10 kB strings, odd Unicode (RTL marks, zero-width characters, NUL, emoji), negative and
overflowing numbers, and SQL and HTML strings. Every answer: no 5xx, no HTML from the input
echoed unescaped, and when the submission was refused, no row written anywhere.

Each form gets SWEEP (every value in every field at once), then PORTAL_FUZZ_EXAMPLES (default 8)
hypothesis examples; derandomized, so CI runs are repeatable.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.models import InsuredPerson
from payments import ledger
from payments.institutions import create_institution
from payments.vouchers import issue_voucher
from tests.conftest import PASSWORD, make_id, make_person

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("PORTAL_FUZZ_EXAMPLES", "8"))

# HTML that must never come back as markup (the page may show it escaped)
HTML = ["<script>alert(1)</script>", "<b id=hx>bold</b>", '"><img src=x onerror=alert(1)>', "<svg onload=alert(1)>"]
MARKERS = ["<script>alert(1)", "<b id=hx>", "<img src=x onerror", "<svg onload"]

NASTY = [
    "", " ", "\t\n", "0", "-1", "-0", "1.5", "-99999999999999999999", "99999999999999999999999999", "1e309",
    "NaN", "Infinity", "0x10", "١٢٣", "１２３",  # Arabic-Indic and full-width digits
    "\u202eRTL override\u202c", "\u200f\u05e9\u05dc\u05d5\u05dd", "a\u200bb\u200d", "\ufeff", "😀👨‍👩‍👧‍👦",
    "\x00", "a\x00b", "\x1f\x7f", "x" * 10_240, "长" * 10_240,
    "'; DROP TABLE accounts_user; --", "' OR '1'='1", "1; SELECT pg_sleep(5)", "%", "_", "\\",
    *HTML, "{{ 7|add:7 }}", "{% debug %}", "${7*7}", "../../etc/passwd", "%00", "javascript:alert(1)",
    "2026-02-30", "9999-12-31", "0001-01-01", "1970-13-01", "460100198001010011", "13800000001",
]
# Sent first in every field at once, each of them (hypothesis then mixes all of NASTY and random text)
SWEEP = ["", "-1", "99999999999999999999999999", "1e309", "١٢٣", "\u202eRTL override\u202c", "a\u200bb\u200d",
         "😀👨‍👩‍👧‍👦", "a\x00b", "长" * 10_240, "' OR '1'='1", *HTML, "{% debug %}", "2026-02-30", ["1", "2"]]
TEXT = st.sampled_from(NASTY) | st.text(max_size=40) | st.integers().map(str) | st.floats().map(str)
VALUE = TEXT | st.lists(TEXT, min_size=2, max_size=3)  # a list: the field sent several times

COUNTED = [
    "accounts.User", "accounts.InsuredPerson", "accounts.OneTimeCode", "accounts.Notification",
    "pooling.Binding", "pooling.DeductionOrder", "pooling.UndoableChange",
    "payments.LedgerTransaction", "payments.LedgerEntry", "payments.Settlement", "payments.Refund",
    "payments.PremiumPayment", "payments.IdempotencyRecord",
]


def row_counts() -> dict[str, int]:
    return {name: apps.get_model(name).objects.count() for name in COUNTED}


def redirected(response: Any) -> bool:
    return response.status_code in (301, 302, 303)


Accepted = Callable[[dict[str, Any], Any], bool]


def fuzz(client: Client, method: str, url: str, baseline: dict[str, Any], accepted: Accepted = lambda d, r: redirected(r),
         send: Callable[[dict[str, Any]], Any] | None = None) -> None:
    """Send ``baseline`` with some fields replaced by nasty values; check every answer."""
    fields = sorted(baseline)

    def default_send(data: dict[str, Any]) -> Any:
        return client.get(url, data) if method == "GET" else client.post(url, data)

    do = send or default_send

    def check(data: dict[str, Any]) -> None:
        before = row_counts()
        response = do(data)
        assert response.status_code < 500, (url, data, response.status_code)
        body = response.content.decode("utf-8", errors="replace")
        for marker in MARKERS:
            assert marker not in body, (url, marker)
        if method == "GET" or not accepted(data, response):
            assert row_counts() == before, (url, data, response.status_code)

    for value in SWEEP:
        check(dict.fromkeys(fields, value))

    @hypothesis_settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                         suppress_health_check=list(HealthCheck))
    @given(changes=st.dictionaries(st.sampled_from(fields), VALUE, min_size=1, max_size=len(fields)))
    def run(changes: dict[str, Any]) -> None:
        check({**baseline, **changes})

    run()


def login(person: InsuredPerson) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(person.user)
    return client


@pytest.fixture
def family(holder: InsuredPerson, mother: InsuredPerson) -> dict[str, Any]:
    from pooling.models import Binding

    ledger.credit_personal_account(holder, 10_000_000, reference=f"fuzz-{holder.pk}")
    now = timezone.now()
    binding = Binding.objects.create(holder=holder, beneficiary=mother, relationship="parent", status="active",
                                     consented_at=now, activated_at=now, created_at=now)
    return {"holder": holder, "mother": mother, "binding": binding}


# -- public pages -------------------------------------------------------------------------------


def test_sign_up(client: Client) -> None:
    newcomer = make_person("赵敏", birth="1985-05-05", sex="F")
    fuzz(client, "POST", "/accounts/signup/", {"id_number": newcomer.id_number, "name": "赵敏"})


def test_log_in(client: Client, holder: InsuredPerson) -> None:
    fuzz(client, "POST", "/accounts/login/", {"username": holder.phone, "password": PASSWORD + "x"})


def test_password_reset(client: Client, holder: InsuredPerson) -> None:
    fuzz(client, "POST", "/accounts/password-reset/", {"id_number": holder.id_number})


def test_sign_up_and_reset_codes(client: Client) -> None:
    for url in ("/accounts/signup/verify/", "/accounts/password-reset/verify/"):
        fuzz(client, "POST", url, {"code": "123456", "password1": PASSWORD, "password2": PASSWORD},
             accepted=lambda d, r: False)


def test_checker(client: Client) -> None:
    fuzz(client, "GET", "/pooling/check/", {
        "my_scheme": "employee", "my_region": "460100", "relationship": "parent", "relative_insured": "yes",
        "relative_scheme": "resident", "relative_region": "海口", "relative_age": "70",
    })


def test_answer_with_a_code(client: Client) -> None:
    fuzz(client, "POST", "/pooling/answer/", {"id_number": make_id(), "code": "123456"}, accepted=lambda d, r: False)


def test_guides_and_display_choices(client: Client) -> None:
    fuzz(client, "GET", "/pooling/guides/", {"region": "460100", "print": "1"})
    fuzz(client, "POST", "/display-mode/", {"age_friendly": "1", "next": "/pooling/check/"})
    fuzz(client, "POST", "/language/", {"language": "en", "next": "/"})
    fuzz(client, "POST", "/accounts/session/extend/", {"next": "/"})


# -- the holder's pages -------------------------------------------------------------------------


def test_propose_a_relative(family: dict[str, Any]) -> None:
    sister = make_person("张芳", birth="1978-02-02", sex="F")
    fuzz(login(family["holder"]), "POST", "/pooling/add/", {
        "id_number": sister.id_number, "name": "张芳", "relationship": "sibling", "end_date": "", "confirm": "1",
    })


def test_limits_end_date_and_unbind(family: dict[str, Any]) -> None:
    client, pk = login(family["holder"]), family["binding"].pk
    fuzz(client, "POST", f"/pooling/relative/{pk}/limits/", {"per_payment": "100", "monthly": "500", "annual": ""})
    fuzz(client, "POST", f"/pooling/relative/{pk}/end-date/", {"end_date": "2099-01-01"})
    # a refused unbind re-renders its confirmation page; an accepted one ends pooling (no new rows)
    fuzz(client, "POST", f"/pooling/relative/{pk}/end/", {"note": "moving"}, accepted=lambda d, r: redirected(r))


def test_premium(family: dict[str, Any]) -> None:
    year = timezone.localdate().year

    def paid(data: dict[str, Any], response: Any) -> bool:
        return redirected(response) and re.search(r"/payments/premiums/\d+/$", response["Location"]) is not None

    fuzz(login(family["holder"]), "POST", "/payments/premiums/pay/",
         {"relative": str(family["mother"].pk), "year": str(year)}, accepted=paid)


def test_spending_and_preferences(family: dict[str, Any]) -> None:
    client = login(family["holder"])
    fuzz(client, "GET", "/payments/spending/", {
        "person": str(family["mother"].pk), "category": "pharmacy_drug", "institution": "1", "month": "2026-01",
        "page": "1", "format": "html",
    })
    fuzz(client, "GET", "/accounts/inbox/", {"page": "2"})
    fuzz(client, "POST", "/accounts/preferences/", {
        "language": "en", "notify_sms": "on", "notify_email": "", "email": "a@example.com",
    })


# -- the relative's pages -----------------------------------------------------------------------


def test_order_and_preview(family: dict[str, Any]) -> None:
    client = login(family["mother"])
    fuzz(client, "GET", "/pooling/order/", {"amount": "120.50", "category": "pharmacy_drug"})
    fuzz(client, "POST", "/pooling/order/", {"source": "own", "move": "down"}, accepted=lambda d, r: True)
    fuzz(client, "POST", "/payments/voucher/extend/", {"minutes": "5"}, accepted=lambda d, r: True)


# -- the settlement API ---------------------------------------------------------------------------


def test_every_api_field(family: dict[str, Any]) -> None:
    institution, key = create_institution("F001", "海口市第三人民医院", "hospital", "460100")
    client = Client()
    headers = {"Authorization": f"Bearer {key}"}
    counter = iter(range(10**9))
    mother = family["mother"]

    def send_settlement(data: dict[str, Any]) -> Any:
        body = {**data, "voucher": issue_voucher(mother)[1] if data["voucher"] == "<fresh>" else data["voucher"]}
        return client.post("/api/v1/settlements", json.dumps(body), content_type="application/json",
                           headers={**headers, "Idempotency-Key": f"fuzz-{next(counter)}"})

    api_value = VALUE | st.integers() | st.integers(min_value=2**63) | st.floats() | st.none() | st.booleans() \
        | st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2)

    def created(data: dict[str, Any], response: Any) -> bool:
        return response.status_code == 201

    baseline = {"voucher": "<fresh>", "category": "outpatient", "amount_fen": 1000, "reference": "INV-1"}
    fields = sorted(baseline)

    @hypothesis_settings(max_examples=EXAMPLES * 2, deadline=None, database=None, derandomize=True,
                         suppress_health_check=list(HealthCheck))
    @given(changes=st.dictionaries(st.sampled_from(fields), api_value, min_size=1, max_size=len(fields)))
    def run(changes: dict[str, Any]) -> None:
        data = {**baseline, **changes}
        before = row_counts()
        response = send_settlement(data)
        assert response.status_code < 500, (data, response.content)
        assert response["Content-Type"].startswith("application/json")
        if not created(data, response):
            assert 400 <= response.status_code < 500
            assert set(response.json()) == {"error", "message"}
            assert row_counts() == before, (data, response.content)

    run()
    assert ledger.invariant_violations() == []
    settled = send_settlement(dict(baseline))
    assert settled.status_code == 201
    sid = settled.json()["id"]

    @hypothesis_settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                         suppress_health_check=list(HealthCheck))
    @given(amount=api_value)
    def refund(amount: Any) -> None:
        before = row_counts()
        response = client.post(f"/api/v1/settlements/{sid}/refund", json.dumps({"amount_fen": amount}),
                               content_type="application/json",
                               headers={**headers, "Idempotency-Key": f"fuzz-{next(counter)}"})
        assert response.status_code < 500, (amount, response.content)
        if response.status_code != 201:
            assert row_counts() == before

    refund()
    assert ledger.invariant_violations() == []
