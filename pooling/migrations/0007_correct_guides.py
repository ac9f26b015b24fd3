"""Correct the guides against the seed documents and split their titles and summaries per language.

Rows still holding the first version's text (migration 0002) are replaced by the corrected text of
pooling.guide_data; rows bureau staff edited are kept as they are; missing guides (the WeChat
official account, Beijing, Jiangsu, and the premium guides) are added.
"""

from django.db import migrations


def correct(apps, schema_editor):
    from pooling.guide_data import refresh_guides
    from pooling.migrations._guides_v1 import NATIONAL, REGIONAL_APPS

    refresh_guides(apps.get_model("pooling", "Guide"), apps.get_model("pooling", "GuideStep"),
                   apps.get_model("accounts", "Region"), NATIONAL, REGIONAL_APPS)


class Migration(migrations.Migration):
    dependencies = [("pooling", "0006_guide_languages_and_premium")]

    operations = [migrations.RunPython(correct, migrations.RunPython.noop)]
