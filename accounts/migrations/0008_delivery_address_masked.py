"""Delivery addresses are kept masked: mask the rows written before (phone numbers in clear)."""

from django.db import migrations, models


def _mask(channel: str, address: str) -> str:
    if not address or "*" in address:
        return address
    if channel == "email":
        local, _at, domain = address.partition("@")
        return f"{local[:1]}***@{domain}" if domain else "***"
    if len(address) < 7:
        return "*" * len(address)
    return address[:3] + "*" * (len(address) - 7) + address[-4:]


def mask_addresses(apps, schema_editor):
    Delivery = apps.get_model("accounts", "Delivery")
    batch = []
    for delivery in Delivery.objects.exclude(address="").exclude(address__contains="*").only("pk", "channel", "address").iterator(chunk_size=2000):
        delivery.address = _mask(delivery.channel, delivery.address)
        batch.append(delivery)
        if len(batch) >= 2000:
            Delivery.objects.bulk_update(batch, ["address"])
            batch = []
    if batch:
        Delivery.objects.bulk_update(batch, ["address"])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0007_household_member")]

    operations = [
        migrations.AlterField(
            model_name="delivery",
            name="address",
            field=models.CharField(blank=True, help_text="Masked; never the full address.", max_length=200),
        ),
        migrations.RunPython(mask_addresses, migrations.RunPython.noop),
    ]
