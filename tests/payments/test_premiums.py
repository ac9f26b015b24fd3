"""Resident premium payment (代缴): from the portal and at the counter."""

from __future__ import annotations

import datetime

import pytest
from django.db import IntegrityError, transaction

from accounts.models import AuditEvent, RegionPolicy
from payments import ledger
from payments.models import AccountKind, LedgerEntry, PremiumPayment
from payments.premiums import PremiumError, pay_resident_premium, premium_year
from tests.conftest import login_staff
from tests.portal.counter_data import person_id

from .conftest import bind, credit

pytestmark = pytest.mark.django_db


def confirm_password(client) -> None:
    """Paying a premium asks for the password again (valid a few minutes)."""
    from tests.conftest import PASSWORD

    assert client.post("/accounts/confirm/", {"password": PASSWORD}).status_code == 302


@pytest.fixture
def haikou_premium(db):
    RegionPolicy.objects.create(region_id="460100", effective_from=datetime.date(2021, 1, 1), resident_premium_fen=38_000)


def test_a_holder_pays_a_bound_relatives_premium_and_gets_a_receipt(client, holder, mother, haikou_premium):
    credit(holder, 100_000)
    bind(holder, mother, "parent")
    client.force_login(holder.user)
    page = client.get("/payments/premiums/")
    assert "李秀英" in page.content.decode() and "¥380.00" in page.content.decode()
    confirm_password(client)
    confirm = client.post("/payments/premiums/pay/", {"relative": mother.pk, "year": premium_year()})
    assert ledger.balance_of(holder) == 100_000  # nothing moves before the holder confirms
    response = client.post("/payments/premiums/pay/", {"relative": mother.pk, "year": premium_year(),
                                                       "confirm": "yes"}, follow=True)
    assert confirm.status_code == 200
    html = response.content.decode()
    assert "Receipt" in html and "¥380.00" in html and str(premium_year()) in html
    assert mother.id_number not in html  # masked
    assert ledger.balance_of(holder) == 62_000
    fund = ledger.system_account(AccountKind.PREMIUM_FUND)
    entry = LedgerEntry.objects.get(account=fund)
    assert (entry.amount_fen, entry.patient_id, entry.category) == (38_000, mother.pk, "resident_premium")
    assert ledger.spent_from(holder, mother) == 0  # the holder's own act, not the relative's spending
    assert ledger.invariant_violations() == []


def test_a_premium_is_paid_at_most_once_per_relative_and_year(holder, mother, haikou_premium):
    credit(holder, 100_000)
    bind(holder, mother, "parent")
    pay_resident_premium(holder, mother, premium_year())
    with pytest.raises(PremiumError, match="[Aa]lready paid"):
        pay_resident_premium(holder, mother, premium_year())
    assert ledger.balance_of(holder) == 62_000
    with pytest.raises(IntegrityError), transaction.atomic():  # the database guarantees it too
        PremiumPayment.objects.create(payer=holder, relative=mother, year=premium_year(), amount_fen=1, channel="web")


def test_only_for_a_relative_on_the_list_who_agreed(holder, mother, haikou_premium):
    credit(holder, 100_000)
    with pytest.raises(PremiumError, match="on your family pooling list"):
        pay_resident_premium(holder, mother, premium_year())
    binding = bind(holder, mother, "parent")
    binding.status = "pending"
    binding.save()
    with pytest.raises(PremiumError, match="on your family pooling list"):
        pay_resident_premium(holder, mother, premium_year())
    assert ledger.balance_of(holder) == 100_000
    binding.status = "paused"  # a pause stops spending, not the holder's own premium payment
    binding.save()
    pay_resident_premium(holder, mother, premium_year())
    assert ledger.balance_of(holder) == 62_000


def test_only_for_relatives_in_the_resident_scheme(holder, haikou_premium):
    from tests.conftest import make_person

    wife = make_person("王丽", birth="1977-06-08", sex="F")  # employee scheme
    credit(holder, 100_000)
    bind(holder, wife, "spouse")
    with pytest.raises(PremiumError, match="not in urban-rural resident insurance"):
        pay_resident_premium(holder, wife, premium_year())


def test_a_low_balance_is_explained_and_nothing_moves(client, holder, mother, haikou_premium):
    credit(holder, 10_000)
    bind(holder, mother, "parent")
    client.force_login(holder.user)
    confirm_password(client)
    response = client.post("/payments/premiums/pay/", {"relative": mother.pk, "year": premium_year()}, follow=True)
    assert "balance is too low" in response.content.decode()
    assert ledger.balance_of(holder) == 10_000


def test_a_citizen_sees_only_their_own_receipts(client, holder, mother, outsider, haikou_premium):
    credit(holder, 100_000)
    bind(holder, mother, "parent")
    payment = pay_resident_premium(holder, mother, premium_year())
    client.force_login(outsider.user)
    assert client.get(f"/payments/premiums/{payment.pk}/").status_code == 404


def test_counter_staff_pay_on_a_citizens_behalf(client, counter_assistant, holder, mother, haikou_premium):
    credit(holder, 100_000)
    bind(holder, mother, "parent")
    login_staff(client, counter_assistant)
    page = client.get(f"/counter/person/{holder.pk}/")
    assert "Pay on their behalf" in page.content.decode()
    data = {"relative": mother.pk, "year": premium_year(), **person_id(holder)}
    confirm = client.post(f"/counter/person/{holder.pk}/premium/", data)
    assert "¥380.00" in confirm.content.decode() and not PremiumPayment.objects.exists()  # a confirmation page first
    response = client.post(f"/counter/person/{holder.pk}/premium/", {**data, "step": "confirm"}, follow=True)
    assert "¥380.00" in response.content.decode()
    payment = PremiumPayment.objects.get()
    assert (payment.channel, payment.created_by) == ("counter", counter_assistant)
    event = AuditEvent.objects.get(action="premium.pay")
    assert (event.actor, event.on_behalf_of, event.channel) == (counter_assistant, holder, "counter")


def test_counter_staff_cannot_pay_for_people_of_another_region(client, counter_assistant, outsider, mother):
    credit(outsider, 100_000)
    login_staff(client, counter_assistant)
    response = client.post(f"/counter/person/{outsider.pk}/premium/", {"relative": mother.pk, "year": premium_year(),
                                                                       **person_id(outsider)})
    assert response.status_code == 404
    assert ledger.balance_of(outsider) == 100_000
