"""Version 1 of the terms (办理须知) and personal pledge (个人承诺书), in Chinese and English."""

from django.db import migrations

ZH_TERMS = """家庭共济只能在近亲属之间办理（配偶、父母、子女、兄弟姐妹、祖父母、外祖父母、孙子女、外孙子女等），具体以参保地政策为准。
共济后，亲属可以用您的职工医保个人账户余额支付其在定点医药机构发生的个人负担费用；您可以设置限额、暂停或随时解除。
成年亲属须本人同意：本人登录门户确认，或打开短信中的链接并输入同一短信中的6位验证码确认，或本人到医保服务柜台办理。
16周岁以下的未成年人：户籍信息显示您是其父母或祖父母、外祖父母的，可直接加入；否则须由医保服务柜台查验户口簿或出生医学证明。
个人账户资金只能用于医疗保障，不得套现、转借或挪作他用。"""

ZH_PLEDGE = ("本人承诺：所填写的亲属关系真实、准确；本人知晓个人账户资金只能用于医疗保障。"
             "如有虚报亲属关系、冒用他人身份或违规使用个人账户资金等情形，由本人承担相应责任，"
             "医保部门可依法依规终止共济并追回相关费用。")

EN_TERMS = """Family pooling is only for close relatives (spouse, parents, children, brothers and sisters, grandparents and grandchildren), as your region's policy allows.
Once pooling is on, your relative can pay their own share of medical costs at designated hospitals and pharmacies from your employee personal account. You can set limits, pause or end it at any time.
An adult relative must agree themselves: logged in to the portal, by opening the link in the text message and entering the 6-digit code from the same message, or in person at a service counter.
A child under 16 joins at once when the household register shows that you are their parent or grandparent; otherwise a service counter checks the household register or birth certificate first.
Personal-account money is for medical care only: it may not be cashed out, lent or used for anything else."""

EN_PLEDGE = ("I promise that the relationship I state is true and correct, and I know that personal-account money "
             "is for medical care only. If I misstate a relationship, use another person's identity or misuse the "
             "account, I am responsible for it, and the bureau may end the pooling and recover the money.")


def add_version_one(apps, schema_editor):
    PledgeText = apps.get_model("pooling", "PledgeText")
    for language, terms, pledge in (("zh-hans", ZH_TERMS, ZH_PLEDGE), ("en", EN_TERMS, EN_PLEDGE)):
        PledgeText.objects.get_or_create(language=language, version=1, defaults={"terms": terms, "pledge": pledge})


def remove_version_one(apps, schema_editor):
    apps.get_model("pooling", "PledgeText").objects.filter(version=1).delete()


class Migration(migrations.Migration):
    dependencies = [("pooling", "0012_pledge")]

    operations = [migrations.RunPython(add_version_one, remove_version_one)]
