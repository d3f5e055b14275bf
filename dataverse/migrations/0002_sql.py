from django.db import migrations

from projinv.money import round_money_sql_function


class Migration(migrations.Migration):
    dependencies = [("dataverse", "0001_initial")]

    operations = [
        migrations.RunSQL(round_money_sql_function(), "DROP FUNCTION IF EXISTS projinv_round_money(numeric, text)"),
        migrations.RunSQL("CREATE SEQUENCE dataverse_invoice_number", "DROP SEQUENCE dataverse_invoice_number"),
    ]
