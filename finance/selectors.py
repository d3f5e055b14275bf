"""Reads other parts of the system rely on, as plain data."""

from django.db.models import F

from .models import ActualStaging, Customer, ProjectInvoice


def accounting_details_query(staging_ids):
    """The accounting details of staging rows, keyed by the Dataverse actual they belong to (a query)."""
    return ActualStaging.objects.filter(pk__any=list(staging_ids)).order_by("pk").values(
        "voucher", "posting_date", "exchange_rate", "accounting_amount", "accounting_currency",
        "sales_tax_amount", "invoice_number", actual_id=F("dataverse_actual_id"),
    )


def accounting_details(staging_ids) -> list[dict]:
    """The same, as plain rows."""
    return list(accounting_details_query(staging_ids))


def customer_invoice_summary(invoice: ProjectInvoice) -> dict:
    return {
        "invoice_number": invoice.proposal.number,
        "customer_invoice_number": invoice.number,
        "customer_invoice_date": invoice.invoice_date,
        "tax_amount": invoice.tax,
    }


def payment_days(*, legal_entity: str, customer_number: str) -> int:
    """The customer's terms of payment in days (0 when finance does not know the customer yet)."""
    return (Customer.objects.filter(legal_entity__code=legal_entity, number=customer_number)
            .values_list("payment_days", flat=True).first() or 0)
