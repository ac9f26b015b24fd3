from django.db import migrations


def create_groups(apps, schema_editor):
    from portal.staff_groups import sync_staff_groups

    sync_staff_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("accounts", "0004_notification_indexes"),
        ("pooling", "0008_review_outcomes"),
        ("payments", "0007_statements_move_to_their_own_app"),
        ("statements", "0001_initial"),
        ("portal", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
