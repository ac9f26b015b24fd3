"""The questions the seed documents ask are answered on the FAQ page, in both languages, in line with the seeds."""

from __future__ import annotations

import html

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.models import RegionPolicy

from .test_guide_seeds import _seed_text

pytestmark = pytest.mark.django_db

# (question, words of the answer) as a Chinese reader sees them
CHINESE = [
    ("家人能共用我的门诊统筹吗？", ["不能。", "只限您本人当年使用", "个人账户的余额"]),
    ("我能把医保卡借给家人用吗？", ["不能。", "实名就医", "欺诈骗保", "家人出示自己的卡"]),
    ("家人能用社保卡付钱吗？", ["能。", "自己的社保卡", "医保电子凭证的动态码", "不是您的卡"]),
    ("家人在外地看病（异地就医），共济的钱能用吗？", ["参保地的政策规定", "跨省使用", "异地就医备案", "再回参保地报销"]),
    ("可以与谁共享？", ["配偶的父母一般不算"]),
]
ENGLISH = [
    ("Can my family share my outpatient benefit (门诊统筹)?", ["No.", "for you alone, each year",
                                                             "Only the balance of your personal account"]),
    ("Can I lend my medical insurance card to a relative?", ["No.", "insurance fraud",
                                                            "your relative shows their own card"]),
    ("Can my relative pay with their social security card (社保卡)?", ["Yes.", "their own social security card",
                                                                      "It must be their own card, not yours."]),
    ("Does the pooled money work when my relative is treated in another place (异地就医)?",
     ["where you are insured allow", "another province", "(异地就医备案)", "claim the money back"]),
    ("Who can I share with?", ["Your spouse's parents usually do not count"]),
]


def _faq(client, **params) -> str:
    return html.unescape(client.get(reverse("pooling:faq"), params).content.decode())


def test_chinese_readers_get_the_four_answers_in_chinese_only(client):
    page = _faq(client)
    for question, words in CHINESE:
        at = page.index(question)
        answer = page[at:page.index("</dd>", at)]
        for word in words:
            assert word in answer, (question, word)
    for question, _ in ENGLISH:
        assert question not in page
    assert "部分地区还包括配偶父母" not in page


def test_english_readers_get_the_four_answers_in_english_only(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = _faq(client)
    for question, words in ENGLISH:
        at = page.index(question)
        answer = page[at:page.index("</dd>", at)]
        for word in words:
            assert word in answer, (question, word)
    for question, _ in CHINESE:
        assert question not in page
    assert "in some places also your spouse's parents" not in page


def test_the_answers_agree_with_the_seeds():
    seeds = _seed_text()
    for phrase in ["门诊统筹家人不能共用", "仅限参保人本人当年使用", "医保卡本身不可直接借给他人使用", "欺诈骗保",
                   "出示医保电子凭证动态码或社会保障卡", "家庭共济资金可跨省使用", "需满足参保地政策规定",
                   "异地就医需提前在参保地医保中心完成备案", "不包括配偶的父母", "16周岁以下的子女可自动加入"]:
        assert phrase in seeds, phrase


def test_ages_days_and_minutes_are_those_of_the_readers_region(client):
    RegionPolicy.objects.create(region_id="460000", minor_age=14, consent_days=5, undo_minutes=15)
    hainan = _faq(client, region="460100")
    assert "添加未满 14 周岁的孩子时" in hainan and "15 分钟内可以撤销" in hainan
    national = _faq(client)
    default = RegionPolicy.national_default()
    assert f"添加未满 {default.minor_age} 周岁的孩子时" in national and "14 周岁" not in national
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    how_to = html.unescape(client.get(reverse("pooling:how-to"), {"region": "460100"}).content.decode())
    assert "usually answers within 5 days" in how_to and "Children under 14 join at once" in how_to
    assert "undo it for 15 minutes" in how_to
