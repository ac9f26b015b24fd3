"""Issue 14 item 6: the relative's payments on their page (for the holder), and what the relative
may still use from each holder (on the relative's page)."""

from __future__ import annotations

import itertools

import pytest
from django.urls import reverse

from payments.models import Institution
from payments.settlement import refund, settle
from payments.vouchers import issue_voucher
from pooling.models import BindingStatus
from tests.conftest import make_citizen, make_person

from .conftest import credit, make_binding, spend

pytestmark = pytest.mark.django_db
_refs = itertools.count(1)


def pharmacy(region: str) -> Institution:
    institution, _ = Institution.objects.get_or_create(
        code="P-1", defaults={"name": "海口大药房", "kind": "pharmacy", "region_id": region})
    return institution


def pay(patient, amount_fen: int, category: str = "pharmacy_drug"):
    _voucher, code = issue_voucher(patient)
    return settle(pharmacy(patient.region_id), code, category, amount_fen, f"ref-{next(_refs)}")


def login(client, person, language="en"):
    client.cookies["django_language"] = language
    client.force_login(person.user)
    return client


def test_the_holder_sees_the_relatives_payments_on_their_page(client, holder, mother):
    credit(holder, 100_000)
    binding = make_binding(holder, mother)
    first = pay(mother, 12_300)
    pay(mother, 4_500)
    refund(pharmacy(mother.region_id), first.settlement.pk, 2_000)
    html = login(client, holder).get(reverse("pooling:binding", args=[binding.pk])).content.decode()
    section = html[html.index('id="binding-payments"'):html.index('id="binding-history"')]
    assert "Payments for 李秀英 from my account" in section
    assert section.count("海口大药房") == 2
    assert "¥123.00" in section and "¥45.00" in section and "¥20.00" in section  # the refund
    zh = login(client, holder, "zh-hans").get(reverse("pooling:binding", args=[binding.pk])).content.decode()
    assert "我的账户为李秀英支付的费用" in zh
    # The relative does not see the holder's payment list on the same page.
    mine = login(client, mother).get(reverse("pooling:binding", args=[binding.pk])).content.decode()
    assert 'id="binding-payments"' not in mine


def test_the_binding_page_with_no_payments_says_so(client, holder, mother):
    binding = make_binding(holder, mother)
    html = login(client, holder).get(reverse("pooling:binding", args=[binding.pk])).content.decode()
    assert "Nothing has been paid for 李秀英 from your account yet." in html


def test_the_binding_page_costs_the_same_queries_for_many_payments(client, holder, mother,
                                                                  django_assert_max_num_queries):
    credit(holder, 100_000)
    binding = make_binding(holder, mother)
    pay(mother, 100)
    url = reverse("pooling:binding", args=[binding.pk])
    login(client, holder)
    with django_assert_max_num_queries(60) as few:
        client.get(url)
    for _ in range(5):
        pay(mother, 100)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(url).content.decode()
    assert html.count("海口大药房") == 6


def test_the_relative_sees_what_is_left_from_each_holder(client, holder, mother):
    daughter = make_person("张丽", birth="1978-06-06", sex="F", phone="13800000009")
    make_citizen(daughter)
    credit(holder, 300_000)
    credit(daughter, 50_000)
    make_binding(holder, mother, monthly_cap_fen=50_000, annual_cap_fen=200_000)
    make_binding(daughter, mother, "parent", reserve_fen=20_000, status=BindingStatus.PAUSED)
    spend(holder, mother, 12_000)
    html = login(client, mother).get(reverse("portal:dashboard")).content.decode()
    table = html[html.index('data-testid="allowances"'):]
    table = table[:table.index("</table>")]
    first, second = table.split("<tr>")[2:4]
    assert "张伟" in first and "¥380.00" in first and "¥1,880.00" in first and "¥2,880.00" in first
    assert "张丽" in second and "no monthly limit" in second and "¥300.00" in second
    assert "¥200.00 is kept for the holder" in second and "Paused" in second
    zh = login(client, mother, "zh-hans").get(reverse("portal:dashboard")).content.decode()
    assert "我还能用多少" in zh and "本月剩余额度" in zh and "（为账户本人保留 ¥200.00）" in zh


def test_the_allowances_cost_a_fixed_number_of_queries(client, mother, django_assert_max_num_queries):
    holders = []
    for i in range(4):
        person = make_person(f"子女{i}", birth="1980-01-01", phone=f"1380000010{i}")
        credit(person, 10_000)
        holders.append(person)
    # (No caps: the payment preview reads each cap's spending itself; the allowances must not.)
    make_binding(holders[0], mother, reserve_fen=1_000)
    login(client, mother)
    with django_assert_max_num_queries(60) as one:
        client.get(reverse("portal:dashboard"))
    for person in holders[1:]:
        make_binding(person, mother, "parent", reserve_fen=1_000)
    with django_assert_max_num_queries(len(one.captured_queries) + 1):  # + the deduction order
        html = client.get(reverse("portal:dashboard")).content.decode()
    assert html.count("no monthly limit") == 4
