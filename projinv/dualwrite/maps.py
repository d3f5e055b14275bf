"""The table maps: what crosses between the systems, in which direction, keyed by what.

Names are those of Microsoft's dual-write maps (domain.md §3.3). Each map delivers a plain
payload to the receiving side's inbound service; the receiving service is idempotent on the
map's business key.
"""

from dataclasses import dataclass
from typing import Callable

from django.utils.translation import gettext_lazy as _

from dataverse.services import inbound as dataverse_inbound
from finance.services import inbound as finance_inbound

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
    batched: bool = False  # payload is a list of rows, delivered in one statement

    @property
    def direction(self):
        return _("Dataverse → finance") if self.source == DATAVERSE else _("finance → Dataverse")


INVOICE_PROPOSAL_V2 = TableMap(
    code="invoices", name="Project invoice proposal V2 (invoices)", source=DATAVERSE, key_field="invoice_number",
    priority=1, deliver=lambda header: finance_inbound.receive_invoice_proposal(header=header),
)
ACTUALS = TableMap(
    code="msdyn_actuals", name="Project Operations integration actuals (msdyn_actuals)", source=DATAVERSE,
    key_field="actual_id", priority=2, batched=True,
    deliver=lambda rows: finance_inbound.receive_actuals(rows=rows),
)
ACTUALS_WRITE_BACK = TableMap(
    code="msdyn_actuals_writeback", name="Project Operations integration actuals (msdyn_actuals), write-back",
    source=FINANCE, key_field="actual_id", priority=1, batched=True,
    deliver=lambda rows: dataverse_inbound.write_back_actuals(rows=rows),
)
CUSTOMER_INVOICES = TableMap(
    code="msdyn_customerinvoices", name="Invoice proposal export entity (msdyn_customerinvoices)", source=FINANCE,
    key_field="invoice_number", priority=2,
    deliver=lambda summary: dataverse_inbound.record_customer_invoice(**summary),
)

MAPS = {m.code: m for m in (INVOICE_PROPOSAL_V2, ACTUALS, ACTUALS_WRITE_BACK, CUSTOMER_INVOICES)}
