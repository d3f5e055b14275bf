"""What Dataverse may send finance, through the bridge: staged actuals, their transaction
connections and proposal headers.

Each is idempotent on its business key (ON CONFLICT DO NOTHING): at-least-once delivery
becomes effectively-once here.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import connections, transaction

from projinv import batches
from projinv.batches import Batch

from ..models import InvoiceProposal
from ..selectors import payment_days

ACTUAL_COLUMNS = {
    "actual_id": "uuid", "legal_entity": "text", "transaction_type": "text", "transaction_class": "text",
    "billing_type": "text", "project_number": "text", "contract_number": "text", "contract_line_name": "text",
    "customer_number": "text", "resource_name": "text", "role_name": "text", "invoice_number": "text",
    "transaction_date": "date", "accounting_date": "date", "quantity": "numeric", "price": "numeric",
    "amount": "numeric", "currency": "text", "description": "text", "transaction_category": "text",
    "milestone_id": "uuid",
}
# Returns how many rows were new, and the new billed sales (to link): a row staged before was
# linked then, or its connection linked it when it came.
STAGE_ACTUALS_SQL = """
WITH staged AS (
INSERT INTO finance_actualstaging (
    dataverse_actual_id, legal_entity, transaction_type, transaction_class, billing_type, project_number,
    contract_number, contract_line_name, customer_number, resource_name, role_name, invoice_number,
    transaction_date, accounting_date, quantity, price, amount, currency, description,
    status, wait_reason, received_at, accounting_currency, voucher, transaction_category, milestone_id)
SELECT r.actual_id, r.legal_entity, r.transaction_type, r.transaction_class, r.billing_type, r.project_number,
       coalesce(r.contract_number, ''), coalesce(r.contract_line_name, ''), coalesce(r.customer_number, ''),
       coalesce(r.resource_name, ''), coalesce(r.role_name, ''), coalesce(r.invoice_number, ''),
       r.transaction_date, r.accounting_date, r.quantity, r.price, r.amount, r.currency,
       coalesce(r.description, ''), 'received', '', now(), '', '', coalesce(r.transaction_category, ''), r.milestone_id
  FROM {rows}
ON CONFLICT (dataverse_actual_id) DO NOTHING
RETURNING dataverse_actual_id, transaction_type)
SELECT count(*), array_agg(dataverse_actual_id::text) FILTER (WHERE transaction_type = 'billed_sales') FROM staged
"""

CONNECTION_COLUMNS = {"transaction1_id": "uuid", "transaction1_role": "text", "transaction2_id": "uuid",
                      "transaction2_role": "text"}
# Returns how many connections were new, and their ends (to link, as for actuals).
STAGE_CONNECTIONS_SQL = """
WITH staged AS (
INSERT INTO finance_transactionconnectionstaging (
    transaction1_id, transaction1_role, transaction2_id, transaction2_role, received_at)
SELECT r.transaction1_id, r.transaction1_role, r.transaction2_id, r.transaction2_role, now()
  FROM {rows}
ON CONFLICT (transaction1_id, transaction2_id) DO NOTHING
RETURNING transaction1_id, transaction2_id)
SELECT count(*), ARRAY(SELECT DISTINCT unnest(ARRAY[transaction1_id, transaction2_id])::text FROM staged ORDER BY 1)
  FROM staged
"""


# A connection may name its ends in either order: read each one both ways round. It is found by
# either end through that end's index (an OR over both columns would read the whole table).
CONNECTION_PAIRS = """(
    WITH found AS (
        SELECT * FROM finance_transactionconnectionstaging WHERE transaction1_id = ANY(%(ids)s::uuid[])
        UNION
        SELECT * FROM finance_transactionconnectionstaging WHERE transaction2_id = ANY(%(ids)s::uuid[]))
    SELECT transaction1_id AS this_id, transaction1_role AS this_role,
           transaction2_id AS other_id, transaction2_role AS other_role FROM found
    UNION ALL
    SELECT transaction2_id, transaction2_role, transaction1_id, transaction1_role FROM found
)"""

# Which unbilled sale a billed sale invoices, once both it and its connection are here, whichever
# came first (contract.md): the billed sale's own link, then a credit's, through the billed sale it
# reverses (whose link the first statement may just have filled).
LINK_INVOICED_SQL = [
    f"""UPDATE finance_actualstaging s SET invoiced_actual_id = c.other_id
          FROM {CONNECTION_PAIRS} c
         WHERE s.dataverse_actual_id = c.this_id AND c.this_role = 'billed_sales'
           AND c.other_role = 'unbilled_sales' AND s.transaction_type = 'billed_sales'
           AND s.invoiced_actual_id IS NULL""",
    f"""UPDATE finance_actualstaging s SET invoiced_actual_id = b.invoiced_actual_id
          FROM {CONNECTION_PAIRS} c
          JOIN finance_actualstaging b ON b.dataverse_actual_id = c.other_id AND b.transaction_type = 'billed_sales'
         WHERE s.dataverse_actual_id = c.this_id AND c.this_role = 'reversing' AND c.other_role = 'original'
           AND s.transaction_type = 'billed_sales' AND s.invoiced_actual_id IS NULL
           AND b.invoiced_actual_id IS NOT NULL""",
]


def _link_invoiced_actuals(cursor, actual_ids: list[str]) -> None:
    for statement in LINK_INVOICED_SQL:
        cursor.execute(statement, {"ids": actual_ids})


def link_unlinked_billed_sales(cursor) -> None:
    """Import's safety net: link billed sales still waiting for their unbilled sale.

    A connection and its billed sale delivered at the same moment by two workers each commit
    without seeing the other (READ COMMITTED), so neither links; the next import run does.
    """
    cursor.execute("""SELECT array_agg(dataverse_actual_id::text) FROM finance_actualstaging
                       WHERE transaction_type = 'billed_sales' AND invoiced_actual_id IS NULL
                         AND milestone_id IS NULL""")
    if ids := cursor.fetchone()[0]:
        _link_invoiced_actuals(cursor, ids)


@transaction.atomic(using="finance")
def receive_actuals(*, rows: Batch | list[dict]) -> int:
    """Stage actuals (one row per Dataverse actual, unique). Returns how many were new.

    A billed sale's `invoiced_actual_id` is never in the rows: it is filled from its transaction
    connection, here when the connection came first, else when it arrives (D40).
    """
    # Only billed sales are linked: cost and unbilled sales (most rows) invoice nothing.
    return _stage(STAGE_ACTUALS_SQL, ACTUAL_COLUMNS, rows)


@transaction.atomic(using="finance")
def receive_transaction_connections(*, rows: Batch | list[dict]) -> int:
    """Stage transaction connections (unique per pair) and link the billed sales they name to the
    unbilled sales they invoice. Returns how many connections were new."""
    return _stage(STAGE_CONNECTIONS_SQL, CONNECTION_COLUMNS, rows)


def _stage(statement: str, columns: dict[str, str], rows) -> int:
    """Run a staging statement (it returns how many rows were new and which actuals to link), then
    link those actuals. Returns how many rows were new."""
    finance = connections["finance"]
    with batches.execute(finance, statement, rows, columns) as staged:
        created, to_link = staged.fetchone()
    if to_link:
        with finance.cursor() as cursor:
            _link_invoiced_actuals(cursor, to_link)
    return created


@transaction.atomic(using="finance")
def receive_invoice_proposal(*, header: dict) -> bool:
    """Create the proposal header for a confirmed proforma, at most once (BR-01, BR-02).

    Returns False when it already existed (a redelivery): nothing changes then.
    """
    days = payment_days(legal_entity=header["legal_entity"], customer_number=header["customer_number"])
    invoice_date = date.fromisoformat(str(header["invoice_date"]))
    _proposal, created = InvoiceProposal.objects.get_or_create(
        number=header["invoice_number"],
        defaults=dict(
            name=header["name"], legal_entity=header["legal_entity"], customer_number=header["customer_number"],
            contract_number=header["contract_number"], currency=header["currency"], invoice_date=invoice_date,
            due_date=invoice_date + timedelta(days=days),
            accounting_date=date.fromisoformat(str(header["accounting_date"])),
            expected_line_count=header["billed_sales_count"], dataverse_amount=header["amount"],
        ),
    )
    return created


# --- Master data (contract.md "Bridge → finance") ------------------------------------------------
#
# Each map is one INSERT … ON CONFLICT DO UPDATE guarded by `modified_on`: only a newer change
# applies, so a redelivered or late old change never overwrites a newer one. A delete is a change
# too (`active = false`, same guard); a delete that arrives before its record leaves an inactive
# row, so the late create cannot bring it back. Columns finance owns are not in the lists.


@dataclass(frozen=True)
class MasterDataMap:
    table: str
    key: tuple[str, ...]
    columns: dict[str, str]  # column -> SQL type of the incoming value
    own: dict[str, str] = field(default_factory=dict)  # finance's columns -> value on insert, never updated

    @property
    def sql(self) -> str:
        names = list(self.columns)
        values = [f"coalesce(r.{n}, '')" if t == "text" else f"r.{n}" for n, t in self.columns.items()]
        key = ", ".join(self.key)
        updates = ", ".join(f"{n} = EXCLUDED.{n}" for n in names if n not in self.key)
        names += list(self.own)
        values += list(self.own.values())
        return f"""
INSERT INTO {self.table} ({", ".join(names)}, active, modified_on, received_at)
SELECT DISTINCT ON ({", ".join(f"r.{k}" for k in self.key)}) {", ".join(values)},
       NOT coalesce(r.deleted, false), r.modified_on, now()
  FROM {{rows}}
 ORDER BY {", ".join(f"r.{k}" for k in self.key)}, r.modified_on DESC
ON CONFLICT ({key}) DO UPDATE SET {updates}, active = EXCLUDED.active, modified_on = EXCLUDED.modified_on,
       received_at = now()
 WHERE {self.table}.modified_on < EXCLUDED.modified_on
"""

    def receive(self, rows: Batch | list[dict]) -> int:
        """Apply the rows; returns how many records were created or changed."""
        columns = {**self.columns, "deleted": "boolean", "modified_on": "timestamptz"}
        with batches.execute(connections["finance"], self.sql, rows, columns) as cursor:
            return cursor.rowcount


CONTRACTS = MasterDataMap("finance_projectcontract", ("contract_number",), {
    "contract_number": "text", "name": "text", "legal_entity": "text", "customer_number": "text",
    "currency": "text", "status": "text"})
FUNDING_SOURCES = MasterDataMap("finance_fundingsource", ("contract_number", "customer_number"), {
    "contract_number": "text", "customer_number": "text", "is_primary": "boolean"})
BILLING_RULES = MasterDataMap("finance_contractbillingrule", ("contract_number", "line_name"), {
    "contract_number": "text", "line_name": "text", "project_number": "text", "billing_method": "text"})
PROJECTS = MasterDataMap("finance_project", ("project_number",), {
    "project_number": "text", "name": "text", "legal_entity": "text"})
TRANSACTION_CATEGORIES = MasterDataMap("finance_transactioncategory", ("category",), {
    "category": "text", "transaction_class": "text"})
ON_ACCOUNT_TRANSACTIONS = MasterDataMap("finance_onaccounttransaction", ("milestone_id",), {
    "milestone_id": "uuid", "contract_number": "text", "line_name": "text", "project_number": "text",
    "legal_entity": "text", "name": "text", "milestone_date": "date", "amount": "numeric", "currency": "text"},
    own={"status": "'open'", "item_tax_group": "''"})


def receive_contracts(*, rows) -> int:
    return CONTRACTS.receive(rows)


def receive_funding_sources(*, rows) -> int:
    return FUNDING_SOURCES.receive(rows)


def receive_contract_billing_rules(*, rows) -> int:
    return BILLING_RULES.receive(rows)


def receive_projects(*, rows) -> int:
    """Projects; their project group is finance's and stays as the accountant set it."""
    return PROJECTS.receive(rows)


def receive_transaction_categories(*, rows) -> int:
    return TRANSACTION_CATEGORIES.receive(rows)


def receive_on_account_transactions(*, rows) -> int:
    """Milestones as on-account transactions."""
    return ON_ACCOUNT_TRANSACTIONS.receive(rows)
