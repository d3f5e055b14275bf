"""Finance fixtures: the set-up alone, staging rows built by hand, a second database session.

Most import cases need finance only: rows are staged through the same inbound service the
`msdyn_actuals`, transaction-connections and invoice-header maps deliver to, with the target field
names of `inbound.STAGE_ACTUALS_SQL`.
"""

import uuid
from datetime import date
from decimal import Decimal

import psycopg
import pytest
from django.db import connections

from finance.models import InvoiceProposal, LedgerAccount, LegalEntity, PostingSetup
from finance.services import importing, inbound, setup
from projinv.dualwrite import demo

DAY = date(2026, 3, 10)


class Staging:
    """Builds staging rows as Dataverse would send them (USPM, USD, PRJ-1001 unless told) and stages them."""

    DAY = DAY

    def row(self, **fields) -> dict:
        row = dict(
            actual_id=uuid.uuid4(), legal_entity="USPM", transaction_type="unbilled_sales", transaction_class="time",
            billing_type="chargeable", project_number="PRJ-1001", contract_number="PC-1001",
            customer_number="C-1001", resource_name="Alice Consultant", role_name="Consultant",
            transaction_date=DAY, accounting_date=DAY, quantity=Decimal("8"), price=Decimal("200"),
            amount=Decimal("1600"), currency="USD",
        )
        return row | fields

    def unbilled(self, **fields) -> dict:
        return self.row(**fields)

    def cost(self, **fields) -> dict:
        return self.row(**{"transaction_type": "cost", "billing_type": "not_available", "price": Decimal("100"),
                           "amount": Decimal("800"), **fields})

    def billed(self, of: dict, *, invoice: str, **fields) -> dict:
        """The billed sale that invoices the unbilled sale `of` (`invoiced_actual_id`: `receive` sends it as
        their transaction connection)."""
        return of | {"actual_id": uuid.uuid4(), "transaction_type": "billed_sales", "invoice_number": invoice,
                     "invoiced_actual_id": of["actual_id"]} | fields

    def receive(self, *rows) -> int:
        """Stage the rows as the actuals map sends them, then the connections their `invoiced_actual_id` names,
        as the connections map would."""
        rows = [dict(row) for row in rows]
        links = [(row["actual_id"], row.pop("invoiced_actual_id")) for row in rows if row.get("invoiced_actual_id")]
        for row in rows:
            row.pop("invoiced_actual_id", None)
        created = inbound.receive_actuals(rows=rows)
        if links:
            inbound.receive_transaction_connections(rows=[
                {"transaction1_id": billed, "transaction1_role": "billed_sales", "transaction2_id": unbilled,
                 "transaction2_role": "unbilled_sales"} for billed, unbilled in links])
        return created

    def invoice(self, unbilled: dict, *, invoice: str = "INV-900001") -> InvoiceProposal:
        """Stage and post `unbilled`, then its billed sale and proposal header, and import the lines."""
        self.receive(unbilled)
        importing.import_from_staging(triggered_by="test")
        self.receive(self.billed(unbilled, invoice=invoice))
        proposal = self.header(invoice, count=1)
        importing.import_from_staging(triggered_by="test")
        proposal.refresh_from_db()
        return proposal

    def header(self, invoice: str, *, count: int, **fields) -> InvoiceProposal:
        inbound.receive_invoice_proposal(header=dict(
            invoice_number=invoice, name=f"Proforma {invoice}", legal_entity="USPM", customer_number="C-1001",
            contract_number="PC-1001", currency="USD", invoice_date=DAY, accounting_date=DAY,
            billed_sales_count=count, amount=Decimal("0"), tax=Decimal("0"),
        ) | fields)
        return InvoiceProposal.objects.get(number=invoice)


@pytest.fixture
def staging():
    return Staging()


@pytest.fixture
def ledger():
    """Finance's demo set-up only: legal entity USPM in USD, its posting set-up and customers."""
    demo.load_finance()
    return LegalEntity.objects.get(code=demo.LEGAL_ENTITY)


class Entities:
    """Further legal entities, with posting set-ups on their own accounts."""

    def create(self, code="DEMF", *, currency="EUR", posting_setup=True, project_operations=True) -> LegalEntity:
        entity = LegalEntity.objects.create(code=code, name=f"Contoso {code}", accounting_currency=currency)
        if project_operations:
            setup.enable_project_operations(legal_entity=entity)
        if posting_setup:
            self.add_posting_setup(entity)
        return entity

    def add_posting_setup(self, entity: LegalEntity) -> PostingSetup:
        # The demo's account numbers with a "9" in front, so entries show which set-up they came from.
        for number, name in demo.ACCOUNTS.values():
            LedgerAccount.objects.get_or_create(legal_entity=entity, number=f"9{number}", defaults={"name": name})
        return PostingSetup.objects.create(
            legal_entity=entity, **{field: f"9{number}" for field, (number, _name) in demo.ACCOUNTS.items()})


@pytest.fixture
def entities():
    return Entities()


@pytest.fixture
def other_session():
    """A second session on the finance test database, as another worker process would hold."""
    s = connections["finance"].settings_dict
    params = dict(dbname=s["NAME"], user=s["USER"], password=s["PASSWORD"], host=s["HOST"], port=s["PORT"])
    with psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True) as conn:
        yield conn
