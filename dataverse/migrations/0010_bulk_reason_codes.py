from django.db import migrations, models
from django.db.models import F
from django.db.models.functions import JSONObject


def keep_old_messages(apps, schema_editor):
    """Messages written before codes existed are kept, in their words, as a refusal (one statement)."""
    Invoice = apps.get_model("dataverse", "Invoice")
    Invoice.objects.exclude(bulk_message="").update(bulk_reason="refused",
                                                    bulk_params=JSONObject(message=F("bulk_message")))


class Migration(migrations.Migration):
    dependencies = [("dataverse", "0009_master_data_and_entries")]

    operations = [
        migrations.AddField(
            model_name="invoice", name="bulk_params",
            field=models.JSONField(blank=True, default=None, null=True, verbose_name="bulk confirmation details"),
        ),
        migrations.AddField(
            model_name="invoice", name="bulk_reason",
            field=models.CharField(blank=True, default="", max_length=30, verbose_name="bulk confirmation reason"),
        ),
        migrations.RunPython(keep_old_messages, migrations.RunPython.noop),
        migrations.RemoveField(model_name="invoice", name="bulk_message"),
    ]
