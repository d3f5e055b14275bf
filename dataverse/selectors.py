"""Reads that other parts of the system (the bridge, pages) rely on, as plain data."""

from django.db import connection
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


# One array parameter, not an IN list of every new actual: a confirmation of 10,000 details passes
# 30,000 ids, and an IN list that long inside a join makes PostgreSQL compare them row by row.
CONNECTION_ROWS_SQL = """
SELECT b.uuid AS msdyn_transaction1, 'billed_sales' AS msdyn_transaction1role,
       o.uuid AS msdyn_transaction2, 'unbilled_sales' AS msdyn_transaction2role, i.number AS msdyn_invoice
  FROM dataverse_actual b
  JOIN dataverse_actual o ON o.id = b.invoiced_actual_id
  LEFT JOIN dataverse_invoice i ON i.id = b.invoice_id
 WHERE b.id = ANY(%(ids)s) AND b.transaction_type = 'billed_sales' AND NOT b.skip_sync
UNION ALL
SELECT b.uuid, c.transaction1_role, o.uuid, c.transaction2_role, i.number
  FROM dataverse_transactionconnection c
  JOIN dataverse_actual b ON b.id = c.transaction1_id
  JOIN dataverse_actual o ON o.id = c.transaction2_id
  LEFT JOIN dataverse_invoice i ON i.id = b.invoice_id
 WHERE c.transaction1_id = ANY(%(ids)s) AND c.transaction1_role = 'reversing'
   AND b.transaction_type = 'billed_sales' AND NOT b.skip_sync AND NOT o.skip_sync
"""


def transaction_connection_rows(actual_ids) -> list[dict]:
    """The relationships finance's import needs (msdyn_transactionconnections, domain.md §2.3.2).

    Each synced billed sale, credits included, to the unbilled sale it invoices there (the original
    one when a draft was edited: replacements never reach finance, D20), and each credit to the
    billed sale it reverses. Dataverse's other connections stay in Dataverse.
    """
    with connection.cursor() as cursor:
        cursor.execute(CONNECTION_ROWS_SQL, {"ids": list(actual_ids)})
        names = [column.name for column in cursor.description]
        return [{**dict(zip(names, row, strict=True)), "msdyn_transaction1type": "msdyn_actual",
                 "msdyn_transaction2type": "msdyn_actual"} for row in cursor.fetchall()]


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
