"""Reads that other parts of the system (the bridge, pages) rely on, as plain data."""

from django.db.models import F

from .models import Actual, Invoice, TransactionType

ACTUAL_FIELDS = dict(
    actual_id=F("uuid"),
    transaction_type_code=F("transaction_type"),
    transaction_class_code=F("transaction_class"),
    billing_type_code=F("billing_type"),
    legal_entity=F("project__legal_entity"),
    project_number=F("project__number"),
    contract_number=F("contract__number"),
    contract_line_name=F("contract_line__name"),
    customer_number=F("customer__number"),
    resource_name=F("resource__name"),
    role_name=F("role__name"),
    invoice_number=F("invoice__number"),
    # For a billed sale: the unbilled sale it invoices (its transaction connection, domain.md §2.3.2).
    invoiced_actual_id=F("invoice_line_detail__actual__uuid"),
)


def synced_actual_rows(actual_ids) -> list[dict]:
    """The actuals among `actual_ids` that go to finance (skip sync off), as plain rows."""
    return list(
        Actual.objects.filter(pk__in=actual_ids, skip_sync=False)
        .order_by("pk")
        .values("transaction_date", "accounting_date", "quantity", "price", "amount", "currency", "description",
                **ACTUAL_FIELDS)
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
