"""Guides are written in Chinese and in English; each reader sees their own language only."""

import pytest

pytestmark = pytest.mark.django_db


def test_it_shows_only_the_chinese_steps_to_chinese_readers(client, guides):
    page = client.get("/pooling/guides/wechat/").content.decode()
    assert "点击“医保亲情支付”，选择“添加家人”。" in page
    assert "Tap 医保亲情支付 (family payment)" not in page
    assert "微信“城市服务”" in page and "WeChat City services" not in page


def test_it_shows_only_the_english_steps_to_english_readers(en_client, guides):
    page = en_client.get("/pooling/guides/wechat/").content.decode()
    assert "Tap 医保亲情支付 (family payment) and choose Add a family member (添加家人)." in page
    assert "点击“医保亲情支付”，选择“添加家人”。" not in page
    assert "WeChat City services" in page and "微信“城市服务”" not in page


def test_a_step_without_english_falls_back_to_chinese(en_client, guides):
    from pooling.models import Guide

    step = Guide.objects.one("counter", None).steps.first()
    step.detail = ""
    step.save()
    assert step.text in en_client.get("/pooling/guides/counter/").content.decode()
