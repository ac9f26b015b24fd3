"""Seed the guides (SPEC §3): national text per channel, and regional-app guides for 海南, 江西, 福建.

Bureau staff edit them in admin; a region's own guide replaces the national one for its people.
"""

from django.db import migrations


def seed(apps, schema_editor):
    from pooling.migrations._guides_v1 import seed_guides

    seed_guides(apps.get_model("pooling", "Guide"), apps.get_model("pooling", "GuideStep"),
                apps.get_model("accounts", "Region"))


class Migration(migrations.Migration):
    dependencies = [
        ("pooling", "0001_initial"),
        ("accounts", "0002_load_regions_and_national_policy"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
