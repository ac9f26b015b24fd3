"""Guides are written in Chinese with an English line per step; each reader sees their own."""

import pytest

pytestmark = pytest.mark.django_db


def test_it_shows_only_the_chinese_steps_to_chinese_readers(client):
    page = client.get("/pooling/guides/wechat/").content.decode()
    assert "点“医保亲情支付” → “添加家人”。" in page
    assert "Tap Family payment → Add a family member." not in page


def test_it_adds_the_english_line_for_english_readers(en_client):
    page = en_client.get("/pooling/guides/wechat/").content.decode()
    assert "Tap Family payment → Add a family member." in page
