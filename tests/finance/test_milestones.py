"""Fixed-price milestones: on-account transactions from Dataverse, invoiced by their billed sales and posted
against WIP invoiced on account or invoiced revenue on account (domain.md §2.1.5, §2.8.2, §2.9.4; D49)."""

import uuid
from datetime import date
from decimal import Decimal

import pytest
from django.db.models import Sum

from finance.models import CostRevenueProfile, CostRevenueProfileRule, InvoiceProposal, OnAccountTransaction
from finance.services import importing, inbound, posting, proposals

from ..helpers import assert_invariants_hold_once_settled, post, sync

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


def test_it_blocks_a_milestone_line_without_a_fixed_price_profile_and_says_so(ledger, staging):
    CostRevenueProfileRule.objects.filter(profile__code="FP").delete()
    on_account = receive_on_account()
    staging.receive(milestone_billed(staging))
    proposal = staging.header("INV-900001", count=1)

    run()

    proposal.refresh_from_db()
    assert (proposal.status, proposal.lines.count(), proposal.import_code) == (
        InvoiceProposal.Status.HEADER_ONLY, 0, "on_account_profile_missing")
    assert f"contract of milestone {MILESTONE}: its revenue has nowhere to post" in proposal.import_message
    on_account.refresh_from_db()
    assert on_account.status == OnAccountTransaction.Status.OPEN

    CostRevenueProfileRule.objects.create(legal_entity=ledger,
                                          profile=CostRevenueProfile.objects.get(legal_entity=ledger, code="FP"))
    run()
    proposal.refresh_from_db()
    assert (proposal.status, proposal.lines.get().revenue_posting) == (
        InvoiceProposal.Status.OPEN, "wip_invoiced_on_account")


# --- Credits through Dataverse, end to end: the on-account transaction follows what is net invoiced (D51) ---


@pytest.fixture
def fixed_fee(world):
    from dataverse.models import ProjectContract
    from dataverse.services import contract_lines, invoicing, milestones

    contract = ProjectContract.objects.get(number="PC-1001")
    line = contract_lines.save_contract_line(
        contract_id=contract.pk, name="Fixed fee", project_id=contract.lines.get().project_id, billing_method="fp",
        include_time=False, contracted_amount=Decimal(10000), by=world["pm"])
    first, _second = milestones.set_milestones(line_id=line.pk, by=world["pm"], milestones=[
        {"name": "Design signed off", "milestone_date": date(2026, 11, 2), "amount": Decimal(4000), "tax": 0},
        {"name": "Go-live", "milestone_date": date(2026, 12, 1), "amount": Decimal(6000), "tax": 0}])
    sync()
    milestones.mark_milestones_ready(milestone_ids=[first.pk], ready=True, by=world["pm"])
    invoice = invoicing.create_proforma_invoice(contract_id=contract.pk, by=world["pm"])
    return contract, first, invoice


def confirm_and_post(world, invoice):
    """Confirm a Dataverse draft, deliver it, import its lines and post its proposal: the invoice posted."""
    from dataverse.services import invoicing

    invoicing.confirm_proforma(invoice_id=invoice.pk, by=world["pm"])
    sync()
    run()
    proposal = InvoiceProposal.objects.get(number=invoice.number)
    assert proposal.status == InvoiceProposal.Status.OPEN, proposal.import_message
    posted = post(proposal)
    sync()
    assert posted.voucher.entries.aggregate(total=Sum("accounting_amount"))["total"] == 0  # balanced
    return proposal, posted


def on_account_of(milestone) -> OnAccountTransaction:
    return OnAccountTransaction.objects.get(milestone_id=milestone.uuid)


def test_it_bills_a_milestone_again_after_a_full_credit(world, fixed_fee):
    from dataverse.models import Milestone
    from dataverse.services import corrections, invoicing

    contract, first, invoice = fixed_fee
    confirm_and_post(world, invoice)
    assert on_account_of(first).status == OnAccountTransaction.Status.INVOICED

    credit_note, posted = confirm_and_post(world, corrections.revise_invoice(invoice_id=invoice.pk, by=world["pm"]))
    assert (posted.is_credit_note, credit_note.lines.get().amount) == (True, Decimal(-4000))
    assert on_account_of(first).status == OnAccountTransaction.Status.OPEN  # nothing net invoiced on it now
    assert Milestone.objects.get(pk=first.pk).invoice_status == Milestone.InvoiceStatus.READY

    again = invoicing.create_proforma_invoice(contract_id=contract.pk, by=world["pm"])
    proposal, posted = confirm_and_post(world, again)
    assert (proposal.lines.get().amount, proposal.lines.get().on_account_id) == (Decimal(4000), on_account_of(first).pk)
    assert entries(posted) == [("130100", "customer_balance", Decimal("4000.00")),
                               ("132300", "wip_invoiced_on_account", Decimal("-4000.00"))]
    assert on_account_of(first).status == OnAccountTransaction.Status.INVOICED
    assert Milestone.objects.get(pk=first.pk).invoice_status == Milestone.InvoiceStatus.CUSTOMER_INVOICE_POSTED
    assert_invariants_hold_once_settled()


def test_it_credits_and_bills_again_a_milestone_on_one_corrective_invoice_then_bills_the_rest(world, fixed_fee):
    from dataverse.models import Milestone
    from dataverse.services import corrections, drafts, invoicing

    contract, first, invoice = fixed_fee
    confirm_and_post(world, invoice)
    correction = corrections.revise_invoice(invoice_id=invoice.pk, by=world["pm"])
    detail = correction.details.get()
    drafts.update_detail(detail_id=detail.pk, by=world["pm"], quantity=Decimal(1), price=Decimal(2500),
                         billing_type=detail.billing_type)

    proposal, posted = confirm_and_post(world, correction)
    assert sorted(proposal.lines.values_list("amount", flat=True)) == [Decimal(-4000), Decimal(2500)]
    assert entries(posted) == [("130100", "customer_balance", Decimal("-1500.00")),
                               ("132300", "wip_invoiced_on_account", Decimal("1500.00"))]
    assert on_account_of(first).status == OnAccountTransaction.Status.OPEN  # 2,500 of 4,000 net invoiced

    rest = invoicing.create_proforma_invoice(contract_id=contract.pk, by=world["pm"])
    proposal, posted = confirm_and_post(world, rest)
    assert proposal.lines.get().amount == Decimal(1500)
    assert on_account_of(first).status == OnAccountTransaction.Status.INVOICED
    assert Milestone.objects.get(pk=first.pk).invoice_status == Milestone.InvoiceStatus.CUSTOMER_INVOICE_POSTED
    assert_invariants_hold_once_settled()


def test_it_does_not_bill_a_milestone_beyond_its_amount(ledger, staging):
    receive_on_account()
    staging.receive(milestone_billed(staging))
    first = staging.header("INV-900001", count=1)
    run()
    posting.post_proposal(proposal_id=first.pk, by="test")

    staging.receive(milestone_billed(staging, invoice="INV-900002"))  # billed twice
    twice = staging.header("INV-900002", count=1)
    run()

    twice.refresh_from_db()
    assert (twice.status, twice.import_code) == (InvoiceProposal.Status.HEADER_ONLY, "unposted")
    assert "would be invoiced below nothing or beyond its amount" in twice.import_message


def test_it_invoices_the_customers_shares_of_a_milestone_on_their_own_proposals(ledger, staging):
    on_account = receive_on_account()
    staging.receive(milestone_billed(staging, amount=Decimal("3000")),
                    milestone_billed(staging, invoice="INV-900002", amount=Decimal("2000")))
    first, second = staging.header("INV-900001", count=1), staging.header("INV-900002", count=1)
    staging.receive(milestone_billed(staging, invoice="INV-900003", amount=Decimal("1000")))  # one too many
    third = staging.header("INV-900003", count=1)

    run()
    second.refresh_from_db()
    assert (second.status, second.import_code) == (InvoiceProposal.Status.HEADER_ONLY, "on_account_busy")
    run()
    run()

    assert [InvoiceProposal.objects.get(pk=p.pk).status for p in (first, second, third)] == [
        InvoiceProposal.Status.OPEN, InvoiceProposal.Status.OPEN, InvoiceProposal.Status.HEADER_ONLY]
    assert "beyond its amount" in InvoiceProposal.objects.get(pk=third.pk).import_message
    posting.post_proposal(proposal_id=first.pk, by="test")
    on_account.refresh_from_db()
    assert on_account.status == OnAccountTransaction.Status.INVOICE_PROPOSAL  # the second share still holds it
    posting.post_proposal(proposal_id=second.pk, by="test")
    on_account.refresh_from_db()
    assert on_account.status == OnAccountTransaction.Status.INVOICED
