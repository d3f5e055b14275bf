"""Fixed-price milestones: schedule, backlog, invoicing, confirmation and credit (domain.md §4.5, BR-13)."""

from datetime import date
from decimal import Decimal

import pytest

from dataverse import selectors
from dataverse.models import (
    Actual,
    ContractLine,
    Customer,
    Invoice,
    InvoiceLineDetail,
    Milestone,
    ProjectContract,
    TransactionConnection,
)
from dataverse.services import contract_lines, contracts, corrections, drafts, invoicing, milestones
from projinv.domain import DomainError

pytestmark = pytest.mark.django_db(databases=["default", "finance"])
S = Milestone.InvoiceStatus
D = Decimal


@pytest.fixture
def line(world):
    """A fixed-price line of PC-1001 worth 10,000, that bills no entries."""
    contract = ProjectContract.objects.get(number="PC-1001")
    return contract_lines.save_contract_line(
        contract_id=contract.pk, name="Fixed fee", project_id=contract.lines.get().project_id, billing_method="fp",
        include_time=False, contracted_amount=D(10000), by=world["pm"])


def schedule(world, line, *amounts, ids=()):
    rows = [{"name": f"Phase {i + 1}", "milestone_date": date(2026, 11, 1 + i), "amount": D(a), "tax": D(0)}
            for i, a in enumerate(amounts)]
    for row, pk in zip(rows, ids, strict=False):
        row["id"] = pk
    return milestones.set_milestones(line_id=line.pk, milestones=rows, by=world["pm"])


def invoice_milestones(world, *ms):
    milestones.mark_milestones_ready(milestone_ids=[m.pk for m in ms], ready=True, by=world["pm"])
    Actual.objects.filter(contract__number="PC-1001", transaction_type="unbilled_sales").update(contract=None)
    return invoicing.create_proforma_invoice(contract_id=ms[0].contract_line.contract_id, by=world["pm"])


def status(milestone):
    return Milestone.objects.get(pk=milestone.pk).invoice_status


def test_it_announces_the_schedule_to_the_bridge(world, line, heard):
    first, second = schedule(world, line, 4000, 6000)
    rows = [row for entity, rows in heard if entity == "msdyn_contractlinescheduleofvalues" for row in rows]
    assert [(r["msdyn_name"], r["msdyn_amount"], r["msdyn_milestonedate"], r["deleted"]) for r in rows] == [
        ("Phase 1", D(4000), "2026-11-01", False), ("Phase 2", D(6000), "2026-11-02", False)]
    assert rows[0]["msdyn_contractlinescheduleofvalueid"] == str(first.uuid)
    assert (rows[0]["msdyn_contract"], rows[0]["msdyn_contractline"], rows[0]["msdyn_project"],
            rows[0]["owningcompany"], rows[0]["transactioncurrency"]) == ("PC-1001", "Fixed fee", "PRJ-1001", "USPM",
                                                                         "USD")
    heard.clear()
    schedule(world, line, 10000, ids=[first.pk])  # Phase 2 goes, Phase 1 takes the whole value
    rows = [row for entity, rows in heard if entity == "msdyn_contractlinescheduleofvalues" for row in rows]
    assert {(r["msdyn_name"], r["deleted"]) for r in rows} == {("Phase 1", False), ("Phase 2", True)}


@pytest.mark.parametrize("amounts,message", [
    ((4000, 5000), "they must be equal"), ((10000, 0), "more than zero"), ((12000, -2000), "more than zero")])
def test_it_refuses_milestones_that_do_not_sum_to_the_line_value(world, line, amounts, message):
    with pytest.raises(DomainError, match=message):
        schedule(world, line, *amounts)
    assert not Milestone.objects.exists()


def test_it_refuses_milestones_on_a_time_and_material_line(world):
    tm = ContractLine.objects.get(contract__number="PC-1001", billing_method="tm")
    with pytest.raises(DomainError, match="fixed-price lines"):
        schedule(world, tm, 100)


def test_it_refuses_a_line_value_its_milestones_do_not_total(world, line):
    schedule(world, line, 4000, 6000)
    with pytest.raises(DomainError, match="its value must stay that"):
        contract_lines.save_contract_line(contract_id=line.contract_id, line_id=line.pk, name=line.name,
                                          project_id=line.project_id, billing_method="fp", include_time=False,
                                          contracted_amount=D(9000), by=world["pm"])
    assert ContractLine.objects.get(pk=line.pk).contracted_amount == 10000


# --- Status machine: Not ready ⇄ Ready → created → posted → (credit) Ready -----------------------------


def test_it_moves_between_not_ready_and_ready_only(world, line):
    first, second = schedule(world, line, 4000, 6000)
    assert milestones.mark_milestones_ready(milestone_ids=[first.pk, second.pk], ready=True, by=world["pm"]) == 2
    assert milestones.mark_milestones_ready(milestone_ids=[first.pk], ready=False, by=world["pm"]) == 1
    assert (status(first), status(second)) == (S.NOT_READY, S.READY)
    invoice_milestones(world, second)
    assert status(second) == S.CUSTOMER_INVOICE_CREATED
    for ready in (True, False):
        with pytest.raises(DomainError, match="it is Customer invoice created"):
            milestones.mark_milestones_ready(milestone_ids=[first.pk, second.pk], ready=ready, by=world["pm"])
    assert status(first) == S.NOT_READY  # all or nothing


def test_it_invoices_a_ready_milestone_and_confirms_it_into_a_milestone_billed_sale(world, line):
    first, second = schedule(world, line, 4000, 6000)
    invoice = invoice_milestones(world, first)
    (detail,) = InvoiceLineDetail.objects.filter(invoice=invoice)
    assert (detail.milestone, detail.transaction_class, detail.quantity, detail.amount) == (first, "milestone", 1,
                                                                                           4000)
    assert Invoice.objects.get(pk=invoice.pk).amount == 4000
    invoicing.confirm_proforma(invoice_id=invoice.pk, by=world["pm"])
    (billed,) = Actual.objects.filter(invoice=invoice, transaction_type="billed_sales")
    assert (billed.transaction_class, billed.amount, billed.milestone, billed.contract_line, billed.skip_sync) == (
        "milestone", 4000, first, line, False)
    assert status(first) == S.CUSTOMER_INVOICE_POSTED and status(second) == S.NOT_READY
    (row,) = selectors.synced_actual_rows([billed.pk])
    assert row["msdyn_contractlinescheduleofvalue"] == first.uuid
    with pytest.raises(DomainError, match="is invoiced"):
        schedule(world, line, 5000, 5000, ids=[first.pk, second.pk])


def test_it_returns_a_milestone_taken_off_a_draft_to_ready(world, line):
    first, _second = schedule(world, line, 4000, 6000)
    invoice = invoice_milestones(world, first)
    drafts.delete_detail(detail_id=invoice.details.get().pk, by=world["pm"])
    assert status(first) == S.READY
    assert drafts.refresh_invoice(invoice_id=invoice.pk, by=world["pm"]) == 1  # and a refresh takes it back
    assert status(first) == S.CUSTOMER_INVOICE_CREATED


def test_it_lets_only_billing_type_tax_and_description_change_on_a_milestone_detail(world, line):
    first, _second = schedule(world, line, 4000, 6000)
    detail = invoice_milestones(world, first).details.get()
    with pytest.raises(DomainError, match="A milestone bills its amount"):
        drafts.update_detail(detail_id=detail.pk, by=world["pm"], quantity=D(1), price=D(3000),
                             billing_type="chargeable")
    drafts.update_detail(detail_id=detail.pk, by=world["pm"], quantity=D(1), price=D(4000), billing_type="chargeable",
                         tax=D(330), description="Phase 1 sign-off")
    assert Invoice.objects.get(pk=detail.invoice_id).total == 4330


def test_it_splits_a_milestone_by_contract_customer(world, line):
    c1, c2 = Customer.objects.get(number="C-1001"), Customer.objects.get(number="C-1002")
    Actual.objects.filter(contract__number="PC-1001").update(contract=None)
    contracts.set_contract_customers(contract_id=line.contract_id, by=world["pm"],
                                     splits=[(c1.pk, D("33.33"), False), (c2.pk, D("66.67"), True)])
    first, _second = schedule(world, line, 4000, 6000)
    milestones.mark_milestones_ready(milestone_ids=[first.pk], ready=True, by=world["pm"])
    invoices = invoicing.create_proforma_invoices(contract_id=line.contract_id, by=world["pm"])
    amounts = {i.customer.number: i.details.get().amount for i in invoices}
    assert amounts == {"C-1001": D("1333.20"), "C-1002": D("2666.80")}  # the rest to the rounding customer
    invoicing.confirm_proforma(invoice_id=invoices[0].pk, by=world["pm"])
    assert status(first) == S.CUSTOMER_INVOICE_CREATED  # the other share is still on its draft
    invoicing.confirm_proforma(invoice_id=invoices[1].pk, by=world["pm"])
    assert status(first) == S.CUSTOMER_INVOICE_POSTED


# --- Credit through revise: full and partial ---------------------------------------------------------


def confirmed_milestone_invoice(world, line):
    first, _second = schedule(world, line, 4000, 6000)
    invoice = invoice_milestones(world, first)
    invoicing.confirm_proforma(invoice_id=invoice.pk, by=world["pm"])
    return first, invoice


def test_it_credits_a_milestone_in_full_and_makes_it_ready_again(world, line):
    first, invoice = confirmed_milestone_invoice(world, line)
    billed = Actual.objects.get(invoice=invoice, transaction_type="billed_sales")
    correction = corrections.revise_invoice(invoice_id=invoice.pk, by=world["pm"])
    assert correction.amount == -4000 and correction.details.get().milestone == first
    invoicing.confirm_proforma(invoice_id=correction.pk, by=world["pm"])
    reversal = Actual.objects.get(invoice=correction, transaction_type="billed_sales")
    assert (reversal.amount, reversal.milestone, reversal.adjustment_status) == (-4000, first, "unadjustable")
    assert TransactionConnection.objects.filter(transaction1=reversal, transaction1_role="reversing",
                                                transaction2=billed, transaction2_role="original").exists()
    assert Actual.objects.get(pk=billed.pk).adjustment_status == "adjusted"
    assert status(first) == S.READY  # posted → Ready (domain.md §4.5)
    again = invoicing.create_proforma_invoice(contract_id=line.contract_id, by=world["pm"])
    assert again.details.get().amount == 4000


def test_it_credits_a_milestone_in_part_and_leaves_the_rest_to_bill(world, line):
    first, invoice = confirmed_milestone_invoice(world, line)
    correction = corrections.revise_invoice(invoice_id=invoice.pk, by=world["pm"])
    detail = correction.details.get()
    drafts.update_detail(detail_id=detail.pk, by=world["pm"], quantity=D(1), price=D(2500),
                         billing_type=detail.billing_type)
    assert Invoice.objects.get(pk=correction.pk).amount == -1500  # the credit note: 4,000 billed, 2,500 stands
    invoicing.confirm_proforma(invoice_id=correction.pk, by=world["pm"])
    billed = Actual.objects.filter(milestone=first, transaction_type="billed_sales").order_by("pk")
    assert [(a.amount, a.adjustment_status) for a in billed] == [(4000, "adjusted"), (-4000, "unadjustable"),
                                                                  (2500, "")]
    assert status(first) == S.READY
    rest = invoicing.create_proforma_invoice(contract_id=line.contract_id, by=world["pm"])
    assert rest.details.get().amount == 1500  # what was credited is the milestone's to bill again
    invoicing.confirm_proforma(invoice_id=rest.pk, by=world["pm"])
    assert status(first) == S.CUSTOMER_INVOICE_POSTED


@pytest.mark.parametrize("quantity,price", [(D(2), D(1000)), (D(1), D(4500)), (D("0.5"), D(4000))])
def test_it_refuses_a_milestone_correction_that_bills_more_or_a_fraction(world, line, quantity, price):
    _first, invoice = confirmed_milestone_invoice(world, line)
    correction = corrections.revise_invoice(invoice_id=invoice.pk, by=world["pm"])
    detail = correction.details.get()
    with pytest.raises(DomainError, match="quantity 0 \\(a full credit\\) or 1"):
        drafts.update_detail(detail_id=detail.pk, by=world["pm"], quantity=quantity, price=price,
                             billing_type=detail.billing_type)
    assert InvoiceLineDetail.objects.get(pk=detail.pk).amount == -4000


# --- Pages -------------------------------------------------------------------------------------------


def test_it_sets_milestones_on_the_line_page_and_says_what_is_wrong(world, line, as_user):
    from django.urls import reverse

    client = as_user(world["pm"])
    url = reverse("dataverse:line_milestones", args=[line.pk])
    form = {"milestones-TOTAL_FORMS": "2", "milestones-INITIAL_FORMS": "0",
            "milestones-0-name": "Design", "milestones-0-milestone_date": "2026-11-10", "milestones-0-amount": "3000",
            "milestones-1-name": "Go-live", "milestones-1-milestone_date": "2026-12-10", "milestones-1-amount": "6000"}
    response = client.post(url, form, follow=True)
    assert "they must be equal" in response.content.decode() and not Milestone.objects.exists()
    client.post(url, form | {"milestones-1-amount": "7000"})
    assert sorted(Milestone.objects.values_list("name", "amount")) == [("Design", 3000), ("Go-live", 7000)]
    page = client.get(reverse("dataverse:line_edit", args=[line.pk])).content.decode()
    assert "Go-live" in page and "Save the milestones" in page


def test_it_lists_the_milestone_backlog_with_reasons_in_constant_queries(world, line, as_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    client = as_user(world["pm"])
    url = reverse("dataverse:milestone_backlog")
    first, second = schedule(world, line, 4000, 6000)

    def get():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        return response, len(captured)

    response, few = get()
    assert response.content.decode().count("No: not marked ready to invoice") == 2
    client.post(reverse("dataverse:milestones_ready"), {"selection": [first.pk]})
    assert status(first) == S.READY
    schedule(world, line, 1000, 2000, 3000, 4000, ids=[first.pk, second.pk])
    response, more = get()
    assert few == more and "Yes" in response.content.decode()


@pytest.mark.parametrize("ready", [True, False])
def test_it_refuses_to_mark_a_posted_milestone(world, line, ready):
    first, _invoice = confirmed_milestone_invoice(world, line)
    with pytest.raises(DomainError, match="it is Customer invoice posted"):
        milestones.mark_milestones_ready(milestone_ids=[first.pk], ready=ready, by=world["pm"])
    assert status(first) == S.CUSTOMER_INVOICE_POSTED
