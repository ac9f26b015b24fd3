"""The guides follow the seed documents (../shared/seeds/), and each reader sees one language.

The key steps of each guide are phrases that literally appear in the seeds; the test reads the
seeds themselves, checks each phrase sequence there (in order, within one passage), and checks the
same sequence in the guide a citizen of that region is shown.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.models import Region
from pooling.guide_data import GUIDES, refresh_guides
from pooling.migrations import _guides_v1
from pooling.models import Guide, GuideStep
from tests.conftest import _in_ci, login_staff

pytestmark = pytest.mark.django_db

REPO_ROOT = Path(__file__).resolve().parents[2]
SEEDS = Path(os.environ.get("PORTAL_SEEDS_DIR") or REPO_ROOT.parent / "shared" / "seeds")

# (purpose, channel, region code or None, [phrase sequences that must appear in this order])
KEY_STEPS = [
    ("pooling", "wechat", None, [
        ["打开微信", "我的", "城市服务", "社保", "医疗保险", "医保码", "医保亲情支付", "添加家人",
         "家人的身份信息", "授权激活家人的电子医保码"],
    ]),
    ("pooling", "wechat_account", None, [
        ["关注", "政务服务", "网上大厅", "医保公共服务平台", "本人职工医保的参保地", "医保电子凭证认证",
         "业务办理", "个人账户共济", "姓名", "社保账号"],
    ]),
    ("pooling", "alipay", None, [
        ["打开支付宝", "市民中心", "医保"],
        ["打开支付宝", "便民生活", "医保", "家庭共济", "医保家庭共济", "提交"],
    ]),
    ("pooling", "national_app", None, [["国家医保服务平台", "职工医保个人账户家庭共济", "绑定家庭成员并授权账户"]]),
    ("pooling", "regional_app", None, [["家庭共济", "添加配偶、子女等家庭成员", "填写身份信息并提交"]]),
    ("pooling", "counter", None, [["身份证", "医保卡"], ["医保大厅"]]),
    ("pooling", "regional_app", "460000", [
        ["打开微信", "海南医保", "小程序", "家庭共济", "创建家庭共济", "办理须知", "我已阅读同意", "确认个人信息",
         "下一步", "人脸识别", "提交申请"],
    ]),
    ("pooling", "regional_app", "360000", [["江西智慧医保", "家庭共济", "家庭账户共济授权"]]),
    ("pooling", "regional_app", "350000", [
        ["福建医疗保障", "医保服务", "业务经办", "家庭共济", "家庭共济办理须知", "创建家庭共济", "划拨金额",
         "创建家庭共济关系", "人像识别", "邀请家庭成员加入"],
        ["闽政通"],
        ["刷卡或扫码使用共济账户资金"],
    ]),
    ("pooling", "regional_app", "110000", [
        ["京通"], ["fw.ybj.beijing.gov.cn"], ["家庭共济", "添加配偶、子女等家庭成员", "填写身份信息并提交"],
    ]),
    ("pooling", "regional_app", "320000", [["苏服办"], ["家庭共济", "添加配偶、子女等家庭成员", "填写身份信息并提交"]]),
    ("premium", "national_app", None, [
        ["国家医保服务平台", "实名认证", "家庭共济", "家庭共济账户代缴居民医保", "绑定家庭成员", "完成缴费"],
    ]),
    ("premium", "regional_app", None, [
        ["泰安医保", "山东税务社保费缴纳", "浙里办", "粤税通"],
        ["绑定近亲属", "本人医保个人账户结余资金"],
    ]),
    ("premium", "regional_app", "460000", [["海南医保", "创建家庭共济", "返回首页", "医保个账缴费"]]),
    ("premium", "regional_app", "320000", [["苏服办"], ["外省近亲属代缴居民医保费"]]),
]

HALF_WIDTH = re.compile(r"[,:;()!?/]")


def _seed_text() -> str:
    if not SEEDS.is_dir():
        if _in_ci():
            pytest.fail(f"The seed documents are missing: {SEEDS}")
        pytest.skip(f"The seed documents are not here ({SEEDS}).")
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt")))


def _in_order(text: str, phrases: list[str], start: int = 0) -> int | None:
    """Where the last phrase ends if all appear in this order from `start`, else None."""
    at = start
    for phrase in phrases:
        found = text.find(phrase, at)
        if found < 0:
            return None
        at = found + len(phrase)
    return at


def _in_one_passage(text: str, phrases: list[str], window: int = 400) -> bool:
    at = text.find(phrases[0])
    while at >= 0:
        end = _in_order(text, phrases, at)
        if end is not None and end - at <= window:
            return True
        at = text.find(phrases[0], at + 1)
    return False


def _in_english(client):
    """The same browser after switching to English (the language cookie)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _shown_text(guide: Guide) -> str:
    return "\n".join([guide.summary, *(step.text for step in guide.steps.all())])


@pytest.mark.parametrize(("purpose", "channel", "region", "sequences"), KEY_STEPS,
                         ids=[f"{p}-{c}-{r or 'national'}" for p, c, r, _ in KEY_STEPS])
def test_each_guide_takes_its_key_steps_from_the_seeds(guides, purpose, channel, region, sequences):
    seeds = _seed_text()
    guide = Guide.objects.one(channel, region, purpose)
    assert guide is not None and guide.region_id == region
    shown = _shown_text(guide)
    for phrases in sequences:
        assert _in_one_passage(seeds, phrases), f"not in this order in the seeds: {phrases}"
        assert _in_order(shown, phrases) is not None, f"guide {guide.title} lacks, in order: {phrases}"


def test_every_seeded_guide_is_checked_against_the_seeds():
    assert {(p, c, r) for p, c, r, _ in KEY_STEPS} == set(GUIDES)


def test_the_alipay_guide_adds_the_relative_not_the_holder(guides):
    alipay = _shown_text(Guide.objects.one("alipay", None))
    assert "添加共济人" not in alipay and "被共济人" in alipay


def test_the_wechat_guide_warns_that_family_payment_is_not_the_family_account(guides, client):
    wechat = Guide.objects.one("wechat", "460100")
    assert "亲情账户" in wechat.note and "家庭共济" in wechat.note
    page = client.get(reverse("pooling:guide", args=["wechat"])).content.decode()
    assert "花的是家人自己的医保钱" in page and "授权激活家人的电子医保码" in page
    english = _in_english(client).get(reverse("pooling:guide", args=["wechat"])).content.decode()
    assert "spends the relative&#x27;s own money" in english


def test_every_guide_has_its_text_in_both_languages_and_chinese_punctuation(guides):
    for guide in Guide.objects.prefetch_related("steps"):
        assert guide.title and guide.title_en and guide.summary and guide.summary_en, guide.title
        assert bool(guide.note) == bool(guide.note_en), guide.title
        for zh in (guide.title, guide.summary, guide.note, *(s.text for s in guide.steps.all())):
            assert not HALF_WIDTH.search(zh), zh
        assert all(s.detail for s in guide.steps.all()), guide.title
        assert guide.title_en[0].isascii() and guide.summary_en[0].isascii(), guide.title_en


def test_chinese_pages_show_only_chinese_titles_and_english_pages_english_ones(guides, client):
    counter = Guide.objects.one("counter", None)
    zh = client.get(reverse("pooling:guides")).content.decode()
    assert counter.title in zh and counter.title_en not in zh
    assert "At a service counter" not in zh and "No smartphone needed" not in zh
    assert "到医保大厅的适老化窗口" in zh and "Go to the elderly-assist counter" not in zh
    en = _in_english(client).get(reverse("pooling:guides")).content.decode()
    assert counter.title_en in en and counter.title not in en
    assert "Go to the elderly-assist counter" in en and "到医保大厅的适老化窗口" not in en


def test_a_region_sees_its_own_guide_in_its_language(guides, client):
    url = reverse("pooling:guide", args=["regional_app"])
    zh = client.get(url, {"region": "460100"}).content.decode()
    assert "“海南医保”微信小程序" in zh and "我已阅读同意" in zh and "添加就诊人" in zh
    en = _in_english(client).get(url, {"region": "460100"}).content.decode()
    assert "Hainan: the 海南医保 WeChat mini program" in en and "I have read and agree (我已阅读同意)" in en
    beijing = client.get(url, {"region": "110105"}).content.decode()
    assert "京通" in beijing and "fw.ybj.beijing.gov.cn" in beijing
    jiangsu = client.get(url, {"region": "320500"}).content.decode()
    assert "苏服办" in jiangsu


def test_the_premium_guides_are_listed_and_printable(guides, client):
    page = client.get(reverse("pooling:guides")).content.decode()
    assert "家庭共济账户代缴居民医保" in page and reverse("payments:premiums") in page
    url = reverse("pooling:premium-guide", args=["national_app"])
    assert url in page
    printable = client.get(url, {"print": "1"}).content.decode()
    assert "print-page" in printable and "完成缴费" in printable
    hainan = client.get(reverse("pooling:premium-guide", args=["regional_app"]), {"region": "460100"})
    assert "医保个账缴费" in hainan.content.decode()
    english = _in_english(client).get(url).content.decode()
    assert "pay a relative&#x27;s resident insurance premium" in english and "Check the amount" in english
    assert client.get(reverse("pooling:premium-guide", args=["counter"])).status_code == 404
    assert client.get(reverse("pooling:premium-guide", args=["nope"])).status_code == 404


def test_the_migration_replaces_unedited_guides_and_keeps_edited_ones(guides):
    Guide.objects.all().delete()
    _guides_v1.seed_guides(Guide, GuideStep, Region)
    edited = Guide.objects.get(channel="counter", region__isnull=True)
    edited.title = "到本局一楼窗口办理"
    edited.save()
    kept = refresh_guides(Guide, GuideStep, Region, _guides_v1.NATIONAL, _guides_v1.REGIONAL_APPS)
    assert [g.pk for g in kept] == [edited.pk]
    edited.refresh_from_db()
    assert edited.title == "到本局一楼窗口办理" and edited.steps.count() == 4
    wechat = Guide.objects.get(channel="wechat", region__isnull=True)
    assert wechat.title_en and "授权激活家人的电子医保码" in _shown_text(wechat)
    hainan = Guide.objects.get(channel="regional_app", region_id="460000", purpose="pooling")
    assert hainan.title.startswith("“海南医保”微信小程序") and hainan.steps.count() == 6
    assert Guide.objects.filter(purpose="premium").count() == 4
    assert Guide.objects.filter(channel="wechat_account").exists()


def test_a_fresh_database_holds_the_corrected_guides():
    """Migration 0007 ran on the test database: no fixture re-seeds here."""
    wechat = Guide.objects.filter(channel="wechat", region__isnull=True, purpose="pooling").first()
    if wechat is None:
        pytest.skip("A transactional test before this one flushed the migration's rows.")
    assert wechat.title_en and wechat.steps.filter(text__contains="授权激活").exists()


def test_bureau_staff_add_a_regional_guide_in_both_languages_in_admin(client, bureau_clerk, guides):
    login_staff(client, bureau_clerk)
    form = client.get(reverse("admin:pooling_guide_add")).content.decode()
    assert 'name="title_en"' in form and 'name="summary_en"' in form and 'name="note_en"' in form
    response = client.post(reverse("admin:pooling_guide_add"), {
        "purpose": "pooling", "channel": "counter", "region": "460000", "app_name": "海口市医保服务大厅",
        "title": "到海口市医保服务大厅办理", "summary": "一楼有适老化窗口。", "note": "",
        "title_en": "At the Haikou service hall", "summary_en": "The elderly-assist counter is on the ground floor.",
        "note_en": "",
        "steps-TOTAL_FORMS": "1", "steps-INITIAL_FORMS": "0", "steps-MIN_NUM_FORMS": "0", "steps-MAX_NUM_FORMS": "1000",
        "steps-0-position": "1", "steps-0-text": "带上身份证和医保卡。", "steps-0-detail": "Bring your ID card and insurance card.",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    url = reverse("pooling:guide", args=["counter"])
    haikou = client.get(url, {"region": "460100"}).content.decode()
    assert "到海口市医保服务大厅办理" in haikou and "带上身份证和医保卡。" in haikou
    assert "At the Haikou service hall" not in haikou
    beijing = client.get(url, {"region": "110105"}).content.decode()
    assert "到医保服务大厅窗口办理" in beijing and "海口" not in beijing
    english = _in_english(client).get(url, {"region": "460100"}).content.decode()
    assert "At the Haikou service hall" in english and "Bring your ID card and insurance card." in english
