from django.db import migrations

# The customer-invoice map became batched (D76): a change's payload is a list of summaries. Changes
# queued before hold one summary as an object; wrap it, so that they deliver (and replay) as the new.
WRAP = """UPDATE dualwrite_financechange SET payload = jsonb_build_array(payload)
           WHERE map_code = 'msdyn_customerinvoices' AND jsonb_typeof(payload) = 'object'"""
UNWRAP = """UPDATE dualwrite_financechange SET payload = payload -> 0
             WHERE map_code = 'msdyn_customerinvoices' AND jsonb_typeof(payload) = 'array'
               AND jsonb_array_length(payload) = 1"""


class Migration(migrations.Migration):

    dependencies = [
        ('dualwrite', '0006_payload_decimals'),
    ]

    operations = [
        migrations.RunSQL(WRAP, UNWRAP, hints={"target_db": "finance"}),
    ]
