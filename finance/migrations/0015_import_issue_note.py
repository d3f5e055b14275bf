from django.db import migrations, models


class Migration(migrations.Migration):
    """The free text of an import issue is its note; `message` is the worded message (D48)."""

    dependencies = [("finance", "0014_milestones")]

    operations = [
        migrations.RenameField(model_name="importissue", old_name="message", new_name="note"),
        migrations.AlterField(model_name="importissue", name="note",
                              field=models.TextField(blank=True, verbose_name="note")),
    ]
