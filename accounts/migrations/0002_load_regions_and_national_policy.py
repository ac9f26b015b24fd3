"""A fresh install knows the national division codes and a default national policy."""

import datetime

from django.db import migrations


def load(apps, schema_editor):
    from accounts.regions import iter_divisions

    Region = apps.get_model("accounts", "Region")
    RegionPolicy = apps.get_model("accounts", "RegionPolicy")
    existing = set(Region.objects.values_list("code", flat=True))
    Region.objects.bulk_create(
        [
            Region(code=code, name=name, province_code=code[:2], current=current)
            for code, name, current in iter_divisions()
            if code not in existing
        ],
        batch_size=1000,
    )
    if not RegionPolicy.objects.filter(region__isnull=True).exists():
        RegionPolicy.objects.create(
            region=None,
            effective_from=datetime.date(2021, 1, 1),
            notes="National default (国家医保局 2021 guidance): close relatives, 6 per holder, same pooling region.",
        )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
