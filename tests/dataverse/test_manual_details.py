"""Invoice line details added by hand on a draft (domain.md §2.6 "Invoice Editing Updates") and the
actuals their confirmation creates (§2.7 rows "Manually added ILD on a T&M line / on an FP line", D70)."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from dataverse import selectors
from dataverse.models import (
    Actual,
    BillingStatus,
    BillingType,
    ContractLine,
    InvoiceLine,
    InvoiceLineDetail,
    ResourceRole,
    TransactionCategory,
    TransactionConnection,
    TransactionType,
)
from dataverse.services import contract_lines, drafts, invoicing
from finance.models import ActualStaging, InvoiceProposal, InvoiceProposalLine, PostingSetup
from finance.services import importing
from projinv.domain import DomainError, InvalidTransition

from ..helpers import assert_invariants_hold_once_settled, invoice_contract, post, sync

pytestmark = pytest.mark.django_db(databases=["default", "finance"])
Role = TransactionConnection.Role
D = Decimal


@pytest.fixture
def draft(world):
    """A draft of PC-1001 with its approved time on it, and its time-and-material line."""
    invoice = invoice_contract("PC-1001")
    return invoice, InvoiceLine.objects.get(invoice=invoice, contract_line__billing_method="tm")


@pytest.fixture
def fp_line(world):
    """A fixed-price line of PC-1001 that includes fees (before the draft, so the draft has a line for it)."""
    contract = ContractLine.objects.get(contract__number="PC-1001").contract
    contract.lines.update(include_fee=False)  # with All tasks a project's fees are on one line only
    return contract_lines.save_contract_line(
        contract_id=contract.pk, name="Fixed fee", project_id=contract.lines.get().project_id, billing_method="fp",
        include_time=False, include_fee=True, contracted_amount=D(10000), by=world["pm"])


def add(line, world, **values):
    fields = {"transaction_class": "time", "quantity": D(3), "price": D(250), "billing_type": BillingType.CHARGEABLE,
              "transaction_date": date(2026, 11, 20), "role_id": ResourceRole.objects.get(name="Architect").pk,
              "description": "Go-live support"}
    fields.update(values)
    return drafts.add_manual_detail(invoice_line_id=line.pk, by=world["pm"], **fields)


def made_by(detail):
    return {(a.transaction_type, a.quantity, a.amount, a.skip_sync): a
            for a in Actual.objects.filter(invoice_line_detail=detail)}


def test_it_adds_a_detail_without_an_actual_and_the_totals_follow(draft, world):
    invoice, line = draft
    before = invoice.total
    detail = add(line, world)
    invoice.refresh_from_db()
    assert (detail.actual_id, detail.amount, detail.unit, detail.is_manual) == (None, D(750), "hour", True)
    assert invoice.total == before + D(750)
    assert not Actual.objects.filter(invoice_line_detail=detail).exists()  # no actual until confirmation


def test_it_creates_unbilled_reversal_and_billed_sale_for_a_manual_detail_on_a_tm_line(draft, world):
    invoice, line = draft
    detail = add(line, world)
    invoicing.confirm_proforma(invoice_id=invoice.pk, by=world["pm"])

    actuals = made_by(detail)
    assert set(actuals) == {(TransactionType.UNBILLED_SALES, D(3), D(750), False),
                            (TransactionType.UNBILLED_SALES, D(-3), D(-750), True),
                            (TransactionType.BILLED_SALES, D(3), D(750), False)}
    unbilled = actuals[(TransactionType.UNBILLED_SALES, D(3), D(750), False)]
    reversal = actuals[(TransactionType.UNBILLED_SALES, D(-3), D(-750), True)]
    billed = actuals[(TransactionType.BILLED_SALES, D(3), D(750), False)]
    for actual in actuals.values():
        assert (actual.transaction_class, actual.billing_type, actual.billing_status, actual.role.name,
                actual.contract_line_id, actual.customer_id, actual.invoice_id) == (
            "time", BillingType.CHARGEABLE, BillingStatus.CUSTOMER_INVOICE_POSTED, "Architect",
            line.contract_line_id, invoice.customer_id, invoice.pk)
    assert reversal.adjustment_status == "unadjustable" and unbilled.adjustment_status == ""
    assert billed.invoiced_actual_id == unbilled.pk  # finance invoices the billed sale on the new WIP
    connections = set(TransactionConnection.objects.filter(transaction2=unbilled).values_list(
        "transaction1_id", "transaction1_role", "transaction2_role"))
    assert connections == {(reversal.pk, Role.REVERSING, Role.ORIGINAL),
                           (billed.pk, Role.BILLED_SALES, Role.UNBILLED_SALES)}
    # What reaches finance: the unbilled sale and the billed sale, and the link between them.
    synced = {row["msdyn_actualid"] for row in selectors.synced_actual_rows([a.pk for a in actuals.values()])}
    assert synced == {unbilled.uuid, billed.uuid}
    links = selectors.transaction_connection_rows([billed.pk])
    assert [(r["msdyn_transaction1"], r["msdyn_transaction2"]) for r in links] == [(billed.uuid, unbilled.uuid)]


def test_it_creates_only_a_billed_sale_for_a_manual_detail_on_an_fp_line(fp_line, draft, world):
    invoice, _line = draft
    line = InvoiceLine.objects.get(invoice=invoice, contract_line=fp_line)
    fee = TransactionCategory.objects.get(name="Setup fee")
    detail = add(line, world, transaction_class="fee", category_id=fee.pk, role_id=None, quantity=D(1),
                 price=D(1200), description="Extra training day")
    invoicing.confirm_proforma(invoice_id=invoice.pk, by=world["pm"])

    actuals = list(Actual.objects.filter(invoice_line_detail=detail))
    assert [(a.transaction_type, a.transaction_class, a.quantity, a.amount, a.unit, a.skip_sync,
             a.transaction_category_id, a.invoiced_actual_id, a.contract_line_id) for a in actuals] == [
        (TransactionType.BILLED_SALES, "fee", D(1), D(1200), "each", False, fee.pk, None, fp_line.pk)]
    assert not TransactionConnection.objects.filter(transaction1=actuals[0]).exists()


@pytest.mark.parametrize(("values", "message"), [
    ({"quantity": D(0)}, "more than zero"),
    ({"quantity": D(-1)}, "more than zero"),
    ({"price": D(-1)}, "cannot be negative"),
    ({"transaction_class": "milestone"}, "time, expense, material or a fee"),
    ({"role_id": None}, "Time needs a role"),
    ({"transaction_class": "expense", "role_id": None}, "Choose a expense category"),
    ({"billing_type": "not_available"}, "not a billing type"),
])
def test_it_refuses_a_bad_detail_and_changes_nothing(draft, world, values, message):
    invoice, line = draft
    before = InvoiceLineDetail.objects.filter(invoice=invoice).count()
    with pytest.raises(DomainError, match=message):
        add(line, world, **values)
    assert InvoiceLineDetail.objects.filter(invoice=invoice).count() == before


def test_it_refuses_a_class_the_line_does_not_include(draft, world):
    invoice, line = draft
    ContractLine.objects.filter(pk=line.contract_line_id).update(include_material=False)
    hardware = TransactionCategory.objects.get(name="Hardware")
    with pytest.raises(DomainError, match="does not include Material"):
        add(line, world, transaction_class="material", category_id=hardware.pk, role_id=None)
    assert not InvoiceLineDetail.objects.filter(invoice=invoice, actual=None).exists()


def test_it_refuses_a_detail_on_a_confirmed_invoice(draft, world):
    invoice, line = draft
    invoicing.confirm_proforma(invoice_id=invoice.pk, by=world["pm"])
    with pytest.raises(InvalidTransition):
        add(line, world)


def test_it_adds_a_detail_from_the_invoice_page(draft, world, as_user):
    invoice, line = draft
    client = as_user(world["pm"])
    page = client.get(reverse("dataverse:invoice_detail", args=[invoice.pk]))
    assert reverse("dataverse:detail_add", args=[invoice.pk]) in page.content.decode()
    response = client.post(reverse("dataverse:detail_add", args=[invoice.pk]), {
        "invoice_line": line.pk, "transaction_class": "time", "quantity": "2", "price": "300",
        "billing_type": "chargeable", "role": ResourceRole.objects.get(name="Architect").pk,
        "transaction_date": "2026-11-20", "tax": "0", "description": "Cut-over night"})
    assert response.status_code == 302
    assert InvoiceLineDetail.objects.get(invoice=invoice, actual=None).amount == D(600)


def test_it_refuses_a_crafted_post_on_a_confirmed_invoice(draft, world, as_user):
    invoice, line = draft
    invoicing.confirm_proforma(invoice_id=invoice.pk, by=world["pm"])
    client = as_user(world["pm"])
    response = client.post(reverse("dataverse:detail_add", args=[invoice.pk]), {
        "invoice_line": line.pk, "transaction_class": "time", "quantity": "2", "price": "300",
        "billing_type": "chargeable", "role": ResourceRole.objects.get(name="Architect").pk,
        "transaction_date": "2026-11-20", "tax": "0"}, follow=True)
    assert "can no longer be changed" in response.content.decode()
    assert not InvoiceLineDetail.objects.filter(invoice=invoice, actual=None).exists()


def test_it_shows_errors_on_the_page_and_changes_nothing(draft, world, as_user):
    invoice, line = draft
    response = as_user(world["pm"]).post(reverse("dataverse:detail_add", args=[invoice.pk]), {
        "invoice_line": line.pk, "transaction_class": "time", "quantity": "0", "price": "300",
        "billing_type": "chargeable", "role": ResourceRole.objects.get(name="Architect").pk,
        "transaction_date": "2026-11-20", "tax": "0"}, follow=True)
    assert "more than zero" in response.content.decode()
    assert not InvoiceLineDetail.objects.filter(invoice=invoice, actual=None).exists()


def test_it_walks_a_manual_tm_detail_through_the_bridge_and_finance(world):
    sync()
    importing.import_from_staging(triggered_by="test")  # the approved time is WIP in finance
    invoice = invoice_contract("PC-1001")
    line = InvoiceLine.objects.get(invoice=invoice)
    detail = add(line, world)
    invoicing.confirm_proforma(invoice_id=invoice.pk, by=world["pm"])
    sync()
    importing.import_from_staging(triggered_by="test")  # journalizes the new unbilled sale, then the lines

    unbilled = Actual.objects.get(invoice_line_detail=detail, transaction_type=TransactionType.UNBILLED_SALES,
                                  skip_sync=False)
    assert ActualStaging.objects.get(dataverse_actual_id=unbilled.uuid).status == "posted"
    proposal = InvoiceProposal.objects.get(number=invoice.number)
    assert proposal.status == "open", proposal.import_code
    billed = Actual.objects.get(invoice_line_detail=detail, transaction_type=TransactionType.BILLED_SALES)
    manual_line = InvoiceProposalLine.objects.get(staging__dataverse_actual_id=billed.uuid)
    assert (manual_line.quantity, manual_line.amount) == (D(3), D(750))
    post(proposal)
    assert_invariants_hold_once_settled()
    invoice.refresh_from_db()
    assert invoice.status == "posted"


def fp_invoice(fp_line, world):
    """A confirmed invoice of PC-1001 with only a fee added by hand on its FP line (its time taken off)."""
    invoice = invoice_contract("PC-1001")
    for detail in InvoiceLineDetail.objects.filter(invoice=invoice):
        drafts.delete_detail(detail_id=detail.pk, by=world["pm"])
    line = InvoiceLine.objects.get(invoice=invoice, contract_line=fp_line)
    detail = add(line, world, transaction_class="fee", category_id=TransactionCategory.objects.get(name="Setup fee").pk,
                 role_id=None, quantity=D(1), price=D(1200))
    invoice = invoicing.confirm_proforma(invoice_id=invoice.pk, by=world["pm"])
    sync()
    importing.import_from_staging(triggered_by="test")
    return invoice, detail


def voucher_of(project_invoice) -> dict:
    return {posting_type: (account, amount) for account, posting_type, amount in
            project_invoice.voucher.entries.values_list("account", "posting_type", "accounting_amount")}


WIP = {"wip_sales_value", "accrued_revenue"}


def test_it_walks_an_fp_manual_detail_through_the_bridge_and_finance_to_posted(fp_line, world):
    """Finance invoices the billed sale on a project transaction it posts for it, with no WIP (D54)."""
    sync()
    importing.import_from_staging(triggered_by="test")
    invoice, detail = fp_invoice(fp_line, world)

    proposal = InvoiceProposal.objects.get(number=invoice.number)
    assert proposal.status == "open", proposal.import_message
    billed = Actual.objects.get(invoice_line_detail=detail)
    line = proposal.lines.get()
    assert (line.staging.dataverse_actual_id, line.quantity, line.amount) == (billed.uuid, D(1), D(1200))
    assert proposal.amount == invoice.amount

    project_invoice = post(proposal)

    setup = PostingSetup.objects.get(legal_entity__code=proposal.legal_entity)
    voucher = voucher_of(project_invoice)
    assert voucher.pop("customer_balance") == (setup.customer_balance, project_invoice.total)
    assert voucher.pop(line.revenue_posting) == (getattr(setup, line.revenue_posting), -line.amount)
    assert voucher.pop("sales_tax", (setup.sales_tax, -line.tax)) == (setup.sales_tax, -line.tax)
    assert voucher == {}  # and nothing else: no WIP
    assert sum(project_invoice.voucher.entries.values_list("accounting_amount", flat=True)) == 0
    assert_invariants_hold_once_settled()
    invoice.refresh_from_db()
    billed.refresh_from_db()
    assert (invoice.status, invoice.customer_invoice_number) == ("posted", project_invoice.number)
    assert billed.voucher == project_invoice.voucher.number


@pytest.mark.parametrize(("final", "net"), [(D(0), D(-1200)), (D(1), D(-400))])
def test_it_credits_an_fp_manual_detail_through_finance_as_a_credit_note(fp_line, world, final, net):
    from dataverse.services import corrections

    sync()
    importing.import_from_staging(triggered_by="test")
    invoice, detail = fp_invoice(fp_line, world)
    post(InvoiceProposal.objects.get(number=invoice.number))
    sync()
    sale = Actual.objects.get(invoice_line_detail=detail)
    corrective = corrections.revise_invoice(invoice_id=invoice.pk, by=world["pm"], detail_ids=[detail.pk],
                                            into_invoice_id=None)
    correction = InvoiceLineDetail.objects.get(invoice=corrective, corrected_billed=sale)
    drafts.update_detail(detail_id=correction.pk, by=world["pm"], quantity=final, price=D(800),
                         billing_type=BillingType.CHARGEABLE)
    invoicing.confirm_proforma(invoice_id=corrective.pk, by=world["pm"])
    sync()
    importing.import_from_staging(triggered_by="test")

    proposal = InvoiceProposal.objects.get(number=corrective.number)
    assert proposal.status == "open", proposal.import_message
    credit = InvoiceProposalLine.objects.get(proposal=proposal, quantity__lt=0)
    original = InvoiceProposalLine.objects.get(staging__dataverse_actual_id=sale.uuid)
    assert (credit.amount, credit.project_transaction_id) == (-original.amount, original.project_transaction_id)
    assert proposal.amount == net

    credit_note = post(proposal)

    assert credit_note.is_credit_note and credit_note.amount == net
    voucher = voucher_of(credit_note)
    assert voucher["customer_balance"][1] == credit_note.total and not WIP & set(voucher)
    assert sum(credit_note.voucher.entries.values_list("accounting_amount", flat=True)) == 0
    assert_invariants_hold_once_settled()
    corrective.refresh_from_db()
    assert corrective.status == "posted"


@pytest.mark.parametrize(("final", "billed_again"), [(D(0), []), (D(1), [(D(1), D(800))])])
def test_it_credits_an_fp_manual_detail_without_making_unbilled_sales_on_the_fp_line(fp_line, draft, world, final,
                                                                                      billed_again):
    from dataverse.services import corrections

    invoice, _line = draft
    line = InvoiceLine.objects.get(invoice=invoice, contract_line=fp_line)
    detail = add(line, world, transaction_class="fee", role_id=None, quantity=D(1), price=D(1200),
                 category_id=TransactionCategory.objects.get(name="Setup fee").pk)
    invoicing.confirm_proforma(invoice_id=invoice.pk, by=world["pm"])
    sale = Actual.objects.get(invoice_line_detail=detail)
    corrective = corrections.revise_invoice(invoice_id=invoice.pk, by=world["pm"],
                                            detail_ids=[detail.pk], into_invoice_id=None)
    correction = InvoiceLineDetail.objects.get(invoice=corrective, corrected_billed=sale)
    drafts.update_detail(detail_id=correction.pk, by=world["pm"], quantity=final, price=D(800),
                         billing_type=BillingType.CHARGEABLE)
    invoicing.confirm_proforma(invoice_id=corrective.pk, by=world["pm"])

    made = Actual.objects.filter(invoice=corrective, contract_line=fp_line)
    # Nothing goes back to a backlog an FP line does not have, nor is re-billed through one.
    assert not Actual.objects.filter(contract_line=fp_line, transaction_type=TransactionType.UNBILLED_SALES).exists()
    assert [(a.quantity, a.amount) for a in made.filter(quantity__lt=0)] == [(D(-1), D(-1200))]  # the credit
    assert [(a.quantity, a.amount) for a in made.filter(quantity__gt=0)] == billed_again
    assert Actual.objects.get(pk=sale.pk).adjustment_status == "adjusted"
