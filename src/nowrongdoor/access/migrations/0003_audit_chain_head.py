from django.db import migrations

GENESIS_HASH = "0" * 64


def create_head(apps, schema_editor):  # type: ignore[no-untyped-def]
    head = apps.get_model("access", "AuditChainHead")
    head.objects.get_or_create(pk=1, defaults={"last_seq": 0, "last_hash": GENESIS_HASH})


class Migration(migrations.Migration):
    """The audit chain starts with one head row, so appenders always have a row to lock."""

    dependencies = [("access", "0002_initial")]

    operations = [migrations.RunPython(create_head, migrations.RunPython.noop)]
