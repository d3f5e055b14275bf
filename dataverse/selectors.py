"""Reads that other parts of the system (the bridge, pages) rely on, as plain data."""

from django.db import connection
from django.db.models import Case, CharField, DateField, Exists, F, OuterRef, Q, Subquery, Sum, Value, When
from django.utils import timezone

from .models import (
    IN_BACKLOG,
    Actual,
    AdjustmentStatus,
    BillingStatus,
    BillingType,
    ContractCustomer,
    ContractLine,
    Entry,
    EntryStatus,
    Invoice,
    InvoiceLineDetail,
    InvoiceSchedule,
    Milestone,
    Project,
    ProjectContract,
    TimeEntry,
    TransactionCategory,
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
    # A milestone's billed sale: the milestone (an on-account transaction in finance); null otherwise.
    msdyn_contractlinescheduleofvalue=F("milestone__uuid"),
    msdyn_transactioncategory=F("transaction_category__name"),
)


def synced_actuals(actual_ids):
    """The actuals among `actual_ids` that go to finance (skip sync off), as the map's rows (a query)."""
    return Actual.objects.filter(pk__any=list(actual_ids), skip_sync=False).order_by("pk").values(**ACTUAL_FIELDS)


def synced_actual_rows(actual_ids) -> list[dict]:
    """The same, as plain rows."""
    return list(synced_actuals(actual_ids))


# The new actuals as a set to join, not a filter: `b.id = ANY(30,000 ids)` as a filter (when the
# planner reads billed sales by another index) compares each row with the whole array, seconds at
# confirmation of 10,000 details; a join against the unnested ids stays linear.
CONNECTION_ROWS_SQL = """
WITH new AS (SELECT DISTINCT unnest(%(ids)s::bigint[]) AS id)
SELECT b.uuid AS msdyn_transaction1, 'billed_sales' AS msdyn_transaction1role,
       o.uuid AS msdyn_transaction2, 'unbilled_sales' AS msdyn_transaction2role, i.number AS msdyn_invoice
  FROM new
  JOIN dataverse_actual b ON b.id = new.id
  JOIN dataverse_actual o ON o.id = b.invoiced_actual_id
  LEFT JOIN dataverse_invoice i ON i.id = b.invoice_id
 WHERE b.transaction_type = 'billed_sales' AND NOT b.skip_sync
UNION ALL
SELECT b.uuid, c.transaction1_role, o.uuid, c.transaction2_role, i.number
  FROM new
  JOIN dataverse_transactionconnection c ON c.transaction1_id = new.id
  JOIN dataverse_actual b ON b.id = c.transaction1_id
  JOIN dataverse_actual o ON o.id = c.transaction2_id
  LEFT JOIN dataverse_invoice i ON i.id = b.invoice_id
 WHERE c.transaction1_role = 'reversing'
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
    OUTSIDE_CUTOFF = "outside_cutoff"
    NOT_APPROVED = "not_approved"


def next_run_date(line_ref: str):
    """The run date of the contract line's next scheduled run: its earliest row not run yet (the job
    runs every row due up to today, so a row still Not run is the next one whatever its date)."""
    return Subquery(InvoiceSchedule.objects.filter(contract_line=OuterRef(line_ref),
                                                   run_status=InvoiceSchedule.RunStatus.NOT_RUN)
                    .order_by("run_date").values("run_date")[:1], output_field=DateField())


def backlog():
    """Unbilled sales not yet invoiced, each with why it cannot be billed now ('' when it can).

    Ready sales dated after the cut-off of their line's next scheduled run (run date − 1, domain.md
    §2.5) say so: that run will not take them (D72). A line with no schedule is billed by hand."""
    return (
        Actual.objects.filter(IN_BACKLOG)  # the condition of its partial indexes (D33)
        .annotate(next_run_date=next_run_date("contract_line_id"))
        .annotate(not_billable=Case(
            When(~Q(contract__status=ProjectContract.Status.ACTIVE), then=Value(NotBillable.CONTRACT_NOT_ACTIVE)),
            When(~Q(adjustment_status=AdjustmentStatus.NONE), then=Value(NotBillable.ADJUSTED)),
            When(~Q(billing_type=BillingType.CHARGEABLE), then=Value(NotBillable.NOT_CHARGEABLE)),
            When(billing_status=BillingStatus.CUSTOMER_INVOICE_CREATED, then=Value(NotBillable.ON_DRAFT)),
            When(billing_status=BillingStatus.UNBILLED_SALES_CREATED, then=Value(NotBillable.NOT_READY)),
            When(transaction_date__gte=F("next_run_date"), then=Value(NotBillable.OUTSIDE_CUTOFF)),
            default=Value(""),
        ))
        .select_related("contract", "resource", "invoice")
    )


def backlog_totals(rows) -> list[dict]:
    """Per currency: the amount of the backlog rows and what of it is Ready to invoice, summed when
    read (one grouped query on plain columns: no per-row reason is computed for the whole backlog)."""
    return list(rows.order_by().values("currency").annotate(
        total=Sum("amount"),
        ready=Sum("amount", filter=Q(billing_status=BillingStatus.READY_TO_INVOICE,
                                     adjustment_status=AdjustmentStatus.NONE)),
    ).order_by("currency"))


def _has_tm_line(project_ref="project_id"):
    return Exists(ContractLine.objects.filter(project_id=OuterRef(project_ref),
                                              billing_method=ContractLine.BillingMethod.TIME_AND_MATERIAL))


def awaiting_approval():
    """Submitted time, expense, material and fee entries of projects a T&M line bills: work that is
    not in the backlog yet because nobody approved it (D72). One query, rows as dicts."""
    # The same columns in the same order on both sides of the union (names no field of either has).
    time = (TimeEntry.objects.filter(_has_tm_line(), status=EntryStatus.SUBMITTED)
            .values("pk", "date", "description", project_number=F("project__number"),
                    entry_class=Value("time", output_field=CharField()), entry_quantity=F("hours"),
                    who=F("resource__name")))
    other = (Entry.objects.filter(_has_tm_line(), status=EntryStatus.SUBMITTED)
             .values("pk", "date", "description", project_number=F("project__number"),
                     entry_class=F("transaction_class"), entry_quantity=F("quantity"), who=F("category__name")))
    return time.union(other, all=True).order_by("date", "pk")


# --- Master data as the master-data maps read it (contract.md; domain.md §2.1, §3.3) -----------

CONTRACTS, CONTRACT_CUSTOMERS, CONTRACT_LINES = "salesorders", "msdyn_projectcontractsplitbillingrules", \
    "salesorderdetails"
PROJECTS, TRANSACTION_CATEGORIES = "msdyn_projects", "msdyn_transactioncategories"
MILESTONES = "msdyn_contractlinescheduleofvalues"


def stamp(moment) -> str:
    """`modifiedon`: aware ISO 8601 with microseconds, so that finance can order two changes of a second."""
    return timezone.localtime(moment).isoformat(timespec="microseconds")


def _stamped(rows) -> list[dict]:
    rows = list(rows)
    for row in rows:
        row["modifiedon"] = stamp(row["modifiedon"])
    return rows


def contract_rows(contract_ids) -> list[dict]:
    return _stamped(ProjectContract.objects.filter(pk__in=contract_ids).order_by("pk").values(
        "name", salesorderid=F("number"), owningcompany=F("legal_entity"), customerid=F("customer__number"),
        transactioncurrency=F("currency"), statecode=F("status"), modifiedon=F("modified_on"),
    ))


def contract_customer_rows(contract_ids) -> list[dict]:
    """Every customer of the contracts. A contract with no split bills its own customer in full: that
    customer is its one (primary) contract customer, as Project Operations always has one."""
    rows = []
    split = set()
    for cc in ContractCustomer.objects.filter(contract_id__in=contract_ids).select_related(
            "contract__customer", "customer").order_by("contract_id", "pk"):
        split.add(cc.contract_id)
        rows.append(_customer_row(cc.contract, cc.customer.number, cc.modified_on))
    for contract in ProjectContract.objects.filter(pk__in=contract_ids).exclude(pk__in=split).select_related(
            "customer").order_by("pk"):
        rows.append(_customer_row(contract, contract.customer.number, contract.modified_on))
    return rows


def _customer_row(contract, customer_number, modified_on) -> dict:
    return {"msdyn_contract": contract.number, "msdyn_customer": customer_number,
            "msdyn_isprimary": customer_number == contract.customer.number, "deleted": False,
            "modifiedon": stamp(modified_on)}


def contract_line_rows(line_ids) -> list[dict]:
    return _stamped(ContractLine.objects.filter(pk__in=line_ids).order_by("pk").values(
        msdyn_contract=F("contract__number"), msdyn_name=F("name"), msdyn_project=F("project__number"),
        msdyn_billingmethod=F("billing_method"), modifiedon=F("modified_on"),
    ).annotate(deleted=Value(False)))


def project_rows(project_ids) -> list[dict]:
    return _stamped(Project.objects.filter(pk__in=project_ids).order_by("pk").values(
        msdyn_projectid=F("number"), msdyn_subject=F("name"), owningcompany=F("legal_entity"),
        modifiedon=F("modified_on")))


def transaction_category_rows(category_ids) -> list[dict]:
    return _stamped(TransactionCategory.objects.filter(pk__in=category_ids).order_by("pk").values(
        msdyn_name=F("name"), msdyn_transactionclass=F("transaction_class"), modifiedon=F("modified_on")))


def milestone_rows(milestone_ids) -> list[dict]:
    rows = _stamped(Milestone.objects.filter(pk__in=milestone_ids).order_by("pk").values(
        msdyn_contractlinescheduleofvalueid=F("uuid"), msdyn_contract=F("contract_line__contract__number"),
        msdyn_contractline=F("contract_line__name"), msdyn_project=F("contract_line__project__number"),
        owningcompany=F("contract_line__contract__legal_entity"), msdyn_name=F("name"),
        msdyn_milestonedate=F("milestone_date"), msdyn_amount=F("amount"), transactioncurrency=F("currency"),
        modifiedon=F("modified_on"),
    ).annotate(deleted=Value(False)))
    for row in rows:
        row["msdyn_contractlinescheduleofvalueid"] = str(row["msdyn_contractlinescheduleofvalueid"])
        row["msdyn_milestonedate"] = row["msdyn_milestonedate"].isoformat()
    return rows


def as_deleted(rows, *, at) -> list[dict]:
    """The rows of records being deleted (or whose key goes away), as the map announces a delete."""
    return [{**row, "deleted": True, "modifiedon": stamp(at)} for row in rows]


def milestone_backlog():
    """Milestones not yet invoiced in full, each with why it cannot be billed now ('' when it can)."""
    return (
        Milestone.objects.filter(invoice_status__in=[Milestone.InvoiceStatus.NOT_READY, Milestone.InvoiceStatus.READY,
                                                     Milestone.InvoiceStatus.CUSTOMER_INVOICE_CREATED])
        # The draft it is on, to name it (a split milestone may be on one draft per customer: the first).
        .annotate(draft_number=Subquery(
            InvoiceLineDetail.objects.filter(milestone=OuterRef("pk"), invoice__status__in=Invoice.EDITABLE)
            .order_by("invoice__number").values("invoice__number")[:1]),
            next_run_date=next_run_date("contract_line_id"))
        .annotate(not_billable=Case(
            When(~Q(contract_line__contract__status=ProjectContract.Status.ACTIVE),
                 then=Value(NotBillable.CONTRACT_NOT_ACTIVE)),
            When(invoice_status=Milestone.InvoiceStatus.CUSTOMER_INVOICE_CREATED, then=Value(NotBillable.ON_DRAFT)),
            When(invoice_status=Milestone.InvoiceStatus.NOT_READY, then=Value(NotBillable.NOT_READY)),
            # A scheduled run takes Ready milestones dated up to its run date (D67).
            When(milestone_date__gt=F("next_run_date"), then=Value(NotBillable.OUTSIDE_CUTOFF)),
            default=Value(""),
        ))
        .select_related("contract_line__contract")
    )
