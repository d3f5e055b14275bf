"""The floor of each stage: the same work done by the fastest plain PostgreSQL statements.

Each floor writes into twin tables made with `CREATE TABLE floor_x (LIKE x INCLUDING ALL)`, so
columns, defaults, indexes and unique constraints are the real ones, plus the real table's
foreign keys and row triggers (the immutability checks). A foreign key points at a twin only
where the floor itself creates the rows it references (journal → lines, voucher → entries,
actual → connections); elsewhere the twins hold copies with the same ids, so the real table
satisfies it at the same cost. Floors are timed from the first statement to the commit
(deferred foreign keys are checked there), on the same input the service gets, just before
the service runs.

Statements: one INSERT … SELECT per table a stage fills, one UPDATE … FROM per table it
changes, COPY where rows cross from one database to the other, and the outbox rows (the
stage's payloads aggregated with jsonb_agg, 1,000 rows per change) because the services
write them in the same transaction.
"""

import re

from django.db import connections, transaction

from dataverse import models as dv
from finance import models as fin
from projinv import sqlgen
from projinv.dualwrite.models import DataverseChange, FinanceChange

from . import billing, databases, world
from .timing import stopwatch

TWINS = {
    "default": {
        "floor_timeentry": "dataverse_timeentry", "floor_actual": "dataverse_actual",
        "floor_transactionconnection": "dataverse_transactionconnection", "floor_invoice": "dataverse_invoice",
        "floor_dataversechange": "dualwrite_dataversechange",
    },
    "finance": {
        "floor_actualstaging": "finance_actualstaging", "floor_integrationjournal": "finance_integrationjournal",
        "floor_integrationjournalline": "finance_integrationjournalline", "floor_voucher": "finance_voucher",
        "floor_ledgerentry": "finance_ledgerentry", "floor_projecttransaction": "finance_projecttransaction",
        "floor_invoiceproposal": "finance_invoiceproposal", "floor_invoiceproposalline": "finance_invoiceproposalline",
        "floor_financechange": "dualwrite_financechange",
    },
}
# (twin, referenced real table) -> referenced twin: the floor creates both sides.
FK_TO_TWIN = {
    ("floor_transactionconnection", "dataverse_actual"): "floor_actual",
    ("floor_integrationjournalline", "finance_integrationjournal"): "floor_integrationjournal",
    ("floor_ledgerentry", "finance_voucher"): "floor_voucher",
}
CHUNK = 1000  # rows per outbox change, as DUALWRITE["CHUNK_ROWS"]


def create_twins() -> None:
    for alias, twins in TWINS.items():
        with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
            for twin, real in twins.items():
                cursor.execute(f"DROP TABLE IF EXISTS {twin} CASCADE")
                cursor.execute(f"CREATE TABLE {twin} (LIKE {real} INCLUDING ALL)")
            for twin, real in twins.items():
                cursor.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                               "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname", [real])
                for index, (_name, definition) in enumerate(cursor.fetchall()):
                    target = re.search(r"REFERENCES (\w+)\(", definition).group(1)
                    definition = definition.replace(f"REFERENCES {target}(",
                                                    f"REFERENCES {FK_TO_TWIN.get((twin, target), target)}(")
                    cursor.execute(f"ALTER TABLE {twin} ADD CONSTRAINT {twin}_fk{index} {definition}")
                # Row triggers too (immutability checks): the database's cost of the same writes.
                cursor.execute("SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger "
                               "WHERE tgrelid = %s::regclass AND NOT tgisinternal ORDER BY tgname", [real])
                for name, definition in cursor.fetchall():
                    definition = re.sub(rf" ON (public\.)?{real} ", f" ON {twin} ", definition)
                    cursor.execute(definition.replace(f"TRIGGER {name} ", f"TRIGGER {twin}_{name} ", 1))
            if alias == "finance":
                cursor.execute("DROP SEQUENCE IF EXISTS floor_journal_number, floor_voucher_number")
                cursor.execute("CREATE SEQUENCE floor_journal_number; CREATE SEQUENCE floor_voucher_number")


def reset(alias: str) -> None:
    tables = ", ".join(TWINS[alias])
    world.execute(alias, f"TRUNCATE {tables} RESTART IDENTITY")


def copy_rows(alias: str, twin: str, where: str, params=None) -> int:
    """Copy input rows into a twin, ids kept, and move its identity past them."""
    real = TWINS[alias][twin]
    count = world.execute(alias, f"INSERT INTO {twin} SELECT s.* FROM {real} s WHERE {where}", params)
    world.execute(alias, f"SELECT setval(pg_get_serial_sequence('{twin}', 'id'), "
                         f"coalesce((SELECT max(id) FROM {twin}), 0) + 1, false)")
    world.execute(alias, f"ANALYZE {twin}")  # the real tables have statistics; so do their twins
    return count


def timed(alias: str, statements: list[str], params: dict) -> float:
    """Run the statements in one transaction; seconds from the first to the commit."""
    with stopwatch() as elapsed:
        with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
            for statement in statements:
                cursor.execute(statement, params)
    return elapsed()


def _outbox_sql(model, *, twin: str, map_code: str, rows_sql: str) -> str:
    """One outbox change per 1,000 payload rows: `rows_sql` yields (id, key, row jsonb)."""
    return sqlgen.insert_select(model, {
        "map_code": f"'{map_code}'", "key": "min(x.key) || ' (+' || (count(*) - 1) || ')'",
        "payload": "jsonb_agg(x.row ORDER BY x.id)", "row_count": "count(*)",
    }, f"FROM (SELECT r.*, (row_number() OVER (ORDER BY r.id) - 1) / {CHUNK} AS chunk FROM ({rows_sql}) r) x "
       "GROUP BY x.chunk", table=twin)


# --- Dataverse: the msdyn_actuals payload, as the bridge's selector reads it ------------------

MSDYN_ROWS_SQL = """
SELECT a.id, a.uuid::text AS key, jsonb_build_object(
       'msdyn_actualid', a.uuid, 'msdyn_transactiontypecode', a.transaction_type,
       'msdyn_transactionclassification', a.transaction_class, 'msdyn_billingtype', a.billing_type,
       'owningcompany', p.legal_entity, 'msdyn_project', p.number, 'msdyn_salescontract', c.number,
       'msdyn_salescontractline', cl.name, 'msdyn_accountcustomer', cu.number, 'msdyn_bookableresource', r.name,
       'msdyn_resourcecategory', ro.name, 'msdyn_invoice', i.number, 'msdyn_unbilledsalesactual', o.uuid,
       'msdyn_documentdate', a.transaction_date, 'msdyn_accountingdate', a.accounting_date,
       'msdyn_quantity', a.quantity, 'msdyn_price', a.price, 'msdyn_amount', a.amount,
       'transactioncurrency', a.currency, 'msdyn_description', a.description) AS row
  FROM {actuals} a
  JOIN dataverse_project p ON p.id = a.project_id
  LEFT JOIN dataverse_projectcontract c ON c.id = a.contract_id
  LEFT JOIN dataverse_contractline cl ON cl.id = a.contract_line_id
  LEFT JOIN dataverse_customer cu ON cu.id = a.customer_id
  LEFT JOIN dataverse_resource r ON r.id = a.resource_id
  LEFT JOIN dataverse_resourcerole ro ON ro.id = a.role_id
  LEFT JOIN dataverse_invoice i ON i.id = a.invoice_id
  LEFT JOIN dataverse_invoicelinedetail d ON d.id = a.invoice_line_detail_id
  LEFT JOIN {actuals} o ON o.id = d.actual_id
 WHERE NOT a.skip_sync AND ({where})
"""


# --- Approve entries --------------------------------------------------------------------------

APPROVE_ACTUALS = world.approval_actuals_sql(entries="floor_timeentry", actuals="floor_actual", where="true")
APPROVE_CONNECTIONS = world.approval_connections_sql(actuals="floor_actual",
                                                     connections="floor_transactionconnection", where="true")
APPROVE_ENTRIES = world.APPROVE_ENTRIES_SQL.format(entries="floor_timeentry", where="true")

APPROVE_OUTBOX = _outbox_sql(DataverseChange, twin="floor_dataversechange", map_code="msdyn_actuals",
                             rows_sql=MSDYN_ROWS_SQL.format(actuals="floor_actual", where="true"))


def approve(user_id: int, entry_ids_where: str, params: dict) -> float:
    """Entries → cost and unbilled sales actuals, their connections, the entries approved, the outbox."""
    reset("default")
    copy_rows("default", "floor_timeentry", entry_ids_where, params)
    return timed("default", [APPROVE_ACTUALS, APPROVE_CONNECTIONS, APPROVE_ENTRIES, APPROVE_OUTBOX], {"user": user_id})


# --- Actuals → staging: COPY out of Dataverse, COPY into finance -------------------------------


def bridge(after_id: int, upto_id: int) -> float:
    reset("finance")
    with stopwatch() as elapsed:
        billing.copy_staging("a.id > {after} AND a.id <= {upto}", {"after": after_id, "upto": upto_id},
                           table="floor_actualstaging")
    return elapsed()


# --- Import from staging: journalize and post -------------------------------------------------

PENDING = "s.status IN ('received', 'waiting') AND s.transaction_type IN ('cost', 'unbilled_sales')"

IMPORT_JOURNALS = sqlgen.insert_select(fin.IntegrationJournal, {
    "number": "'FJ-' || lpad(nextval('floor_journal_number')::text, 6, '0')", "legal_entity": "g.legal_entity",
    "period": "g.period", "status": "'posted'", "run_id": "%(run)s", "posted_at": "now()",
}, f"""FROM (SELECT DISTINCT s.legal_entity, date_trunc('month', s.accounting_date)::date AS period
        FROM floor_actualstaging s WHERE {PENDING} ORDER BY 1, 2) g""", table="floor_integrationjournal")

IMPORT_LINES = sqlgen.insert_select(fin.IntegrationJournalLine, {
    "journal_id": "j.id", "staging_id": "s.id",
    "voucher": "'FV-' || lpad(nextval('floor_voucher_number')::text, 8, '0')",
    "transaction_type": "s.transaction_type", "transaction_date": "s.transaction_date",
    "accounting_date": "s.accounting_date", "quantity": "s.quantity", "amount": "s.amount", "currency": "s.currency",
    "exchange_rate": "x.rate", "accounting_amount": "projinv_round_money(s.amount * x.rate, le.accounting_currency)",
}, f"""FROM floor_actualstaging s
  JOIN finance_legalentity le ON le.code = s.legal_entity
  JOIN finance_postingsetup ps ON ps.legal_entity_id = le.id
 CROSS JOIN LATERAL (SELECT CASE WHEN s.currency = le.accounting_currency THEN 1::numeric ELSE (
        SELECT r.rate FROM finance_exchangerate r WHERE r.from_currency = s.currency
           AND r.to_currency = le.accounting_currency AND r.valid_from <= s.accounting_date
         ORDER BY r.valid_from DESC LIMIT 1) END AS rate) x
  JOIN floor_integrationjournal j
    ON j.legal_entity = s.legal_entity AND j.period = date_trunc('month', s.accounting_date)::date
 WHERE {PENDING} AND x.rate IS NOT NULL
 ORDER BY s.id""", table="floor_integrationjournalline")

LINES_OF_RUN = """FROM floor_integrationjournalline l
  JOIN floor_integrationjournal j ON j.id = l.journal_id
  JOIN finance_legalentity le ON le.code = j.legal_entity
  JOIN finance_postingsetup ps ON ps.legal_entity_id = le.id"""

IMPORT_VOUCHERS = sqlgen.insert_select(fin.Voucher, {
    "number": "l.voucher", "legal_entity": "j.legal_entity", "date": "l.accounting_date",
    "source": "'integration_journal'", "description": "j.number",
}, f"{LINES_OF_RUN}\n WHERE true  -- the demo's T&M profile posts cost and accrues revenue on every line",
   table="floor_voucher")

IMPORT_LEDGER = sqlgen.insert_select(fin.LedgerEntry, {
    "voucher_id": "v.id", "account": "e.account", "posting_type": "e.posting_type", "amount": "e.sign * l.amount",
    "currency": "l.currency", "accounting_amount": "e.sign * l.accounting_amount",
    "accounting_currency": "le.accounting_currency",
}, f"""{LINES_OF_RUN}
  JOIN floor_voucher v ON v.number = l.voucher
 CROSS JOIN LATERAL (VALUES
       (CASE WHEN l.transaction_type = 'cost' THEN ps.cost ELSE ps.wip_sales_value END,
        CASE WHEN l.transaction_type = 'cost' THEN 'cost' ELSE 'wip_sales_value' END, 1),
       (CASE WHEN l.transaction_type = 'cost' THEN ps.cost_offset ELSE ps.accrued_revenue END,
        CASE WHEN l.transaction_type = 'cost' THEN 'cost_offset' ELSE 'accrued_revenue' END, -1)
       ) AS e(account, posting_type, sign)""", table="floor_ledgerentry")

IMPORT_TRANSACTIONS = sqlgen.insert_select(fin.ProjectTransaction, {
    "staging_id": "s.id", "dataverse_actual_id": "s.dataverse_actual_id", "legal_entity": "j.legal_entity",
    "project_number": "s.project_number", "transaction_type": "s.transaction_type",
    "transaction_class": "s.transaction_class", "accounting_date": "l.accounting_date", "quantity": "l.quantity",
    "amount": "l.amount", "currency": "l.currency", "exchange_rate": "l.exchange_rate",
    "accounting_amount": "l.accounting_amount", "voucher": "l.voucher", "status": "'posted'",
}, f"{LINES_OF_RUN}\n  JOIN floor_actualstaging s ON s.id = l.staging_id", table="floor_projecttransaction")

IMPORT_MARK_POSTED = """
UPDATE floor_actualstaging s
   SET status = 'posted', wait_reason = '', voucher = l.voucher, posting_date = l.accounting_date,
       exchange_rate = l.exchange_rate, accounting_amount = l.accounting_amount,
       accounting_currency = le.accounting_currency
  FROM floor_integrationjournalline l
  JOIN floor_integrationjournal j ON j.id = l.journal_id
  JOIN finance_legalentity le ON le.code = j.legal_entity
 WHERE s.id = l.staging_id
"""

WRITE_BACK_ROWS_SQL = """
SELECT s.id, s.dataverse_actual_id::text AS key, jsonb_build_object(
       'actual_id', s.dataverse_actual_id, 'voucher', s.voucher, 'posting_date', s.posting_date,
       'exchange_rate', s.exchange_rate, 'accounting_amount', s.accounting_amount,
       'accounting_currency', s.accounting_currency, 'sales_tax_amount', s.sales_tax_amount) AS row
  FROM floor_actualstaging s WHERE {where}
"""

IMPORT_OUTBOX = _outbox_sql(FinanceChange, twin="floor_financechange", map_code="msdyn_actuals_writeback",
                            rows_sql=WRITE_BACK_ROWS_SQL.format(where="s.status = 'posted'"))


def import_post() -> float:
    """Journal lines, vouchers, ledger entries, project transactions, staging posted, write-back queued."""
    reset("finance")
    copy_rows("finance", "floor_actualstaging", PENDING)
    run = fin.ImportRun.objects.create(triggered_by="bench floor", status=fin.ImportRun.Status.SUCCEEDED)
    return timed("finance", [IMPORT_JOURNALS, IMPORT_LINES, IMPORT_VOUCHERS, IMPORT_LEDGER, IMPORT_TRANSACTIONS,
                             IMPORT_MARK_POSTED, IMPORT_OUTBOX], {"run": run.pk})


# --- Confirm one proforma invoice -------------------------------------------------------------

CONFIRM_ACTUALS = sqlgen.insert_select(
    dv.Actual, {**billing.BILLING_ACTUAL_VALUES, "accounting_date": "(now() AT TIME ZONE 'UTC')::date"},
    billing.BILLING_ACTUALS_FROM.format(details="dataverse_invoicelinedetail", actuals="floor_actual"),
    table="floor_actual")
CONFIRM_CONNECTIONS = sqlgen.insert_select(dv.TransactionConnection, billing.CONNECTIONS_VALUES,
                                           billing.CONNECTIONS_FROM.format(actuals="floor_actual"),
                                           table="floor_transactionconnection")
CONFIRM_ORIGINALS = billing.ORIGINALS_POSTED_SQL.format(actuals="floor_actual")
CONFIRM_INVOICE = ("UPDATE floor_invoice SET status = 'confirmed', confirmed_by_id = %(user)s, confirmed_at = now() "
                   "WHERE id = ANY(%(ids)s)")
CONFIRM_OUTBOX = _outbox_sql(
    DataverseChange, twin="floor_dataversechange", map_code="msdyn_actuals",
    rows_sql=MSDYN_ROWS_SQL.format(actuals="floor_actual",
                                   where="a.invoice_id = ANY(%(ids)s) AND a.transaction_type = 'billed_sales'"))
# The proposal header: one change, as the invoices map queues it.
CONFIRM_HEADER = sqlgen.insert_select(DataverseChange, {
    "map_code": "'invoices'", "key": "i.number", "row_count": "1", "payload": """jsonb_build_object(
        'invoice_number', i.number, 'name', i.name, 'legal_entity', c.legal_entity, 'contract_number', c.number,
        'customer_number', cu.number, 'currency', i.currency, 'invoice_date', i.invoice_date,
        'accounting_date', (i.confirmed_at AT TIME ZONE 'UTC')::date, 'amount', i.amount, 'tax', i.tax,
        'billed_sales_count', (SELECT count(*) FROM floor_actual b WHERE b.invoice_id = i.id
                                AND b.transaction_type = 'billed_sales' AND NOT b.skip_sync))""",
}, """FROM floor_invoice i JOIN dataverse_projectcontract c ON c.id = i.contract_id
  JOIN dataverse_customer cu ON cu.id = i.customer_id WHERE i.id = ANY(%(ids)s)""", table="floor_dataversechange")


def confirm(invoice_id: int, user_id: int) -> float:
    """Reversals and billed sales, their connections, the originals posted, the invoice confirmed,
    the header and the billed sales queued."""
    reset("default")
    params = {"ids": [invoice_id], "user": user_id}
    copy_rows("default", "floor_actual",
              "id IN (SELECT actual_id FROM dataverse_invoicelinedetail WHERE invoice_id = ANY(%(ids)s))", params)
    copy_rows("default", "floor_invoice", "id = ANY(%(ids)s)", params)
    return timed("default", [CONFIRM_INVOICE, CONFIRM_ACTUALS, CONFIRM_CONNECTIONS, CONFIRM_ORIGINALS,
                             CONFIRM_HEADER, CONFIRM_OUTBOX], params)


# --- Import from staging: proposal lines ------------------------------------------------------

LINES_INSERT = sqlgen.insert_select(fin.InvoiceProposalLine, {
    "proposal_id": "p.id", "staging_id": "s.id", "project_transaction_id": "t.id",
    "transaction_class": "s.transaction_class", "transaction_date": "s.transaction_date", "quantity": "s.quantity",
    "price": "s.price", "amount": "s.amount", "tax": "0", "currency": "s.currency",
}, """FROM floor_invoiceproposal p
  JOIN floor_actualstaging s ON s.invoice_number = p.number AND s.transaction_type = 'billed_sales'
  JOIN floor_projecttransaction t ON t.dataverse_actual_id = s.invoiced_actual_id
 WHERE p.status = 'header_only'
 ORDER BY p.id, s.id""", table="floor_invoiceproposalline")
LINES_UPDATES = [
    """UPDATE floor_projecttransaction t SET status = 'invoice_proposal'
         FROM floor_invoiceproposalline l WHERE l.project_transaction_id = t.id""",
    """UPDATE floor_actualstaging s SET status = 'proposal_line', wait_reason = ''
         FROM floor_invoiceproposalline l WHERE l.staging_id = s.id""",
    """UPDATE floor_invoiceproposal p SET status = 'open', import_code = '', amount = x.amount, tax = x.tax
         FROM (SELECT proposal_id, sum(amount) AS amount, sum(tax) AS tax FROM floor_invoiceproposalline
                GROUP BY proposal_id) x
        WHERE p.id = x.proposal_id""",
]


def proposal_lines() -> float:
    """All lines of every waiting proposal, their project transactions and staging rows marked."""
    reset("finance")
    copy_rows("finance", "floor_invoiceproposal", "status = 'header_only'")
    copy_rows("finance", "floor_actualstaging",
              "status IN ('received', 'waiting') AND transaction_type = 'billed_sales'")
    copy_rows("finance", "floor_projecttransaction",
              "dataverse_actual_id IN (SELECT invoiced_actual_id FROM floor_actualstaging)")
    return timed("finance", [LINES_INSERT, *LINES_UPDATES], {})


# --- Write-back: COPY the accounting details across, one UPDATE … FROM ------------------------

WRITE_BACK_TEMP = """CREATE TEMP TABLE floor_writeback (actual_id uuid, voucher text, posting_date date,
    exchange_rate numeric, accounting_amount numeric, accounting_currency text, sales_tax_amount numeric)"""
WRITE_BACK_UPDATE = """
UPDATE floor_actual a
   SET voucher = r.voucher, posting_date = r.posting_date, exchange_rate = r.exchange_rate,
       accounting_amount = r.accounting_amount, accounting_currency = r.accounting_currency,
       sales_tax_amount = r.sales_tax_amount, written_back_at = now()
  FROM floor_writeback r WHERE a.uuid = r.actual_id
"""
INVOICE_TEMP = """CREATE TEMP TABLE floor_invoice_writeback (number text, customer_invoice_number text,
    customer_invoice_date date, tax numeric)"""
INVOICE_UPDATE = """
UPDATE floor_invoice i
   SET status = 'posted', customer_invoice_number = r.customer_invoice_number,
       customer_invoice_date = r.customer_invoice_date, posted_tax_amount = r.tax, posted_at = now()
  FROM floor_invoice_writeback r WHERE i.number = r.number
"""


def write_back(invoice_ids: list[int]) -> float:
    """The posted invoices' accounting details onto their billed sales, and the invoices Posted."""
    reset("default")
    params = {"ids": invoice_ids}
    copy_rows("default", "floor_actual", "invoice_id = ANY(%(ids)s) AND transaction_type = 'billed_sales'", params)
    copy_rows("default", "floor_invoice", "id = ANY(%(ids)s)", params)
    numbers = list(dv.Invoice.objects.filter(pk__in=invoice_ids).values_list("number", flat=True))
    default, finance = connections["default"], connections["finance"]
    try:
        with stopwatch() as elapsed:
            world.execute("default", WRITE_BACK_TEMP)
            databases.copy_between(
                finance, "SELECT dataverse_actual_id, voucher, posting_date, exchange_rate, accounting_amount, "
                "accounting_currency, sales_tax_amount FROM finance_actualstaging "
                "WHERE invoice_number = ANY({numbers}) AND transaction_type = 'billed_sales'",
                default, "floor_writeback",
                ["actual_id", "voucher", "posting_date", "exchange_rate", "accounting_amount", "accounting_currency",
                 "sales_tax_amount"], {"numbers": numbers})
            world.execute("default", WRITE_BACK_UPDATE)
            world.execute("default", INVOICE_TEMP)
            databases.copy_between(
                finance, "SELECT p.number, i.number, i.invoice_date, i.tax FROM finance_projectinvoice i "
                "JOIN finance_invoiceproposal p ON p.id = i.proposal_id WHERE p.number = ANY({numbers})",
                default, "floor_invoice_writeback",
                ["number", "customer_invoice_number", "customer_invoice_date", "tax"], {"numbers": numbers})
            world.execute("default", INVOICE_UPDATE)
    finally:
        world.execute("default", "DROP TABLE IF EXISTS floor_writeback, floor_invoice_writeback")
    return elapsed()
