"""Invoices at volume, as the services leave them: drafts, confirmations, and what the bridge
delivers of them to finance (proposal headers, billed sales staged), made in set-based SQL and
COPY. Measured stages take these as input; the services that make them one by one are timed in
their own stages ("confirm one proforma invoice", end to end)."""

from datetime import date

from django.db import connections, transaction

from dataverse import models as dv
from finance import models as fin
from projinv import sqlgen

from . import databases
from .world import PAYMENT_DAYS, World, execute, fetch

# --- Proforma invoices of the regular contracts -----------------------------------------------

MARK_READY_SQL = """
UPDATE dataverse_actual SET billing_status = 'ready_to_invoice'
 WHERE transaction_type = 'unbilled_sales' AND adjustment_status = '' AND billing_type = 'chargeable'
   AND billing_status = 'unbilled_sales_created' AND contract_id = ANY(%(contracts)s)
"""

STAMP_ACTUALS_SQL = """
UPDATE dataverse_actual a SET billing_status = 'customer_invoice_created', invoice_id = d.invoice_id
  FROM dataverse_invoicelinedetail d WHERE d.actual_id = a.id AND d.invoice_id = ANY(%(ids)s)
"""

TOTALS_SQL = [
    """UPDATE dataverse_invoiceline il SET amount = x.amount, tax = x.tax, extended_amount = x.amount + x.tax
         FROM (SELECT invoice_line_id, sum(amount) AS amount, sum(tax) AS tax FROM dataverse_invoicelinedetail
                WHERE invoice_id = ANY(%(ids)s) AND billing_type = 'chargeable' GROUP BY invoice_line_id) x
        WHERE il.id = x.invoice_line_id""",
    """UPDATE dataverse_invoice i SET amount = x.amount, tax = x.tax, total = x.amount + x.tax
         FROM (SELECT invoice_id, sum(amount) AS amount, sum(tax) AS tax FROM dataverse_invoiceline
                WHERE invoice_id = ANY(%(ids)s) GROUP BY invoice_id) x
        WHERE i.id = x.invoice_id""",
]


@transaction.atomic
def create_invoices(w: World, contract_ids: list[int], *, invoice_date: date) -> list[int]:
    """What `create_proforma_invoice` leaves, for many contracts at once: the unbilled sales
    marked ready and put on one draft invoice per contract, with lines, details and totals."""
    execute("default", MARK_READY_SQL, {"contracts": contract_ids})
    invoice_sql = sqlgen.insert_select(dv.Invoice, {
        "number": "'INV-' || lpad(nextval('dataverse_invoice_number')::text, 6, '0')", "name": "c.name",
        "contract_id": "c.id", "customer_id": "c.customer_id", "currency": "c.currency", "status": "'draft'",
        "invoice_date": "%(date)s", "created_by_id": "%(user)s",
    }, "FROM dataverse_projectcontract c WHERE c.id = ANY(%(contracts)s) ORDER BY c.id",
        suffix="RETURNING contract_id, id")
    by_contract = dict(fetch("default", invoice_sql,
                             {"date": invoice_date, "user": w.user.pk, "contracts": contract_ids}))
    ids = [by_contract[contract] for contract in contract_ids]  # in the order asked
    execute("default", sqlgen.insert_select(dv.InvoiceLine, {
        "invoice_id": "i.id", "contract_line_id": "l.id"},
        "FROM dataverse_invoice i JOIN dataverse_contractline l ON l.contract_id = i.contract_id "
        "WHERE i.id = ANY(%(ids)s) ORDER BY i.id, l.id"), {"ids": ids})
    execute("default", sqlgen.insert_select(dv.InvoiceLineDetail, {
        "invoice_line_id": "il.id", "invoice_id": "il.invoice_id", "actual_id": "a.id",
        "transaction_class": "a.transaction_class", "billing_type": "a.billing_type",
        "transaction_date": "a.transaction_date", "description": "a.description", "quantity": "a.quantity",
        "price": "a.price", "amount": "a.amount", "currency": "a.currency",
    }, """FROM dataverse_invoiceline il
  JOIN dataverse_invoice i ON i.id = il.invoice_id
  JOIN dataverse_actual a ON a.contract_id = i.contract_id AND a.contract_line_id = il.contract_line_id
 WHERE il.invoice_id = ANY(%(ids)s) AND a.transaction_type = 'unbilled_sales' AND a.adjustment_status = ''
   AND a.billing_status = 'ready_to_invoice'
 ORDER BY il.invoice_id, a.transaction_date, a.id"""), {"ids": ids})
    execute("default", STAMP_ACTUALS_SQL, {"ids": ids})
    for statement in TOTALS_SQL:
        execute("default", statement, {"ids": ids})
    return ids


# --- Confirmation of the regular invoices (the input of "proposal lines") ---------------------

BILLING_ACTUAL_VALUES = {
    # One reversal (never synced) and one billed sale per detail, as create_billing_actuals makes.
    "transaction_type": "CASE k.kind WHEN 'billed' THEN 'billed_sales' ELSE 'unbilled_sales' END",
    "transaction_class": "o.transaction_class",
    "billing_type": "CASE k.kind WHEN 'billed' THEN d.billing_type ELSE o.billing_type END",
    "billing_status": "'customer_invoice_posted'",
    "adjustment_status": "CASE k.kind WHEN 'billed' THEN '' ELSE 'unadjustable' END",
    "skip_sync": "k.kind = 'reversal'",
    "project_id": "o.project_id", "task_id": "o.task_id", "resource_id": "o.resource_id", "role_id": "o.role_id",
    "customer_id": "o.customer_id", "contract_id": "o.contract_id", "contract_line_id": "o.contract_line_id",
    "time_entry_id": "o.time_entry_id", "invoice_id": "d.invoice_id", "invoice_line_detail_id": "d.id",
    "transaction_date": "o.transaction_date", "accounting_date": "(i.confirmed_at AT TIME ZONE 'UTC')::date",
    "quantity": "CASE k.kind WHEN 'billed' THEN d.quantity ELSE -o.quantity END",
    "price": "CASE k.kind WHEN 'billed' THEN d.price ELSE o.price END",
    "amount": "CASE k.kind WHEN 'billed' THEN d.amount ELSE -o.amount END",
    "unit": "o.unit", "currency": "o.currency", "description": "d.description",
}

BILLING_ACTUALS_FROM = """FROM {details} d
  JOIN {actuals} o ON o.id = d.actual_id
  JOIN dataverse_invoice i ON i.id = d.invoice_id
 CROSS JOIN (VALUES ('reversal'), ('billed')) AS k(kind)
 WHERE d.invoice_id = ANY(%(ids)s)
 ORDER BY k.kind DESC, d.id"""

CONNECTIONS_VALUES = {
    "transaction1_id": "n.id",
    "transaction1_role": "CASE n.transaction_type WHEN 'billed_sales' THEN 'billed_sales' ELSE 'reversing' END",
    "transaction2_id": "d.actual_id",
    "transaction2_role": "CASE n.transaction_type WHEN 'billed_sales' THEN 'unbilled_sales' ELSE 'original' END",
}
CONNECTIONS_FROM = """FROM {actuals} n JOIN dataverse_invoicelinedetail d ON d.id = n.invoice_line_detail_id
 WHERE n.invoice_id = ANY(%(ids)s) AND n.invoice_line_detail_id IS NOT NULL"""

ORIGINALS_POSTED_SQL = """
UPDATE {actuals} a SET billing_status = 'customer_invoice_posted'
  FROM dataverse_invoicelinedetail d WHERE d.actual_id = a.id AND d.invoice_id = ANY(%(ids)s)
"""


@transaction.atomic
def confirm_invoices(w: World, invoice_ids: list[int]) -> None:
    """What `confirm_proforma` leaves in Dataverse, for many invoices at once."""
    params = {"ids": invoice_ids}
    execute("default", "UPDATE dataverse_invoice SET status = 'confirmed', confirmed_by_id = %(user)s, "
                       "confirmed_at = now() WHERE id = ANY(%(ids)s)", {**params, "user": w.user.pk})
    execute("default", sqlgen.insert_select(dv.Actual, BILLING_ACTUAL_VALUES, BILLING_ACTUALS_FROM.format(
        details="dataverse_invoicelinedetail", actuals="dataverse_actual")), params)
    execute("default", sqlgen.insert_select(dv.TransactionConnection, CONNECTIONS_VALUES,
                                            CONNECTIONS_FROM.format(actuals="dataverse_actual")), params)
    execute("default", ORIGINALS_POSTED_SQL.format(actuals="dataverse_actual"), params)


# --- Across the bridge, at COPY speed ---------------------------------------------------------

# The msdyn_actuals map in SQL: what a staging row says about a Dataverse actual.
STAGING_SOURCE_SQL = """
SELECT a.id, a.uuid AS dataverse_actual_id, p.legal_entity, a.transaction_type, a.transaction_class,
       a.billing_type, p.number AS project_number, coalesce(c.number, '') AS contract_number,
       coalesce(cl.name, '') AS contract_line_name, coalesce(cu.number, '') AS customer_number,
       coalesce(r.name, '') AS resource_name, coalesce(ro.name, '') AS role_name,
       coalesce(i.number, '') AS invoice_number, o.uuid AS invoiced_actual_id, a.transaction_date,
       a.accounting_date, a.quantity, a.price, a.amount, a.currency, a.description
  FROM dataverse_actual a
  JOIN dataverse_project p ON p.id = a.project_id
  LEFT JOIN dataverse_projectcontract c ON c.id = a.contract_id
  LEFT JOIN dataverse_contractline cl ON cl.id = a.contract_line_id
  LEFT JOIN dataverse_customer cu ON cu.id = a.customer_id
  LEFT JOIN dataverse_resource r ON r.id = a.resource_id
  LEFT JOIN dataverse_resourcerole ro ON ro.id = a.role_id
  LEFT JOIN dataverse_invoice i ON i.id = a.invoice_id
  LEFT JOIN dataverse_invoicelinedetail d ON d.id = a.invoice_line_detail_id
  LEFT JOIN dataverse_actual o ON o.id = d.actual_id
 WHERE NOT a.skip_sync AND ({where})
"""
STAGING_COLUMNS = [
    "dataverse_actual_id", "legal_entity", "transaction_type", "transaction_class", "billing_type",
    "project_number", "contract_number", "contract_line_name", "customer_number", "resource_name", "role_name",
    "invoice_number", "invoiced_actual_id", "transaction_date", "accounting_date", "quantity", "price", "amount",
    "currency", "description",
]


def staging_copy(where: str) -> tuple[list[str], str]:
    """Columns of finance_actualstaging and the SELECT on `default` that fills them (received)."""
    values = {name: f"s.{name}" for name in STAGING_COLUMNS}
    values.update(status="'received'", wait_reason="''", received_at="now()", accounting_currency="''", voucher="''")
    names, exprs = sqlgen.select_list(fin.ActualStaging, values)
    return names, f"SELECT {exprs}\n  FROM ({STAGING_SOURCE_SQL.format(where=where)}) s ORDER BY s.id"


def copy_staging(where: str, params: dict, *, table: str = "finance_actualstaging") -> int:
    names, select = staging_copy(where)
    return databases.copy_between(connections["default"], select, connections["finance"], table, names, params)


def send_invoices_to_finance(invoice_ids: list[int]) -> None:
    """What the bridge delivers for confirmed invoices: proposal headers, then billed sales staged."""
    names, exprs = sqlgen.select_list(fin.InvoiceProposal, {
        "number": "i.number", "name": "i.name", "legal_entity": "c.legal_entity", "customer_number": "cu.number",
        "contract_number": "c.number", "currency": "i.currency", "invoice_date": "i.invoice_date",
        "due_date": f"i.invoice_date + {PAYMENT_DAYS}", "accounting_date": "(i.confirmed_at AT TIME ZONE 'UTC')::date",
        "expected_line_count": "(SELECT count(*) FROM dataverse_actual b WHERE b.invoice_id = i.id "
                               "AND b.transaction_type = 'billed_sales' AND NOT b.skip_sync)",
        "dataverse_amount": "i.amount", "status": "'header_only'", "received_at": "now()",
    })
    databases.copy_between(
        connections["default"],
        f"SELECT {exprs} FROM dataverse_invoice i JOIN dataverse_projectcontract c ON c.id = i.contract_id "
        "JOIN dataverse_customer cu ON cu.id = i.customer_id WHERE i.id = ANY({ids}) ORDER BY i.id",
        connections["finance"], "finance_invoiceproposal", names, {"ids": invoice_ids})
    copy_staging("a.invoice_id = ANY({ids}) AND a.transaction_type = 'billed_sales'", {"ids": invoice_ids})
