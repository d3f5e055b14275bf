"""Reads that other parts of the system (the bridge, pages) rely on, as plain data."""

from django.db.models import F

from .models import Actual, Invoice, TransactionType

# The actual as the msdyn_actuals map reads it: Dataverse logical names (domain.md §3.1).
ACTUAL_FIELDS = dict(
    msdyn_actualid=F("uuid"),
    msdyn_transactiontypecode=F("transaction_type"),
    msdyn_transactionclassification=F("transaction_class"),
    msdyn_billingtype=F("billing_type"),
    owningcompany=F("project__legal_entity"),
    msdyn_project=F("project__number"),
    msdyn_salescontract=F("contract__number"),
    msdyn_salescontractline=F("contract_line__name"),
    msdyn_accountcustomer=F("customer__number"),
    msdyn_bookableresource=F("resource__name"),
    msdyn_resourcecategory=F("role__name"),
    msdyn_invoice=F("invoice__number"),
    # For a billed sale: the unbilled sale it invoices (its transaction connection, domain.md §2.3.2).
    msdyn_unbilledsalesactual=F("invoice_line_detail__actual__uuid"),
    msdyn_documentdate=F("transaction_date"),
    msdyn_accountingdate=F("accounting_date"),
    msdyn_quantity=F("quantity"),
    msdyn_price=F("price"),
    msdyn_amount=F("amount"),
    transactioncurrency=F("currency"),
    msdyn_description=F("description"),
)


def synced_actual_rows(actual_ids) -> list[dict]:
    """The actuals among `actual_ids` that go to finance (skip sync off), as plain rows."""
    return list(
        Actual.objects.filter(pk__in=actual_ids, skip_sync=False)
        .order_by("pk")
        .values(**ACTUAL_FIELDS)
    )


def invoice_header(invoice: Invoice) -> dict:
    """The proforma header as finance's proposal needs it, with the billed-sales count it declares."""
    billed = Actual.objects.filter(invoice=invoice, transaction_type=TransactionType.BILLED_SALES, skip_sync=False)
    return {
        "invoice_number": invoice.number,
        "name": invoice.name,
        "legal_entity": invoice.contract.legal_entity,
        "contract_number": invoice.contract.number,
        "customer_number": invoice.customer.number,
        "currency": invoice.currency,
        "invoice_date": invoice.invoice_date,
        "accounting_date": invoice.confirmed_at.date(),
        "amount": invoice.amount,
        "tax": invoice.tax,
        "billed_sales_count": billed.count(),
    }
