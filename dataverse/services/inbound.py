"""What other systems may tell Dataverse: accounting details after finance posts (domain.md §2.9).

Called by the bridge with batches of rows (`projinv.batches`, or plain lists of dicts). Both are idempotent:
a second delivery changes nothing.
"""

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from projinv import batches
from projinv.batches import Batch
from projinv.domain import DomainError

from ..models import Invoice

WRITE_BACK_COLUMNS = {"actual_id": "uuid", "voucher": "text", "posting_date": "date", "exchange_rate": "numeric",
                      "accounting_amount": "numeric", "accounting_currency": "text", "sales_tax_amount": "numeric"}
# Rows are locked in primary-key order first, as confirmation locks them, so a write-back arriving
# while the PM confirms an invoice of the same actuals waits instead of deadlocking.
WRITE_BACK_SQL = """
WITH r AS MATERIALIZED (SELECT * FROM {rows}),
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
def write_back_actuals(*, rows: Batch | list[dict]) -> int:
    """Put voucher, posting date, rate, accounting amount and tax on the actuals, in one statement."""
    with batches.execute(connection, WRITE_BACK_SQL, rows, WRITE_BACK_COLUMNS) as cursor:
        return cursor.rowcount


CUSTOMER_INVOICE_COLUMNS = {"invoice_number": "text", "customer_invoice_number": "text",
                            "customer_invoice_date": "date", "tax_amount": "numeric"}
# Confirmed invoices only: a posted one is a redelivery and keeps what it has.
POST_INVOICES_SQL = """
UPDATE dataverse_invoice AS i
   SET status = %(posted)s, customer_invoice_number = r.customer_invoice_number,
       customer_invoice_date = r.customer_invoice_date, posted_tax_amount = r.tax_amount, posted_at = %(now)s
  FROM {rows}
 WHERE i.number = r.invoice_number AND i.status = %(confirmed)s
"""


@transaction.atomic
def record_customer_invoices(*, rows: Batch | list[dict]) -> int:
    """The enhanced proforma summaries: customer invoice number, date, tax and Posted status, for
    all the rows' invoices in one statement. Returns how many became Posted (a redelivery: none).

    One unknown or unconfirmed invoice refuses the whole delivery and changes nothing; the relay
    then delivers each change alone, so the error lands on the change it belongs to.
    """
    rows = batches.of(rows)  # read twice: a few rows, one per posted proposal
    with batches.execute(connection, "SELECT r.invoice_number FROM {rows}", rows, CUSTOMER_INVOICE_COLUMNS) as cursor:
        numbers = [number for (number,) in cursor.fetchall()]
    # Locked in primary-key order, as every other writer of invoices locks them.
    found = {invoice.number: invoice for invoice in Invoice.objects.select_for_update()
             .filter(number__any=numbers).order_by("pk").only("pk", "number", "status")}
    for number in numbers:
        if number not in found:
            raise DomainError(_("No proforma invoice %(number)s in Dataverse.") % {"number": number})
        found[number].check_postable()
    with batches.execute(connection, POST_INVOICES_SQL, rows, CUSTOMER_INVOICE_COLUMNS, {
            "now": timezone.now(), "posted": Invoice.Status.POSTED, "confirmed": Invoice.Status.CONFIRMED}) as cursor:
        return cursor.rowcount
