"""Reads that other parts of the system (the bridge, pages) rely on, as plain data."""

from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from .models import (
    Actual,
    AdjustmentStatus,
    BillingStatus,
    BillingType,
    Invoice,
    ProjectContract,
    TransactionType,
)

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
    # For a billed sale: the unbilled sale it invoices in finance (decision D20, domain.md §2.3.2).
    msdyn_unbilledsalesactual=F("invoiced_actual__uuid"),
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
        "accounting_date": timezone.localdate(invoice.confirmed_at),  # as the billed sales have it (BR-25)
        "amount": invoice.amount,
        "tax": invoice.tax,
        "billed_sales_count": billed.count(),
    }


class NotBillable:
    """Why a backlog row cannot go on an invoice now (codes; the table says them in words)."""

    CONTRACT_NOT_ACTIVE = "contract_not_active"
    ADJUSTED = "adjusted"
    NOT_CHARGEABLE = "not_chargeable"
    ON_DRAFT = "on_draft"
    NOT_READY = "not_ready"


def backlog():
    """Unbilled sales not yet invoiced, each with why it cannot be billed now ('' when it can)."""
    return (
        Actual.objects.filter(transaction_type=TransactionType.UNBILLED_SALES, skip_sync=False)
        .filter(Q(billing_status__in=[BillingStatus.UNBILLED_SALES_CREATED, BillingStatus.READY_TO_INVOICE,
                                      BillingStatus.CUSTOMER_INVOICE_CREATED])
                | Q(adjustment_status=AdjustmentStatus.ADJUSTED))
        .annotate(not_billable=Case(
            When(~Q(contract__status=ProjectContract.Status.ACTIVE), then=Value(NotBillable.CONTRACT_NOT_ACTIVE)),
            When(~Q(adjustment_status=AdjustmentStatus.NONE), then=Value(NotBillable.ADJUSTED)),
            When(~Q(billing_type=BillingType.CHARGEABLE), then=Value(NotBillable.NOT_CHARGEABLE)),
            When(billing_status=BillingStatus.CUSTOMER_INVOICE_CREATED, then=Value(NotBillable.ON_DRAFT)),
            When(billing_status=BillingStatus.UNBILLED_SALES_CREATED, then=Value(NotBillable.NOT_READY)),
            default=Value(""),
        ))
        .select_related("contract", "resource", "invoice")
    )
