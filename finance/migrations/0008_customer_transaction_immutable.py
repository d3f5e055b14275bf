from django.db import migrations


class Migration(migrations.Migration):
    """Customer transactions are posted documents too: corrected by credit notes, never changed."""

    dependencies = [("finance", "0007_sales_tax")]

    operations = [
        migrations.RunSQL(
            "CREATE TRIGGER customer_transaction_immutable BEFORE UPDATE OR DELETE ON finance_customertransaction "
            "FOR EACH ROW EXECUTE FUNCTION finance_refuse_change();",
            "DROP TRIGGER customer_transaction_immutable ON finance_customertransaction;",
        ),
    ]
