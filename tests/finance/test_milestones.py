"""Fixed-price milestones: on-account transactions from Dataverse, invoiced by their billed sales and posted
against WIP invoiced on account or invoiced revenue on account (domain.md §2.1.5, §2.8.2, §2.9.4; D49)."""

import uuid
from decimal import Decimal

import pytest

from finance.models import CostRevenueProfile, InvoiceProposal, OnAccountTransaction
from finance.services import importing, inbound, posting, proposals

pytestmark = pytest.mark.django_db(databases=["default", "finance"])

MILESTONE = uuid.UUID("00000000-0000-4000-8000-000000000001")


def run():
    return importing.import_from_staging(triggered_by="test")


def receive_on_account(**fields):
    inbound.receive_on_account_transactions(rows=[{
        "milestone_id": str(MILESTONE), "contract_number": "PC-1001", "line_name": "Fixed price",
        "project_number": "PRJ-1001", "legal_entity": "USPM", "name": "Go-live", "milestone_date": "2026-03-10",
        "amount": Decimal("5000"), "currency": "USD", "deleted": False, "modified_on": "2026-03-01T00:00:00+00:00",
    } | fields])
    return OnAccountTransaction.objects.get(milestone_id=MILESTONE)


def milestone_billed(staging, *, invoice="INV-900001", amount=Decimal("5000")) -> dict:
    return staging.row(transaction_type="billed_sales", transaction_class="milestone", invoice_number=invoice,
                       milestone_id=MILESTONE, quantity=Decimal("1") if amount > 0 else Decimal("-1"), price=amount,
                       amount=amount, contract_line_name="Fixed price")


def entries(invoice) -> list[tuple]:
    return sorted(invoice.voucher.entries.values_list("account", "posting_type", "accounting_amount"))


def test_it_invoices_a_milestone_on_its_on_account_transaction_against_wip_invoiced_on_account(ledger, staging):
    on_account = receive_on_account()
    staging.receive(milestone_billed(staging))
    proposal = staging.header("INV-900001", count=1)

    run()

    proposal.refresh_from_db()
    line = proposal.lines.get()
    assert (proposal.status, proposal.amount, line.on_account_id, line.project_transaction_id) == (
        InvoiceProposal.Status.OPEN, Decimal("5000"), on_account.pk, None)
    assert (line.revenue_posting, line.item_tax_group) == ("wip_invoiced_on_account", "SERV")
    on_account.refresh_from_db()
    assert on_account.status == OnAccountTransaction.Status.INVOICE_PROPOSAL

    invoice = posting.post_proposal(proposal_id=proposal.pk, by="test")

    assert entries(invoice) == [("130100", "customer_balance", Decimal("5000.00")),
                                ("132300", "wip_invoiced_on_account", Decimal("-5000.00"))]
    on_account.refresh_from_db()
    assert on_account.status == OnAccountTransaction.Status.INVOICED


def test_it_posts_to_invoiced_revenue_on_account_when_the_profile_says_profit_and_loss(ledger, staging):
    CostRevenueProfile.objects.filter(legal_entity=ledger, code="FP").update(on_account_invoicing="pl")
    receive_on_account()
    staging.receive(milestone_billed(staging))
    proposal = staging.header("INV-900001", count=1)
    run()

    invoice = posting.post_proposal(proposal_id=proposal.pk, by="test")

    assert entries(invoice) == [("130100", "customer_balance", Decimal("5000.00")),
                                ("401300", "invoiced_revenue_on_account", Decimal("-5000.00"))]


def test_it_waits_for_the_on_account_transaction_and_says_which(ledger, staging):
    staging.receive(milestone_billed(staging))
    proposal = staging.header("INV-900001", count=1)

    run()

    proposal.refresh_from_db()
    assert (proposal.status, proposal.lines.count()) == (InvoiceProposal.Status.HEADER_ONLY, 0)
    assert f"milestone {MILESTONE} ({staging.DAY}, 5000.00 USD): its on-account transaction" in \
        proposal.import_message

    receive_on_account()
    run()
    proposal.refresh_from_db()
    assert proposal.status == InvoiceProposal.Status.OPEN


def test_it_frees_the_on_account_transaction_when_the_lines_are_deleted(ledger, staging):
    on_account = receive_on_account()
    staging.receive(milestone_billed(staging))
    proposal = staging.header("INV-900001", count=1)
    run()

    proposals.delete_all_lines(proposal_id=proposal.pk, by="test")

    on_account.refresh_from_db()
    assert on_account.status == OnAccountTransaction.Status.OPEN
    run()
    proposal.refresh_from_db()
    assert (proposal.status, proposal.lines.get().on_account_id) == (InvoiceProposal.Status.OPEN, on_account.pk)


def test_it_credits_a_milestone_in_full_on_the_same_on_account_transaction(ledger, staging):
    on_account = receive_on_account()
    staging.receive(milestone_billed(staging))
    first = staging.header("INV-900001", count=1)
    run()
    posting.post_proposal(proposal_id=first.pk, by="test")

    staging.receive(milestone_billed(staging, invoice="INV-900002", amount=Decimal("-5000")))
    credit = staging.header("INV-900002", count=1)
    run()
    credit_note = posting.post_proposal(proposal_id=credit.pk, by="test")

    assert credit_note.is_credit_note
    assert entries(credit_note) == [("130100", "customer_balance", Decimal("-5000.00")),
                                    ("132300", "wip_invoiced_on_account", Decimal("5000.00"))]
    assert credit.lines.get().on_account_id == on_account.pk


def test_it_invoices_time_and_a_milestone_on_one_proposal(ledger, staging):
    receive_on_account()
    unbilled = staging.unbilled()
    staging.receive(unbilled)
    run()
    staging.receive(staging.billed(unbilled, invoice="INV-900001"), milestone_billed(staging))
    proposal = staging.header("INV-900001", count=2)
    run()

    invoice = posting.post_proposal(proposal_id=proposal.pk, by="test")

    assert entries(invoice) == [
        ("130100", "customer_balance", Decimal("6600.00")), ("132200", "wip_sales_value", Decimal("-1600.00")),
        ("132300", "wip_invoiced_on_account", Decimal("-5000.00")), ("401100", "invoiced_revenue", Decimal("-1600.00")),
        ("401200", "accrued_revenue", Decimal("1600.00"))]


def test_it_says_so_when_a_milestone_s_billed_sale_names_no_milestone(ledger, staging):
    row = milestone_billed(staging) | {"milestone_id": None}
    staging.receive(row)
    proposal = staging.header("INV-900001", count=1)

    run()

    proposal.refresh_from_db()
    assert f"{row['actual_id']} ({staging.DAY}, 5000.00 USD): a milestone's billed sale that names no milestone" in \
        proposal.import_message


def test_it_lets_the_accountant_set_the_item_tax_group_only_while_the_milestone_is_open(world, staging, as_user):
    from django.urls import reverse

    on_account = receive_on_account()
    client = as_user(world["accountant"])
    url = reverse("finance:setup_on_account_transactions_edit", args=[on_account.pk])

    assert "no such item sales tax group" in client.post(url, {"item_tax_group": "NOPE"}).content.decode()
    assert client.post(url, {"item_tax_group": "SERV"}).status_code == 302
    on_account.refresh_from_db()
    assert on_account.item_tax_group == "SERV"

    staging.receive(milestone_billed(staging))
    staging.header("INV-900001", count=1)
    run()
    response = client.post(url, {"item_tax_group": ""})
    on_account.refresh_from_db()
    assert "cannot change now" in response.content.decode() and on_account.item_tax_group == "SERV"
