"""The guides as first seeded by migration 0002, frozen.

Migration 0002 seeds this text on a fresh database; migration 0007 uses it to recognise rows
nobody has edited since, and replaces those with the corrected text of pooling.guide_data.
(Django's migration loader skips modules whose name starts with an underscore.)
"""

NATIONAL = {
    "wechat": (
        "微信 WeChat: 医保亲情支付 → 添加家人",
        "在微信里为家人开通家庭共济。Set up family pooling inside WeChat.",
        "微信",
        [
            ("打开微信，点“我” → “服务”（或“城市服务”）。", "Open WeChat, tap Me → Services (City services)."),
            ("选择“社保” → “医疗保险”，或直接打开“医保码”。", "Choose Social security → Medical insurance, or open the medical insurance code."),
            ("点“医保亲情支付” → “添加家人”。", "Tap Family payment → Add a family member."),
            ("填写家人的姓名、身份证号和关系，提交。", "Enter your relative's name, ID number and relationship; submit."),
            ("家人在自己的微信里确认授权（16岁以下子女无需确认）。", "Your relative confirms in their own WeChat (children under 16 do not need to)."),
        ],
    ),
    "alipay": (
        "支付宝 Alipay: 市民中心 → 医保 → 家庭共济",
        "在支付宝里为家人开通家庭共济。Set up family pooling in Alipay.",
        "支付宝",
        [
            ("打开支付宝，进入“市民中心”。", "Open Alipay and go to Citizen centre."),
            ("点“医保” → “家庭共济”。", "Tap Medical insurance → Family pooling."),
            ("选择“医保家庭共济”，点“添加共济人”。", "Choose Medical insurance family pooling and add a relative."),
            ("填写家人的信息并提交，等待家人确认。", "Enter your relative's details, submit, and wait for them to confirm."),
        ],
    ),
    "national_app": (
        "国家医保服务平台 App: 职工医保个人账户家庭共济",
        "国家医保局的官方 App，全国都可以用。The national medical insurance app works everywhere.",
        "国家医保服务平台",
        [
            ("下载并登录“国家医保服务平台” App（实名认证）。", "Install and log in to the National Medical Insurance Service app (real-name check)."),
            ("在首页找到“家庭共济”，或搜索“职工医保个人账户家庭共济”。", "Find Family pooling on the home page, or search for it."),
            ("点“添加共济关系”，填写家人信息。", "Tap Add a pooling relationship and enter your relative's details."),
            ("家人登录同一 App 确认授权。", "Your relative logs in to the same app and confirms."),
        ],
    ),
    "regional_app": (
        "本地医保 App",
        "很多地方有自己的医保 App，例如“海南医保”“江西智慧医保”“福建医疗保障”/闽政通。Many regions have their own app.",
        "",
        [
            ("下载并登录本地的医保 App。", "Install and log in to your region's medical insurance app."),
            ("找到“家庭共济”。", "Find Family pooling."),
            ("添加家人并等待家人确认。", "Add your relative and wait for them to confirm."),
        ],
    ),
    "counter": (
        "到医保服务大厅窗口办理 At a service counter",
        "不会用手机也没关系：到医保经办机构的适老化窗口，工作人员帮您办理。No smartphone needed.",
        "医保服务大厅",
        [
            ("带上：双方身份证、医保卡（或医保电子凭证）、关系证明（户口簿、结婚证或出生证明）。",
             "Bring: both ID cards, medical insurance cards (or e-vouchers), and proof of the relationship (household register, marriage or birth certificate)."),
            ("最好和家人一起去；家人来不了，请带上家人签字的授权书。",
             "Best go together; if your relative cannot come, bring their signed authorisation."),
            ("到适老化窗口，告诉工作人员要办理“家庭共济”。", "Go to the elderly-assist counter and ask for family pooling."),
            ("工作人员核对证件后当场办好，家人在场可当场确认。",
             "Staff check the documents and set it up on the spot; if your relative is there, they confirm at once."),
        ],
    ),
}

REGIONAL_APPS = {
    "460000": ("海南医保 App: 家庭共济 → 创建家庭共济", "海南医保", [
        ("打开“海南医保” App 并登录。", "Open the Hainan Medical Insurance app and log in."),
        ("点“家庭共济” → “创建家庭共济”。", "Tap Family pooling → Create family pooling."),
        ("填写家人信息，提交后等待家人确认。", "Enter your relative's details, submit, and wait for them to confirm."),
    ]),
    "360000": ("江西智慧医保 App: 家庭共济 → 家庭账户共济授权", "江西智慧医保", [
        ("打开“江西智慧医保” App 并登录。", "Open the Jiangxi Smart Medical Insurance app and log in."),
        ("点“家庭共济” → “家庭账户共济授权”。", "Tap Family pooling → Family account pooling authorisation."),
        ("添加家人并等待确认。", "Add your relative and wait for them to confirm."),
    ]),
    "350000": ("福建医疗保障 / 闽政通: 家庭共济", "福建医疗保障", [
        ("打开“福建医疗保障”公众号或“闽政通” App。", "Open the Fujian Medical Security account or the Minzhengtong app."),
        ("找到“家庭共济”，添加家人。", "Find Family pooling and add your relative."),
        ("等待家人确认授权。", "Wait for your relative to confirm."),
    ]),
}


def seed_guides(Guide, GuideStep, Region):  # noqa: N803 - model classes (historical in migrations)
    """Create the first version of the guides (historical models of migration 0002)."""

    def put(channel, region_id, title, summary, app_name, steps):
        guide, created = Guide.objects.get_or_create(
            channel=channel, region_id=region_id, defaults={"title": title, "summary": summary, "app_name": app_name}
        )
        if created:
            for i, (zh, en) in enumerate(steps, start=1):
                GuideStep.objects.create(guide=guide, position=i, text=zh, detail=en)

    for channel, (title, summary, app_name, steps) in NATIONAL.items():
        put(channel, None, title, summary, app_name, steps)
    for region_id, (title, app_name, steps) in REGIONAL_APPS.items():
        if Region.objects.filter(code=region_id).exists():
            put("regional_app", region_id, title, "", app_name, steps)


