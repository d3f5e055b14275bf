from django.db import migrations, models
from django.db.models import F
from django.db.models.functions import JSONObject


def keep_old_results(apps, schema_editor):
    """Results written before codes existed are kept, in their words (one statement)."""
    InvoiceSchedule = apps.get_model("dataverse", "InvoiceSchedule")
    InvoiceSchedule.objects.exclude(message="").update(result_code="refused",
                                                       result_params=JSONObject(message=F("message")))


class Migration(migrations.Migration):
    dependencies = [("dataverse", "0011_milestones")]

    operations = [
        migrations.AddField(
            model_name="invoiceschedule", name="result_code",
            field=models.CharField(blank=True, default="", max_length=30, verbose_name="result"),
        ),
        migrations.AddField(
            model_name="invoiceschedule", name="result_params",
            field=models.JSONField(blank=True, default=None, null=True, verbose_name="result details"),
        ),
        migrations.RunPython(keep_old_results, migrations.RunPython.noop),
        migrations.RemoveField(model_name="invoiceschedule", name="message"),
    ]
