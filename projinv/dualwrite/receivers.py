"""The bridge listens to each system's signals and queues what must cross (one line each)."""

from django.dispatch import receiver

from dataverse import selectors as dataverse_selectors
from dataverse.signals import actuals_created, master_data_changed, proforma_confirmed
from finance import selectors as finance_selectors
from finance.signals import accounting_details_ready, proposal_posted

from . import outbox
from .maps import (
    ACTUALS,
    ACTUALS_WRITE_BACK,
    CUSTOMER_INVOICES,
    INVOICE_PROPOSAL_V2,
    MASTER_DATA,
    TRANSACTION_CONNECTIONS,
)


@receiver(actuals_created, dispatch_uid="dualwrite.queue_actuals")
def _queue_actuals(sender, actual_ids, **kwargs):
    outbox.record_query(ACTUALS, dataverse_selectors.synced_actuals(actual_ids))
    # After the actuals in the same invoice's order (priority 3): import links billed sales by them.
    outbox.record_rows(TRANSACTION_CONNECTIONS, dataverse_selectors.transaction_connection_rows(actual_ids))


@receiver(master_data_changed, dispatch_uid="dualwrite.queue_master_data")
def _queue_master_data(sender, entity, rows, **kwargs):
    outbox.record_rows(MASTER_DATA[entity], rows)


@receiver(proforma_confirmed, dispatch_uid="dualwrite.queue_invoice_header")
def _queue_invoice_header(sender, invoice, **kwargs):
    outbox.record(INVOICE_PROPOSAL_V2, key=invoice.number, payload=dataverse_selectors.invoice_header(invoice))


@receiver(accounting_details_ready, dispatch_uid="dualwrite.queue_write_back")
def _queue_write_back(sender, staging_ids, **kwargs):
    outbox.record_query(ACTUALS_WRITE_BACK, finance_selectors.accounting_details_query(staging_ids))


@receiver(proposal_posted, dispatch_uid="dualwrite.queue_customer_invoice")
def _queue_customer_invoice(sender, proposal, invoice, **kwargs):
    # A batched map: the summaries of many posted proposals reach Dataverse in one statement.
    outbox.record_rows(CUSTOMER_INVOICES, [finance_selectors.customer_invoice_summary(invoice)])
