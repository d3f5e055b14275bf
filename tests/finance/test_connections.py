"""Transaction connections: what links a billed sale to the unbilled sale it invoices (domain.md §2.3.2, §2.8;
contract.md "The transaction connection replaces …")."""

import uuid
from decimal import Decimal

import pytest

from finance.models import ActualStaging, InvoiceProposal, TransactionConnectionStaging
from finance.services import importing, inbound
from tests.helpers import post

pytestmark = pytest.mark.django_db(databases=["default", "finance"])


def run():
    return importing.import_from_staging(triggered_by="test")


def connection(first: dict, first_role: str, second: dict, second_role: str) -> dict:
    return {"transaction1_id": first["actual_id"], "transaction1_role": first_role,
            "transaction2_id": second["actual_id"], "transaction2_role": second_role}


def invoiced(row: dict):
    return ActualStaging.objects.get(dataverse_actual_id=row["actual_id"]).invoiced_actual_id


def billed_without_link(staging, of: dict, *, invoice: str, **fields) -> dict:
    row = staging.billed(of, invoice=invoice, **fields)
    del row["invoiced_actual_id"]  # the actuals map no longer carries it
    return row


def test_it_links_a_billed_sale_whose_connection_arrives_after_it(ledger, staging):
    unbilled = staging.unbilled()
    staging.receive(unbilled)
    run()
    billed = billed_without_link(staging, unbilled, invoice="INV-900001")
    staging.receive(billed)
    proposal = staging.header("INV-900001", count=1)

    run()

    proposal.refresh_from_db()
    assert (proposal.status, proposal.lines.count()) == (InvoiceProposal.Status.HEADER_ONLY, 0)
    # The troubleshooting names the billed sale still waiting for its connection.
    assert (f"{billed['actual_id']} ({staging.DAY}, 1600.00 USD): billed sale without its transaction connection "
            "yet") in proposal.import_message

    created = inbound.receive_transaction_connections(
        rows=[connection(unbilled, "unbilled_sales", billed, "billed_sales")])  # ends named either way round
    assert created == 1 and invoiced(billed) == unbilled["actual_id"]
    run()

    proposal.refresh_from_db()
    assert (proposal.status, proposal.amount, proposal.import_message) == (
        InvoiceProposal.Status.OPEN, Decimal("1600"), "")


def test_it_links_a_billed_sale_whose_connection_arrived_first(ledger, staging):
    unbilled = staging.unbilled()
    staging.receive(unbilled)
    run()
    billed = billed_without_link(staging, unbilled, invoice="INV-900001")
    cost = {"actual_id": uuid.uuid4()}
    inbound.receive_transaction_connections(rows=[
        connection(billed, "billed_sales", unbilled, "unbilled_sales"),
        connection(unbilled, "unbilled_sales", cost, "cost"),  # not a billing link: stored, never used as one
    ])

    staging.receive(billed)
    staging.header("INV-900001", count=1)
    run()

    assert invoiced(billed) == unbilled["actual_id"]
    assert InvoiceProposal.objects.get(number="INV-900001").status == InvoiceProposal.Status.OPEN
    assert ActualStaging.objects.get(dataverse_actual_id=unbilled["actual_id"]).invoiced_actual_id is None


def test_it_stores_a_redelivered_connection_once(ledger, staging):
    unbilled, billed = staging.unbilled(), {"actual_id": uuid.uuid4()}
    rows = [connection(billed, "billed_sales", unbilled, "unbilled_sales")]

    assert inbound.receive_transaction_connections(rows=rows) == 1
    assert inbound.receive_transaction_connections(rows=rows) == 0
    assert TransactionConnectionStaging.objects.count() == 1


def test_it_links_a_credit_through_the_billed_sale_it_reverses(ledger, staging):
    unbilled = staging.unbilled()
    staging.receive(unbilled)
    run()
    billed = billed_without_link(staging, unbilled, invoice="INV-900001")
    staging.receive(billed)
    inbound.receive_transaction_connections(rows=[connection(billed, "billed_sales", unbilled, "unbilled_sales")])
    staging.header("INV-900001", count=1)
    run()
    post(InvoiceProposal.objects.get(number="INV-900001"))

    # The corrective invoice's billed-sales reversal: its connection first, then the actual.
    credit = billed_without_link(staging, unbilled, invoice="INV-900002", quantity=Decimal("-8"),
                                 amount=Decimal("-1600"))
    inbound.receive_transaction_connections(rows=[connection(credit, "reversing", billed, "original")])
    staging.receive(credit)

    assert invoiced(credit) == unbilled["actual_id"]
    staging.header("INV-900002", count=1)
    run()
    credit_note = post(InvoiceProposal.objects.get(number="INV-900002"))
    assert (credit_note.is_credit_note, credit_note.total) == (True, Decimal("-1600"))


def test_it_links_a_billed_sale_only_through_its_connection_whatever_the_row_says(ledger, staging):
    from finance.services import inbound

    unbilled = staging.unbilled()
    staging.receive(unbilled)
    billed = staging.billed(unbilled, invoice="INV-900001")  # a stray key, as an old bridge sent it

    inbound.receive_actuals(rows=[billed])

    assert invoiced(billed) is None
