"""Billed sales of a fixed-price line that are no milestone's (a detail added by hand, domain.md §2.7): finance
posts a project transaction of their own, with no WIP, and invoices it like a milestone's revenue (D54)."""

import uuid
from decimal import Decimal

import pytest

from finance.models import (
    ActualStaging,
    CostRevenueProfile,
    CostRevenueProfileRule,
    InvoiceProposal,
    InvoiceProposalLine,
    LedgerEntry,
    ProjectCategory,
    ProjectTransaction,
)
from finance.services import importing, inbound, posting, proposals

pytestmark = pytest.mark.django_db(databases=["default", "finance"])

D = Decimal
LINE = "Fixed fee"
WIP = {LedgerEntry.PostingType.WIP_SALES_VALUE, LedgerEntry.PostingType.ACCRUED_REVENUE}


def run():
    return importing.import_from_staging(triggered_by="test")


def receive_rule(*, billing_method="fp", line_name=LINE):
    inbound.receive_contract_billing_rules(rows=[{
        "contract_number": "PC-1001", "line_name": line_name, "project_number": "PRJ-1001",
        "billing_method": billing_method, "deleted": False, "modified_on": "2026-03-01T00:00:00+00:00"}])


def fp_billed(staging, *, invoice="INV-900001", quantity=1, price=1200, **fields) -> dict:
    """The billed sale of a fee added by hand on the fixed-price line: no unbilled sale, no milestone."""
    quantity, price = D(quantity), D(price)
    return staging.row(transaction_type="billed_sales", transaction_class="fee", transaction_category="Setup fee",
                       resource_name="", role_name="", contract_line_name=LINE, invoice_number=invoice,
                       quantity=quantity, price=price, amount=quantity * price, **fields)


def credit_of(staging, billed: dict, *, invoice: str) -> dict:
    """Its credit, from a corrective invoice: the negative, linked to it by the reversing connection."""
    return billed | {"actual_id": uuid.uuid4(), "invoice_number": invoice, "quantity": -billed["quantity"],
                     "amount": -billed["amount"]}


def receive_credit(credit: dict, original: dict):
    inbound.receive_actuals(rows=[credit])
    inbound.receive_transaction_connections(rows=[{
        "transaction1_id": credit["actual_id"], "transaction1_role": "reversing",
        "transaction2_id": original["actual_id"], "transaction2_role": "original"}])


def staged(row: dict) -> ActualStaging:
    return ActualStaging.objects.get(dataverse_actual_id=row["actual_id"])


def entries(invoice) -> dict:
    return {posting_type: (account, amount) for account, posting_type, amount in
            invoice.voucher.entries.values_list("account", "posting_type", "accounting_amount")}


def invoiced(staging, billed: dict, *, count=1, **header) -> InvoiceProposal:
    staging.receive(billed)
    proposal = staging.header(billed["invoice_number"], count=count, **header)
    run()
    proposal.refresh_from_db()
    return proposal


def test_it_invoices_the_billed_sale_on_a_transaction_of_its_own_with_no_wip(ledger, staging):
    receive_rule()
    billed = fp_billed(staging, customer_number="C-1002")  # a customer who pays sales tax

    proposal = invoiced(staging, billed, customer_number="C-1002")

    assert proposal.status == InvoiceProposal.Status.OPEN, proposal.import_message
    line = proposal.lines.get()
    transaction = ProjectTransaction.objects.get(dataverse_actual_id=billed["actual_id"])
    assert (line.staging.dataverse_actual_id, line.project_transaction_id, line.on_account_id) == (
        billed["actual_id"], transaction.pk, None)
    assert (line.quantity, line.amount, line.chargeable) == (D(1), D(1200), True)
    assert line.tax > 0 and proposal.amount == line.amount and proposal.tax == line.tax
    # Finance's subledger holds the billing: posted with no voucher (nothing was accrued), now on the proposal.
    assert (transaction.transaction_type, transaction.amount, transaction.voucher, transaction.status) == (
        "billed_sales", D(1200), "", ProjectTransaction.Status.INVOICE_PROPOSAL)
    # Its project category is the fee's, and the line's item sales tax group the category's.
    category = ProjectCategory.objects.get(legal_entity=ledger, code=transaction.category)
    assert (category.category_type, line.item_tax_group) == ("fee", category.item_tax_group)
    assert not LedgerEntry.objects.exists()  # nothing is journalized for it

    invoice = posting.post_proposal(proposal_id=proposal.pk, by="test")

    setup = ledger.posting_setup
    revenue = line.revenue_posting
    assert entries(invoice) == {
        "customer_balance": (setup.customer_balance, line.amount + line.tax),
        revenue: (getattr(setup, revenue), -line.amount),
        "sales_tax": (setup.sales_tax, -line.tax)}
    assert not WIP & set(entries(invoice))  # no WIP to reverse
    assert (invoice.is_credit_note, invoice.total, invoice.customer_transaction.amount) == (
        False, line.amount + line.tax, line.amount + line.tax)
    transaction.refresh_from_db()
    assert transaction.status == ProjectTransaction.Status.INVOICED
    row = staged(billed)
    assert (row.status, row.voucher, row.sales_tax_amount) == ("invoiced", invoice.voucher.number, line.tax)


@pytest.mark.parametrize("on_account_invoicing", ["balance", "pl"])
def test_it_posts_the_revenue_as_the_fixed_price_profile_posts_a_milestone_s(ledger, staging, on_account_invoicing):
    CostRevenueProfile.objects.filter(legal_entity=ledger, billing_method="fp").update(
        on_account_invoicing=on_account_invoicing)
    receive_rule()
    milestone = uuid.uuid4()
    inbound.receive_on_account_transactions(rows=[{
        "milestone_id": str(milestone), "contract_number": "PC-1001", "line_name": LINE, "project_number": "PRJ-1001",
        "legal_entity": "USPM", "name": "Go-live", "milestone_date": str(staging.DAY), "amount": D(5000),
        "currency": "USD", "deleted": False, "modified_on": "2026-03-01T00:00:00+00:00"}])
    by_hand = fp_billed(staging)
    scheduled = staging.row(transaction_type="billed_sales", transaction_class="milestone", invoice_number="INV-900001",
                            milestone_id=milestone, quantity=D(1), price=D(5000), amount=D(5000),
                            contract_line_name=LINE)
    staging.receive(scheduled)

    proposal = invoiced(staging, by_hand, count=2)

    lines = {line.transaction_class: line.revenue_posting for line in proposal.lines.all()}
    assert lines["fee"] == lines["milestone"]
    invoice = posting.post_proposal(proposal_id=proposal.pk, by="test")
    assert entries(invoice)[lines["fee"]][1] == -D(6200)


def test_it_makes_one_transaction_and_one_line_whatever_is_replayed(ledger, staging):
    receive_rule()
    billed = fp_billed(staging)
    staging.receive(billed)
    staging.receive(billed)  # a redelivered actuals change
    proposal = staging.header("INV-900001", count=1)
    run()
    staging.receive(billed)
    run()
    run()

    assert ProjectTransaction.objects.filter(dataverse_actual_id=billed["actual_id"]).count() == 1
    assert InvoiceProposalLine.objects.filter(proposal=proposal).count() == 1


def test_it_waits_for_the_line_s_billing_rule_then_invoices_the_billed_sale(ledger, staging):
    billed = fp_billed(staging)

    proposal = invoiced(staging, billed)

    assert (staged(billed).status, staged(billed).wait_reason) == ("waiting", "billing_rule_missing")
    assert (proposal.status, proposal.import_code) == (InvoiceProposal.Status.HEADER_ONLY, "unposted")
    assert [(item["code"], item["params"]["actual"], item["params"]["reason"])
            for item in proposal.import_params["list"]] == [("waiting", str(billed["actual_id"]),
                                                             "billing_rule_missing")]
    assert str(ActualStaging.WaitReason.BILLING_RULE_MISSING.label) in proposal.import_message
    assert not ProjectTransaction.objects.exists()

    receive_rule()
    run()

    proposal.refresh_from_db()
    assert (proposal.status, staged(billed).wait_reason) == (InvoiceProposal.Status.OPEN, "")


def test_it_leaves_a_time_and_material_billed_sale_waiting_for_its_connection(ledger, staging):
    receive_rule(billing_method="tm")
    billed = fp_billed(staging)  # on a T&M line its unbilled sale's connection is still to come

    proposal = invoiced(staging, billed)

    assert (staged(billed).status, staged(billed).invoiced_actual_id) == ("received", None)
    assert [item["code"] for item in proposal.import_params["list"]] == ["missing_connection"]
    assert not ProjectTransaction.objects.exists()


def test_it_stops_waiting_on_the_rule_once_a_time_and_material_rule_arrives(ledger, staging):
    billed = fp_billed(staging)
    invoiced(staging, billed)
    receive_rule(billing_method="tm")

    run()

    assert (staged(billed).status, staged(billed).wait_reason) == ("received", "")
    assert not ProjectTransaction.objects.exists()


def test_it_holds_the_proposal_without_a_fixed_price_profile(ledger, staging):
    CostRevenueProfileRule.objects.filter(legal_entity=ledger, profile__billing_method="fp").delete()
    receive_rule()
    billed = fp_billed(staging)

    proposal = invoiced(staging, billed)

    assert (proposal.status, proposal.import_code) == (InvoiceProposal.Status.HEADER_ONLY,
                                                       "fixed_price_profile_missing")
    assert str(billed["actual_id"]) in proposal.import_message


def test_it_credits_the_billed_sale_in_full_as_a_credit_note_on_the_same_transaction(ledger, staging):
    receive_rule()
    billed = fp_billed(staging)
    first = invoiced(staging, billed)
    credit = credit_of(staging, billed, invoice="INV-900002")
    receive_credit(credit, billed)
    corrective = staging.header("INV-900002", count=1)

    run()  # the credit waits while what it credits is not invoiced
    corrective.refresh_from_db()
    assert corrective.status == InvoiceProposal.Status.HEADER_ONLY

    original = posting.post_proposal(proposal_id=first.pk, by="test")
    run()
    corrective.refresh_from_db()
    assert corrective.status == InvoiceProposal.Status.OPEN, corrective.import_message
    line = corrective.lines.get()
    transaction = ProjectTransaction.objects.get(dataverse_actual_id=billed["actual_id"])
    assert (line.quantity, line.amount, line.project_transaction_id) == (D(-1), D(-1200), transaction.pk)
    assert ProjectTransaction.objects.count() == 1  # a credit posts no transaction of its own

    credit_note = posting.post_proposal(proposal_id=corrective.pk, by="test")

    assert credit_note.is_credit_note and credit_note.total == -original.total
    assert entries(credit_note) == {posting_type: (account, -amount)
                                    for posting_type, (account, amount) in entries(original).items()}
    assert sum(amount for _account, amount in entries(credit_note).values()) == 0
    assert credit_note.customer_transaction.amount == credit_note.total
    assert staged(credit).status == "invoiced"


def test_it_re_bills_what_should_stand_on_a_transaction_of_its_own(ledger, staging):
    receive_rule()
    billed = fp_billed(staging)
    posting.post_proposal(proposal_id=invoiced(staging, billed).pk, by="test")
    credit = credit_of(staging, billed, invoice="INV-900002")
    rebill = fp_billed(staging, invoice="INV-900002", price=800)
    receive_credit(credit, billed)

    corrective = invoiced(staging, rebill, count=2)

    assert corrective.status == InvoiceProposal.Status.OPEN, corrective.import_message
    assert sorted(corrective.lines.values_list("amount", flat=True)) == [D(-1200), D(800)]
    assert ProjectTransaction.objects.get(dataverse_actual_id=rebill["actual_id"]).status == "invoice_proposal"
    credit_note = posting.post_proposal(proposal_id=corrective.pk, by="test")
    assert (credit_note.is_credit_note, credit_note.amount) == (True, D(-400))
    assert sum(amount for _account, amount in entries(credit_note).values()) == 0


def test_it_frees_the_transaction_when_the_lines_are_deleted_and_imports_it_again(ledger, staging):
    receive_rule()
    billed = fp_billed(staging)
    proposal = invoiced(staging, billed)

    proposals.delete_all_lines(proposal_id=proposal.pk, by="test")
    transaction = ProjectTransaction.objects.get(dataverse_actual_id=billed["actual_id"])
    assert transaction.status == ProjectTransaction.Status.POSTED
    run()

    proposal.refresh_from_db()
    assert (proposal.status, proposal.lines.get().project_transaction_id) == (InvoiceProposal.Status.OPEN,
                                                                             transaction.pk)
    assert ProjectTransaction.objects.count() == 1
