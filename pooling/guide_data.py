"""The text of the guides (SPEC §3), taken from the seed documents in ../shared/seeds/.

Each guide has its title, summary and note in Chinese and in English, and its steps as
(Chinese, English) pairs; the English steps keep the Chinese button names in brackets, since the
apps themselves are in Chinese. Keys are (purpose, channel, region code or None): None is the
national text, a province code the text for that province. Bureau staff edit the rows in admin;
`seed_guides` only creates rows that are missing, and migration 0007 replaced the first
version's rows that nobody had edited (see `refresh_guides`).
"""

from __future__ import annotations

from typing import Any

POOLING = "pooling"
PREMIUM = "premium"

WECHAT_NOTE = (
    "请注意：“医保亲情支付”的名字和“亲情账户”很像，但亲情账户只是帮家人出示医保码，花的是家人自己的医保钱；"
    "家庭共济才是让家人用您个人账户的余额。办完后请看页面上写的是不是“家庭共济”或“共济”；"
    "如果只看到“亲情账户”，那还不是家庭共济，请改用当地医保公众号、国家医保服务平台 App，或到窗口办理。"
)
WECHAT_NOTE_EN = (
    "Take care: 医保亲情支付 (family payment) sounds like the family account (亲情账户), but the family "
    "account only lets you show a relative's medical insurance code and spends the relative's own money. "
    "Family pooling is what lets your relative spend your personal-account balance. When you have finished, "
    "check that the page says 家庭共济 (family pooling) or 共济. If it only says 亲情账户, it is not family "
    "pooling: use your local bureau's official account, the national app or a counter instead."
)

GUIDES: dict[tuple[str, str, str | None], dict[str, Any]] = {
    # ---- setting up family pooling, national text ----
    (POOLING, "wechat", None): {
        "title": "微信“城市服务”：医保码 → 医保亲情支付 → 添加家人",
        "title_en": "WeChat City services: medical insurance code → 医保亲情支付 → add a family member",
        "summary": "在微信的“城市服务”里添加家人，并授权激活家人的电子医保码。",
        "summary_en": "Add your relative in WeChat's City services and activate their medical insurance e-voucher.",
        "note": WECHAT_NOTE,
        "note_en": WECHAT_NOTE_EN,
        "app_name": "微信",
        "steps": [
            ("打开微信，点击“我的”，选择“城市服务”。", "Open WeChat, tap Me (我的) and choose City services (城市服务)."),
            ("在城市服务中找到并点击“社保”。", "In City services, find and tap Social security (社保)."),
            ("进入社保后，找到“医疗保险”中的“医保码”。",
             "Under Medical insurance (医疗保险), open the medical insurance code (医保码)."),
            ("点击“医保亲情支付”，选择“添加家人”。",
             "Tap 医保亲情支付 (family payment) and choose Add a family member (添加家人)."),
            ("输入家人的身份信息（姓名、身份证号）。", "Enter your relative's identity details (name and ID number)."),
            ("完成授权激活家人的电子医保码，从而与家人绑定医保共济账户。",
             "Complete the authorisation that activates your relative's medical insurance e-voucher; "
             "this links your relative to your pooled account."),
            ("最后核对：页面上写的是“家庭共济”（见下面的提醒）。",
             "Finally, check that the page says 家庭共济 (family pooling); see the note below."),
        ],
    },
    (POOLING, "wechat_account", None): {
        "title": "当地医保微信公众号：医保公共服务平台 → 个人账户共济",
        "title_en": "Your local bureau's WeChat official account: public service platform → personal account pooling",
        "summary": "关注当地医保局的微信公众号，在医保公共服务平台里办理。",
        "summary_en": "Follow your local medical insurance bureau's WeChat official account and apply on its "
                      "public service platform.",
        "note": "", "note_en": "",
        "app_name": "微信公众号",
        "steps": [
            ("打开微信，关注当地医保局的微信公众号。",
             "Open WeChat and follow your local medical insurance bureau's official account."),
            ("选择“政务服务” → “网上大厅”，登录医保公共服务平台。",
             "Choose Government services (政务服务) → Online hall (网上大厅) and log in to the medical "
             "insurance public service platform (医保公共服务平台)."),
            ("在左上角选择本人职工医保的参保地。", "At the top left, choose the place where you have employee medical insurance."),
            ("完成医保电子凭证认证。", "Verify yourself with your medical insurance e-voucher (医保电子凭证)."),
            ("在业务办理界面选择“个人账户共济”。", "On the services page (业务办理), choose Personal account pooling (个人账户共济)."),
            ("按照页面提示输入家人的姓名、社保账号，提交。",
             "Follow the page: enter your relative's name and social security number (社保账号), and submit."),
        ],
    },
    (POOLING, "alipay", None): {
        "title": "支付宝：市民中心（或便民生活）→ 医保 → 家庭共济",
        "title_en": "Alipay: Citizen centre (or Convenient living) → Medical insurance → Family pooling",
        "summary": "在支付宝的医保服务里，添加要用您余额的家人。",
        "summary_en": "In Alipay's medical insurance service, add the relative who will use your balance.",
        "note": "您添加的是家人（被共济人，也就是用您余额的人），不是您自己。",
        "note_en": "The person you add is your relative (the one who will use your balance, 被共济人), not yourself.",
        "app_name": "支付宝",
        "steps": [
            ("打开支付宝，点击首页的“市民中心”；也可以打开“便民生活”中的“医保”。",
             "Open Alipay and tap Citizen centre (市民中心) on the home page, or open Medical insurance (医保) "
             "under Convenient living (便民生活)."),
            ("选择“医保”服务，点击“家庭共济”。", "Choose the Medical insurance (医保) service and tap Family pooling (家庭共济)."),
            ("选择“医保家庭共济”。", "Choose Medical insurance family pooling (医保家庭共济)."),
            ("添加要共济的家人（被共济人），按照步骤填写家人的信息。",
             "Add the relative who will use your balance (被共济人) and fill in their details as the steps ask."),
            ("核对信息，提交即可。", "Check the details and submit."),
        ],
    },
    (POOLING, "national_app", None): {
        "title": "国家医保服务平台 App：职工医保个人账户家庭共济",
        "title_en": "National Medical Insurance Service Platform app: employee personal account family pooling",
        "summary": "国家医保局的官方 App，全国都能用。",
        "summary_en": "The national medical insurance app; it works everywhere in the country.",
        "note": "", "note_en": "",
        "app_name": "国家医保服务平台",
        "steps": [
            ("下载“国家医保服务平台” App（或登录官网），实名登录。",
             "Install the 国家医保服务平台 app (or use its website) and log in with your real name."),
            ("进入“职工医保个人账户家庭共济”功能模块。",
             "Open Employee personal account family pooling (职工医保个人账户家庭共济)."),
            ("添加家庭成员，填写身份信息并提交。", "Add your family member, fill in their identity details and submit."),
            ("按提示绑定家庭成员并授权账户。", "Follow the prompts to bind your family member and authorise your account."),
            ("审核通过后，家人即可在定点医疗机构和定点零售药店使用共济账户资金。",
             "Once approved, your relative can pay with the pooled money at designated hospitals and pharmacies."),
        ],
    },
    (POOLING, "regional_app", None): {
        "title": "本地医保 App、小程序或网站：家庭共济",
        "title_en": "Your region's medical insurance app, mini program or website: family pooling",
        "summary": "很多地方有自己的医保 App、小程序或网站，例如“海南医保”“江西智慧医保”“福建医疗保障”“闽政通”"
                   "“苏服办”，北京的“京通”。",
        "summary_en": "Many regions have their own app, mini program or website, for example 海南医保, "
                      "江西智慧医保, 福建医疗保障 / 闽政通, 苏服办, and 京通 in Beijing.",
        "note": "", "note_en": "",
        "app_name": "",
        "steps": [
            ("打开当地医保部门的官方 App、小程序或官网，实名登录。",
             "Open your local bureau's official app, mini program or website and log in with your real name."),
            ("搜索“家庭共济”功能模块。", "Search for Family pooling (家庭共济)."),
            ("添加配偶、子女等家庭成员，填写身份信息并提交。",
             "Add your spouse, child or other close relative, fill in their identity details and submit."),
            ("提交审核通过后，家人即可使用共济账户资金。", "Once approved, your relative can use the pooled money."),
        ],
    },
    (POOLING, "counter", None): {
        "title": "到医保服务大厅窗口办理",
        "title_en": "At a medical insurance service counter",
        "summary": "不会用手机也没关系：到线下医保大厅的适老化窗口，工作人员帮您办好。",
        "summary_en": "No smartphone needed: at the elderly-assist counter of a medical insurance service hall, "
                      "staff set it up for you.",
        "note": "", "note_en": "",
        "app_name": "医保服务大厅",
        "steps": [
            ("带上：双方的身份证、医保卡（或医保电子凭证）、关系证明（户口簿、结婚证或出生证明）。",
             "Bring: both ID cards, both medical insurance cards (or e-vouchers), and proof of the relationship "
             "(household register, marriage or birth certificate)."),
            ("最好和家人一起去；家人来不了，请带上家人签字的授权书。",
             "Best go together; if your relative cannot come, bring their signed authorisation."),
            ("到医保大厅的适老化窗口，告诉工作人员要办理“家庭共济”。",
             "Go to the elderly-assist counter of the service hall and ask for family pooling (家庭共济)."),
            ("工作人员核对证件后当场办好；家人在场的，可以当场确认。",
             "Staff check the documents and set it up on the spot; if your relative is there, they confirm at once."),
        ],
    },
    # ---- setting up family pooling, regional text ----
    (POOLING, "regional_app", "460000"): {
        "title": "“海南医保”微信小程序：家庭共济 → 创建家庭共济",
        "title_en": "Hainan: the 海南医保 WeChat mini program: 家庭共济 → 创建家庭共济",
        "summary": "“海南医保”是微信里的小程序，不用另外下载 App。",
        "summary_en": "The 海南医保 mini program runs inside WeChat; there is no separate app to install.",
        "note": "在“医保支付”里“添加就诊人”，绑定的是亲情账户，不是家庭共济。办理家庭共济请走“家庭共济”入口。",
        "note_en": "Adding a patient (添加就诊人) under 医保支付 binds a family account (亲情账户), not family pooling. "
                   "For family pooling, use the 家庭共济 entry, as in the steps above.",
        "app_name": "海南医保",
        "steps": [
            ("打开微信，搜索并进入“海南医保”小程序。", "Open WeChat, search for the 海南医保 mini program and open it."),
            ("在小程序首页，点击“家庭共济”，然后选择“创建家庭共济”。",
             "On its home page, tap Family pooling (家庭共济), then Create family pooling (创建家庭共济)."),
            ("阅读“办理须知”，点击“我已阅读同意”。", "Read the notes (办理须知) and tap I have read and agree (我已阅读同意)."),
            ("确认个人信息无误后，点击“下一步”。", "Check your personal details and tap Next (下一步)."),
            ("进行人脸识别验证。", "Complete the face recognition check (人脸识别)."),
            ("按照提示填写相关信息（要共济的家人），最后点击“提交申请”。",
             "Fill in the details of your relative as prompted, then tap Submit (提交申请)."),
        ],
    },
    (POOLING, "regional_app", "360000"): {
        "title": "“江西智慧医保” App：家庭共济 → 家庭账户共济授权",
        "title_en": "Jiangxi: the 江西智慧医保 app: 家庭共济 → 家庭账户共济授权",
        "summary": "江西可以用“江西智慧医保” App 办理。",
        "summary_en": "In Jiangxi you can use the 江西智慧医保 app.",
        "note": "", "note_en": "",
        "app_name": "江西智慧医保",
        "steps": [
            ("下载并打开“江西智慧医保” App，实名登录。", "Install and open the 江西智慧医保 app and log in with your real name."),
            ("点击“家庭共济”。", "Tap Family pooling (家庭共济)."),
            ("选择“家庭账户共济授权”。", "Choose Family account pooling authorisation (家庭账户共济授权)."),
            ("添加家庭成员，填写身份信息并提交，完成绑定。",
             "Add your family member, fill in their identity details and submit to finish."),
        ],
    },
    (POOLING, "regional_app", "350000"): {
        "title": "福建：“福建医疗保障”小程序或“闽政通” App：医保服务 → 家庭共济 → 创建家庭共济",
        "title_en": "Fujian: the 福建医疗保障 mini program or the 闽政通 app: 医保服务 → 家庭共济 → 创建家庭共济",
        "summary": "福建可以用“福建医疗保障”微信小程序、“闽政通” App，或当地医保微信公众号（例如“泉州医疗保障”）。",
        "summary_en": "In Fujian you can use the 福建医疗保障 WeChat mini program, the 闽政通 app, or your city's "
                      "medical insurance official account (for example 泉州医疗保障).",
        "note": "", "note_en": "",
        "app_name": "福建医疗保障",
        "steps": [
            ("登录“福建医疗保障”微信小程序、“闽政通” App，或当地医保微信公众号（例如“泉州医疗保障”）。",
             "Log in to the 福建医疗保障 WeChat mini program, the 闽政通 app, or your city's official account "
             "(for example 泉州医疗保障)."),
            ("点击“医保服务”，在业务经办栏目中，点击“家庭共济”。",
             "Tap Medical insurance services (医保服务), and under 业务经办 tap Family pooling (家庭共济)."),
            ("仔细阅读《家庭共济办理须知》后，点击“创建家庭共济”。",
             "Read the notes (家庭共济办理须知) carefully, then tap Create family pooling (创建家庭共济)."),
            ("填写个人信息，输入划拨金额（也可不输入划拨金额）。",
             "Fill in your details and, if you like, an amount to set aside (划拨金额); you may leave it empty."),
            ("点击“创建家庭共济关系”并进行人像识别，完成操作。",
             "Tap 创建家庭共济关系 (create the pooling relationship) and complete the face check (人像识别)."),
            ("然后邀请家庭成员加入。", "Then invite your family members to join."),
            ("家人在定点医药机构就医或购药时，可直接刷卡或扫码使用共济账户资金。",
             "Your relatives then pay at designated hospitals and pharmacies by card or by scanning the code, "
             "using the pooled money."),
        ],
    },
    (POOLING, "regional_app", "110000"): {
        "title": "北京：“京通”小程序或北京医保公共服务平台：家庭共济",
        "title_en": "Beijing: the 京通 mini program or the Beijing medical insurance public service platform",
        "summary": "北京可以通过“京通”小程序，或北京医保公共服务平台（fw.ybj.beijing.gov.cn）办理。按钮名称以页面为准。",
        "summary_en": "In Beijing you can use the 京通 mini program or the Beijing medical insurance public service "
                      "platform (fw.ybj.beijing.gov.cn). Button names may differ slightly.",
        "note": "", "note_en": "",
        "app_name": "京通",
        "steps": [
            ("打开“京通”小程序，或访问北京医保公共服务平台 fw.ybj.beijing.gov.cn，实名登录。",
             "Open the 京通 mini program, or visit fw.ybj.beijing.gov.cn, and log in with your real name."),
            ("搜索“家庭共济”功能模块。", "Search for Family pooling (家庭共济)."),
            ("添加配偶、子女等家庭成员，填写身份信息并提交。",
             "Add your spouse, child or other close relative, fill in their identity details and submit."),
            ("提交审核通过后，家人即可在定点医疗机构使用共济账户资金。",
             "Once approved, your relative can pay with the pooled money at designated hospitals."),
        ],
    },
    (POOLING, "regional_app", "320000"): {
        "title": "江苏：“苏服办” App：家庭共济",
        "title_en": "Jiangsu: the 苏服办 app: family pooling",
        "summary": "江苏可以用“苏服办” App 办理。按钮名称以页面为准。",
        "summary_en": "In Jiangsu you can use the 苏服办 app. Button names may differ slightly.",
        "note": "", "note_en": "",
        "app_name": "苏服办",
        "steps": [
            ("下载并打开“苏服办” App，实名登录。", "Install and open the 苏服办 app and log in with your real name."),
            ("搜索“家庭共济”功能模块。", "Search for Family pooling (家庭共济)."),
            ("添加配偶、子女等家庭成员，填写身份信息并提交。",
             "Add your spouse, child or other close relative, fill in their identity details and submit."),
            ("提交审核通过后，家人即可使用共济账户资金。", "Once approved, your relative can use the pooled money."),
        ],
    },
    # ---- paying a relative's resident insurance premium (代缴), national text ----
    (PREMIUM, "national_app", None): {
        "title": "国家医保服务平台 App：家庭共济账户代缴居民医保",
        "title_en": "National app: pay a relative's resident insurance premium from your account",
        "summary": "用您职工医保个人账户的余额，为已绑定的近亲属缴纳城乡居民医保费。",
        "summary_en": "Use your employee personal-account balance to pay the urban-rural resident insurance "
                      "premium of a close relative bound to you.",
        "note": "只能为已经和您绑定家庭共济、参加城乡居民医保的近亲属代缴。",
        "note_en": "You can pay only for a close relative who has urban-rural resident insurance and is already "
                   "bound to you by family pooling.",
        "app_name": "国家医保服务平台",
        "steps": [
            ("打开“国家医保服务平台” App，实名认证后登录。", "Open the 国家医保服务平台 app and log in after the real-name check."),
            ("进入“家庭共济”功能模块。", "Open Family pooling (家庭共济)."),
            ("选择“家庭共济账户代缴居民医保”。", "Choose 家庭共济账户代缴居民医保 (pay resident insurance from the pooling account)."),
            ("按提示绑定家庭成员；已经绑定的，直接选择这位家人。",
             "Follow the prompts to bind the family member; if already bound, just choose them."),
            ("核对金额，完成缴费。", "Check the amount and complete the payment."),
        ],
    },
    (PREMIUM, "regional_app", None): {
        "title": "本地医保或税务 App、小程序：代缴居民医保费",
        "title_en": "Your region's medical insurance or tax app: pay a relative's resident insurance premium",
        "summary": "各地的缴费入口不同，例如山东的“泰安医保”“山东税务社保费缴纳”小程序、浙江的“浙里办”微信小程序、"
                   "广东的“粤税通”小程序。",
        "summary_en": "Each region has its own place to pay, for example the 泰安医保 and 山东税务社保费缴纳 mini "
                      "programs in Shandong, 浙里办 in Zhejiang and 粤税通 in Guangdong.",
        "note": "只能为已经和您绑定家庭共济、参加城乡居民医保的近亲属代缴。",
        "note_en": "You can pay only for a close relative who has urban-rural resident insurance and is already "
                   "bound to you by family pooling.",
        "app_name": "",
        "steps": [
            ("先在本人的医保个人账户上绑定近亲属（办理家庭共济）。",
             "First bind the close relative to your personal account (set up family pooling)."),
            ("打开当地的医保或税务缴费 App、小程序，实名认证后进入“家庭共济”。",
             "Open your region's medical insurance or tax payment app or mini program, pass the real-name check "
             "and open Family pooling (家庭共济)."),
            ("选择为家人代缴居民医保费，选择已绑定的家人。",
             "Choose to pay a relative's resident insurance premium and pick the bound relative."),
            ("确认用本人医保个人账户结余资金缴费，完成缴费。",
             "Confirm that the balance of your personal account pays, and complete the payment."),
        ],
    },
    # ---- paying a relative's premium, regional text ----
    (PREMIUM, "regional_app", "460000"): {
        "title": "“海南医保”微信小程序：医保个账缴费",
        "title_en": "Hainan: the 海南医保 WeChat mini program: pay from your personal account (医保个账缴费)",
        "summary": "先在“海南医保”小程序里创建家庭共济，再用您的个人账户为家人缴费。",
        "summary_en": "First create family pooling in the 海南医保 mini program, then pay for your relative "
                      "from your personal account.",
        "note": "只能为已经和您绑定家庭共济、参加城乡居民医保的近亲属代缴。",
        "note_en": "You can pay only for a close relative who has urban-rural resident insurance and is already "
                   "bound to you by family pooling.",
        "app_name": "海南医保",
        "steps": [
            ("打开微信，搜索并进入“海南医保”小程序。", "Open WeChat, search for the 海南医保 mini program and open it."),
            ("还没有共济关系的，先点击“家庭共济” → “创建家庭共济”，按海南医保的办理指南完成。",
             "If you are not pooling yet, first tap 家庭共济 → 创建家庭共济 and follow the Hainan guide."),
            ("家庭共济账户创建成功后，返回首页，选择“医保个账缴费”。",
             "Once family pooling is set up, go back to the home page and choose 医保个账缴费 (pay from your "
             "personal account)."),
            ("按照提示选择要缴费的家人，核对金额后提交。",
             "Follow the prompts: choose the relative, check the amount and submit."),
        ],
    },
    (PREMIUM, "regional_app", "320000"): {
        "title": "江苏：“苏服办” App：为家人代缴居民医保费",
        "title_en": "Jiangsu: the 苏服办 app: pay a relative's resident insurance premium",
        "summary": "江苏允许职工医保个人账户为外省近亲属代缴居民医保费。",
        "summary_en": "Jiangsu lets you pay the resident insurance premium of close relatives insured in other "
                      "provinces from your employee personal account.",
        "note": "只能为已经和您绑定家庭共济、参加城乡居民医保的近亲属代缴。",
        "note_en": "You can pay only for a close relative who has urban-rural resident insurance and is already "
                   "bound to you by family pooling.",
        "app_name": "苏服办",
        "steps": [
            ("下载并打开“苏服办” App，实名认证后登录。", "Install and open the 苏服办 app and log in after the real-name check."),
            ("搜索“家庭共济”，选择为家人代缴居民医保费。",
             "Search for Family pooling (家庭共济) and choose to pay a relative's resident insurance premium."),
            ("选择已绑定的家人（在外省参保的近亲属也可以），核对金额。",
             "Choose the bound relative (relatives insured in another province are allowed) and check the amount."),
            ("确认后完成缴费。", "Confirm to complete the payment."),
        ],
    },
}

FIELDS = ("title", "title_en", "summary", "summary_en", "note", "note_en", "app_name")


def _write(Guide, GuideStep, guide, data):  # noqa: N803 - model classes (historical in migrations)
    for field in FIELDS:
        setattr(guide, field, data[field])
    guide.save()
    GuideStep.objects.filter(guide=guide).delete()
    for i, (zh, en) in enumerate(data["steps"], start=1):
        GuideStep.objects.create(guide=guide, position=i, text=zh, detail=en)


def seed_guides(Guide, GuideStep, Region):  # noqa: N803 - model classes (historical in migrations)
    """Create the guides that are missing; never overwrite what bureau staff edited."""
    for (purpose, channel, region_id), data in GUIDES.items():
        if region_id and not Region.objects.filter(code=region_id).exists():
            continue
        if not Guide.objects.filter(purpose=purpose, channel=channel, region_id=region_id).exists():
            _write(Guide, GuideStep, Guide(purpose=purpose, channel=channel, region_id=region_id), data)


def refresh_guides(Guide, GuideStep, Region, old_national, old_regional):  # noqa: N803
    """Replace the first version's rows that nobody edited; keep edited rows; add the missing guides.

    A row counts as unedited when its title and its steps' Chinese text are still those of the
    first version (old_national: channel -> (title, summary, app_name, steps); old_regional:
    region code -> (title, app_name, steps)). Returns the rows kept because staff had edited them.
    """
    first: dict[tuple[str, str | None], tuple[str, list[str]]] = {
        (channel, None): (title, [zh for zh, _ in steps]) for channel, (title, _s, _a, steps) in old_national.items()
    }
    first.update({("regional_app", code): (title, [zh for zh, _ in steps])
                  for code, (title, _a, steps) in old_regional.items()})
    kept = []
    for (purpose, channel, region_id), data in GUIDES.items():
        guide = Guide.objects.filter(purpose=purpose, channel=channel, region_id=region_id).first()
        if guide is None:
            continue
        old = first.get((channel, region_id)) if purpose == POOLING else None
        texts = list(GuideStep.objects.filter(guide=guide).order_by("position", "id").values_list("text", flat=True))
        if old is not None and guide.title == old[0] and texts == old[1]:
            _write(Guide, GuideStep, guide, data)
        elif old is not None:
            kept.append(guide)
    seed_guides(Guide, GuideStep, Region)
    return kept
