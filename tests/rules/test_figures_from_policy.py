"""Every figure shown to citizens comes from the region's policy in force (issue 13 item 8)."""

from __future__ import annotations

import datetime

import pytest

from accounts.models import RegionPolicy
from tests.conftest import HAIKOU

pytestmark = pytest.mark.django_db


@pytest.fixture
def haikou_rules(db):
    return RegionPolicy.objects.create(region_id=HAIKOU, effective_from=datetime.date(2021, 1, 1), minor_age=18,
                                       consent_days=5, undo_minutes=15, max_beneficiaries=4, confirmation_days=20)


def page(client, path, language):
    client.cookies["django_language"] = language
    return client.get(path, HTTP_ACCEPT_LANGUAGE=language).content.decode()


def test_pages_show_the_figures_of_the_visitors_region(client, holder, haikou_rules):
    client.force_login(holder.user)
    faq = page(client, "/pooling/questions/", "en")
    assert "a child under 18" in faq and "within 20 days" in faq and "for 15 minutes" in faq
    assert "under 16" not in faq and "10 minutes" not in faq
    how = page(client, "/pooling/how-to/", "en")
    assert "within 5 days" in how and "under 18" in how and "for 15 minutes" in how
    assert "under 18 join at once" in page(client, "/pooling/add/", "en")
    assert "up to 4 relatives" in page(client, "/", "en")


def test_the_figures_read_in_chinese_too(client, holder, haikou_rules):
    client.force_login(holder.user)
    faq = page(client, "/pooling/questions/", "zh-hans")
    assert "未满 18 周岁" in faq and "15 分钟内可以撤销" in faq and "20 天内确认" in faq
    assert "5 天内答复" in page(client, "/pooling/how-to/", "zh-hans")
    assert "最多可绑定 4 名亲属" in page(client, "/", "zh-hans")


def test_visitors_without_a_region_see_the_national_figures(client, haikou_rules):
    home = page(client, "/", "en")
    assert "up to 6 relatives" in home and "under 16" in home
