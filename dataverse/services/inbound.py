"""What other systems may tell Dataverse: accounting details after finance posts (domain.md §2.9).

Called by the bridge with plain payloads. Both are idempotent: a second delivery changes nothing.
"""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils.translation import gettext as _

from projinv.domain import DomainError

from ..models import Invoice

# Rows are locked in primary-key order first, as confirmation locks them, so a write-back arriving
# while the PM confirms an invoice of the same actuals waits instead of deadlocking.
WRITE_BACK_SQL = """
WITH r AS (SELECT * FROM jsonb_to_recordset(%s::jsonb) AS r(
               actual_id uuid, voucher text, posting_date date, exchange_rate numeric,
               accounting_amount numeric, accounting_currency text, sales_tax_amount numeric)),
     locked AS (SELECT a.id FROM dataverse_actual a JOIN r ON a.uuid = r.actual_id ORDER BY a.id FOR UPDATE OF a)
UPDATE dataverse_actual AS a
   SET voucher = r.voucher, posting_date = r.posting_date, exchange_rate = r.exchange_rate,
       accounting_amount = r.accounting_amount, accounting_currency = r.accounting_currency,
       sales_tax_amount = r.sales_tax_amount, written_back_at = now()
  FROM r
 WHERE a.uuid = r.actual_id AND a.id IN (SELECT id FROM locked)
   AND (a.voucher, a.posting_date, a.exchange_rate, a.accounting_amount, a.sales_tax_amount)
       IS DISTINCT FROM (r.voucher, r.posting_date, r.exchange_rate, r.accounting_amount, r.sales_tax_amount)
"""


@transaction.atomic
def write_back_actuals(*, rows: list[dict]) -> int:
    """Put voucher, posting date, rate, accounting amount and tax on the actuals, in one statement."""
    with connection.cursor() as cursor:
        cursor.execute(WRITE_BACK_SQL, [json.dumps(rows, cls=DjangoJSONEncoder)])
        return cursor.rowcount


@transaction.atomic
def record_customer_invoice(*, invoice_number: str, customer_invoice_number: str, customer_invoice_date,
                            tax_amount) -> bool:
    """The enhanced proforma summary: the customer invoice number, date, tax and Posted status."""
    invoice = Invoice.objects.select_for_update().filter(number=invoice_number).first()
    if invoice is None:
        raise DomainError(_("No proforma invoice %(number)s in Dataverse.") % {"number": invoice_number})
    return invoice.mark_posted(customer_invoice_number=customer_invoice_number,
                               customer_invoice_date=customer_invoice_date, tax_amount=tax_amount)
