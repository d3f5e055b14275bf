"""The table maps: what crosses between the systems, in which direction, keyed by what.

Names are those of Microsoft's dual-write maps (domain.md §3.3). Each map delivers a plain
payload (a batched map: a batch of rows, `projinv.batches`) to the receiving side's inbound
service; the receiving service is idempotent on the map's business key.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder
from django.utils.translation import gettext_lazy as _

from dataverse.services import inbound as dataverse_inbound
from finance.services import inbound as finance_inbound
from projinv.batches import JsonRows

DATAVERSE = "dataverse"
FINANCE = "finance"


@dataclass(frozen=True)
class TableMap:
    code: str
    name: str
    source: str  # the system whose outbox holds the changes
    key_field: str  # the business key in the payload (rows carry it per row)
    priority: int  # delivery order within one sync: header, then actuals, then the rest
    deliver: Callable[[object], object]
    # Source field -> target field. The outbox keeps the source's words; delivery speaks the target's.
    fields: dict[str, str]
    batched: bool = False  # payload is a list of rows, delivered in one statement
    # The payload field naming the invoice a change belongs to: its ordering key (see Change).
    ordering_field: str = ""

    def ordering_key(self, payload) -> str:
        if not self.ordering_field:
            return ""
        rows = payload if self.batched else [payload]
        keys = {str(row.get(self.ordering_field) or "") for row in rows}
        return keys.pop() if len(keys) == 1 else ""

    def translate(self, payload):
        if self.batched:
            return [self._translate_row(row) for row in payload]
        return self._translate_row(payload)

    def _translate_row(self, row: dict) -> dict:
        return {target: row.get(source) for source, target in self.fields.items()}

    @property
    def columns(self) -> dict[str, str]:
        """A batched map's renaming as the receiving statement does it (D78): target column -> source key."""
        return {target: source for source, target in self.fields.items()}

    def rows(self, payload: list[dict]) -> JsonRows:
        """A batched payload in hand (a test's, a caller's) as the receiver reads it: the rows encoded
        once, their keys renamed to the target's words by the receiving statement itself. The relay
        streams claimed changes across instead (relay.OutboxRows, D82)."""
        return JsonRows(json.dumps(payload, cls=DjangoJSONEncoder), keys=self.columns)

    def deliver_payload(self, payload):
        """Deliver a payload in hand: a batched map's as JsonRows, any other translated in Python."""
        return self.deliver(self.rows(payload) if self.batched else self.translate(payload))

    @property
    def direction(self):
        return _("Dataverse → finance") if self.source == DATAVERSE else _("finance → Dataverse")


def _same(*names):
    return {name: name for name in names}


INVOICE_PROPOSAL_V2 = TableMap(
    code="invoices", name="Project invoice proposal V2 (invoices)", source=DATAVERSE, key_field="invoice_number",
    priority=1, deliver=lambda header: finance_inbound.receive_invoice_proposal(header=header),
    ordering_field="invoice_number",
    fields=_same("invoice_number", "name", "legal_entity", "contract_number", "customer_number", "currency",
                 "invoice_date", "accounting_date", "amount", "tax", "billed_sales_count"),
)
ACTUALS = TableMap(
    code="msdyn_actuals", name="Project Operations integration actuals (msdyn_actuals)", source=DATAVERSE,
    key_field="msdyn_actualid", priority=2, batched=True, ordering_field="msdyn_invoice",
    deliver=lambda rows: finance_inbound.receive_actuals(rows=rows),
    fields={
        "msdyn_actualid": "actual_id",
        "owningcompany": "legal_entity",
        "msdyn_transactiontypecode": "transaction_type",
        "msdyn_transactionclassification": "transaction_class",
        "msdyn_billingtype": "billing_type",
        "msdyn_project": "project_number",
        "msdyn_salescontract": "contract_number",
        "msdyn_salescontractline": "contract_line_name",
        "msdyn_accountcustomer": "customer_number",
        "msdyn_bookableresource": "resource_name",
        "msdyn_resourcecategory": "role_name",
        "msdyn_invoice": "invoice_number",
        "msdyn_documentdate": "transaction_date",
        "msdyn_accountingdate": "accounting_date",
        "msdyn_quantity": "quantity",
        "msdyn_price": "price",
        "msdyn_amount": "amount",
        "transactioncurrency": "currency",
        "msdyn_description": "description",
        "msdyn_transactioncategory": "transaction_category",
        "msdyn_contractlinescheduleofvalue": "milestone_id",
    },
)
TRANSACTION_CONNECTIONS = TableMap(
    code="msdyn_transactionconnections",
    name="Integration entity for project transaction relationships (msdyn_transactionconnections)",
    source=DATAVERSE, key_field="msdyn_transaction1", priority=3, batched=True, ordering_field="msdyn_invoice",
    deliver=lambda rows: finance_inbound.receive_transaction_connections(rows=rows),
    fields={
        "msdyn_transaction1": "transaction1_id",
        "msdyn_transaction1role": "transaction1_role",
        "msdyn_transaction2": "transaction2_id",
        "msdyn_transaction2role": "transaction2_role",
    },
)
ACTUALS_WRITE_BACK = TableMap(
    code="msdyn_actuals_writeback", name="Project Operations integration actuals (msdyn_actuals), write-back",
    source=FINANCE, key_field="actual_id", priority=1, batched=True, ordering_field="invoice_number",
    deliver=lambda rows: dataverse_inbound.write_back_actuals(rows=rows),
    fields=_same("actual_id", "voucher", "posting_date", "exchange_rate", "accounting_amount",
                 "accounting_currency", "sales_tax_amount"),
)
CUSTOMER_INVOICES = TableMap(
    code="msdyn_customerinvoices", name="Invoice proposal export entity (msdyn_customerinvoices)", source=FINANCE,
    key_field="invoice_number", priority=2, batched=True, ordering_field="invoice_number",
    deliver=lambda rows: dataverse_inbound.record_customer_invoices(rows=rows),
    fields=_same("invoice_number", "customer_invoice_number", "customer_invoice_date", "tax_amount"),
)


# --- Master data (domain.md §2.1, §3.3): Dataverse masters it, finance keeps a reference copy -------
# Each change carries the record's `modifiedon`; finance applies it only when it is newer than what it
# has (D41), so a redelivered or late old change never overwrites a newer one. Changes of one record
# also share an ordering key, so they are delivered in the order they happened.

def _master(code: str, name: str, *, key: str, deliver, fields: dict[str, str], ordering: str = "") -> TableMap:
    return TableMap(code=code, name=name, source=DATAVERSE, key_field=key, priority=1, batched=True,
                    ordering_field=ordering or key, deliver=deliver,
                    fields={**fields, "modifiedon": "modified_on"})


PROJECT_CONTRACTS = _master(
    "salesorders", "Project contract headers (salesorders)", key="salesorderid",
    deliver=lambda rows: finance_inbound.receive_contracts(rows=rows),
    fields={"salesorderid": "contract_number", "name": "name", "owningcompany": "legal_entity",
            "customerid": "customer_number", "transactioncurrency": "currency", "statecode": "status"})
FUNDING_SOURCES = _master(
    "msdyn_projectcontractsplitbillingrules", "Project funding source (msdyn_projectcontractsplitbillingrules)",
    key="msdyn_customer", ordering="msdyn_contract",
    deliver=lambda rows: finance_inbound.receive_funding_sources(rows=rows),
    # The billing split % is mastered in Dataverse only and does not travel (domain.md §2.1.2).
    fields={"msdyn_contract": "contract_number", "msdyn_customer": "customer_number",
            "msdyn_isprimary": "is_primary", "deleted": "deleted"})
CONTRACT_LINES = _master(
    "salesorderdetails", "Project contract lines (salesorderdetails)", key="msdyn_name", ordering="msdyn_contract",
    deliver=lambda rows: finance_inbound.receive_contract_billing_rules(rows=rows),
    fields={"msdyn_contract": "contract_number", "msdyn_name": "line_name", "msdyn_project": "project_number",
            "msdyn_billingmethod": "billing_method", "deleted": "deleted"})
PROJECTS = _master(
    "msdyn_projects", "Projects V2 (msdyn_projects)", key="msdyn_projectid",
    deliver=lambda rows: finance_inbound.receive_projects(rows=rows),
    fields={"msdyn_projectid": "project_number", "msdyn_subject": "name", "owningcompany": "legal_entity"})
TRANSACTION_CATEGORIES = _master(
    "msdyn_transactioncategories", "Project transaction categories (msdyn_transactioncategories)",
    key="msdyn_name", deliver=lambda rows: finance_inbound.receive_transaction_categories(rows=rows),
    fields={"msdyn_name": "category", "msdyn_transactionclass": "transaction_class"})
MILESTONES = _master(
    "msdyn_contractlinescheduleofvalues", "Contract line milestones (msdyn_contractlinescheduleofvalues)",
    key="msdyn_contractlinescheduleofvalueid",
    deliver=lambda rows: finance_inbound.receive_on_account_transactions(rows=rows),
    fields={"msdyn_contractlinescheduleofvalueid": "milestone_id", "msdyn_contract": "contract_number",
            "msdyn_contractline": "line_name", "msdyn_project": "project_number", "owningcompany": "legal_entity",
            "msdyn_name": "name", "msdyn_milestonedate": "milestone_date", "msdyn_amount": "amount",
            "transactioncurrency": "currency", "deleted": "deleted"})
MASTER_DATA = {m.code: m for m in (PROJECT_CONTRACTS, FUNDING_SOURCES, CONTRACT_LINES, PROJECTS,
                                   TRANSACTION_CATEGORIES, MILESTONES)}

MAPS = {m.code: m for m in (*MASTER_DATA.values(), INVOICE_PROPOSAL_V2, ACTUALS, TRANSACTION_CONNECTIONS,
                             ACTUALS_WRITE_BACK, CUSTOMER_INVOICES)}
