"""Every allowed and every refused move of the state machines of domain.md §4 that no other test
file walks in full: the proforma invoice (§4.1), the unbilled sale's billing status (§4.2), its
adjustment status as a gate (§4.3) and the schedule row's run status (§4.6). Milestones (§4.5) are
in test_milestones.py, contract status in test_master_data.py, entries in test_entries.py."""

from datetime import date
from decimal import Decimal

import pytest

from dataverse.models import (
    Actual,
    AdjustmentStatus,
    BillingStatus,
    ContractLine,
    Invoice,
    InvoiceLineDetail,
    InvoiceSchedule,
    ProjectContract,
    TransactionType,
)
from dataverse.services import backlog, drafts, invoicing, schedules
from projinv.domain import DomainError, InvalidTransition

from ..helpers import invoice_contract

pytestmark = pytest.mark.django_db(databases=["default", "finance"])
S = Invoice.Status
B = BillingStatus


def invoice_in(status, world) -> Invoice:
    invoice = invoice_contract("PC-1001")
    if status == S.IN_REVIEW:
        invoicing.set_in_review(invoice_id=invoice.pk, in_review=True, by=world["pm"])
    if status in (S.CONFIRMED, S.POSTED):
        invoicing.confirm_proforma(invoice_id=invoice.pk, by=world["pm"])
    if status == S.POSTED:
        Invoice.objects.get(pk=invoice.pk).mark_posted(customer_invoice_number="CI-1", customer_invoice_date=date(
            2026, 12, 1), tax_amount=Decimal(0))
    invoice.refresh_from_db()
    assert invoice.status == status
    return invoice


PROFORMA_MOVES = {
    "review": lambda invoice, world: invoicing.set_in_review(invoice_id=invoice.pk, in_review=True, by=world["pm"]),
    "back_to_draft": lambda invoice, world: invoicing.set_in_review(invoice_id=invoice.pk, in_review=False,
                                                                    by=world["pm"]),
    "confirm": lambda invoice, world: invoicing.confirm_proforma(invoice_id=invoice.pk, by=world["pm"]),
    "post": lambda invoice, world: Invoice.objects.get(pk=invoice.pk).mark_posted(
        customer_invoice_number="CI-2", customer_invoice_date=date(2026, 12, 2), tax_amount=Decimal(0)),
}
# Draft ⇄ In review ──confirm──► Confirmed ──(finance posts)──► Posted (domain.md §4.1).
PROFORMA_ALLOWED = {(S.DRAFT, "review"): S.IN_REVIEW, (S.IN_REVIEW, "back_to_draft"): S.DRAFT,
                    (S.DRAFT, "confirm"): S.CONFIRMED, (S.IN_REVIEW, "confirm"): S.CONFIRMED,
                    (S.CONFIRMED, "post"): S.POSTED}


@pytest.mark.parametrize("move", PROFORMA_MOVES)
@pytest.mark.parametrize("start", S.values)
def test_it_moves_a_proforma_only_along_the_allowed_moves(world, start, move):
    invoice = invoice_in(start, world)
    billed_before = Actual.objects.filter(invoice=invoice).count()
    if (start, move) in PROFORMA_ALLOWED:
        PROFORMA_MOVES[move](invoice, world)
        invoice.refresh_from_db()
        assert invoice.status == PROFORMA_ALLOWED[(start, move)]
        return
    if (start, move) == (S.POSTED, "post"):
        # A second, identical write-back changes nothing (the bridge delivers at least once).
        assert PROFORMA_MOVES[move](invoice, world) is False
    else:
        with pytest.raises(InvalidTransition):
            PROFORMA_MOVES[move](invoice, world)
    invoice.refresh_from_db()
    assert invoice.status == start
    assert Actual.objects.filter(invoice=invoice).count() == billed_before  # nothing billed twice


def test_it_keeps_an_invoice_in_review_editable(world):
    invoice = invoice_in(S.IN_REVIEW, world)
    detail = InvoiceLineDetail.objects.filter(invoice=invoice).first()
    drafts.update_detail(detail_id=detail.pk, by=world["pm"], quantity=detail.quantity, price=detail.price,
                         billing_type=detail.billing_type, description="Reviewed")
    assert InvoiceLineDetail.objects.get(pk=detail.pk).description == "Reviewed"


def a_sale_in(status, world) -> Actual:
    sale = Actual.objects.filter(contract__number="PC-1001", transaction_type=TransactionType.UNBILLED_SALES).first()
    if status in (B.READY_TO_INVOICE, B.CUSTOMER_INVOICE_CREATED, B.CUSTOMER_INVOICE_POSTED):
        backlog.mark_ready_to_invoice(actual_ids=[sale.pk], ready=True, by=world["pm"])
    if status in (B.CUSTOMER_INVOICE_CREATED, B.CUSTOMER_INVOICE_POSTED):
        invoice = invoicing.create_proforma_invoice(contract_id=sale.contract_id, by=world["pm"])
    if status == B.CUSTOMER_INVOICE_POSTED:
        invoicing.confirm_proforma(invoice_id=invoice.pk, by=world["pm"])
    sale.refresh_from_db()
    assert sale.billing_status == status
    return sale


# Unbilled sales created ⇄ Ready to invoice is the PM's move; the rest belongs to invoicing (§4.2).
BILLING_STARTS = [B.UNBILLED_SALES_CREATED, B.READY_TO_INVOICE, B.CUSTOMER_INVOICE_CREATED, B.CUSTOMER_INVOICE_POSTED]
MARK_ALLOWED = {(B.UNBILLED_SALES_CREATED, True): B.READY_TO_INVOICE, (B.READY_TO_INVOICE, False):
                B.UNBILLED_SALES_CREATED, (B.READY_TO_INVOICE, True): B.READY_TO_INVOICE,
                (B.UNBILLED_SALES_CREATED, False): B.UNBILLED_SALES_CREATED}


@pytest.mark.parametrize("ready", [True, False])
@pytest.mark.parametrize("start", BILLING_STARTS)
def test_it_marks_a_sale_ready_or_not_only_before_it_is_on_an_invoice(world, start, ready):
    sale = a_sale_in(start, world)
    if (start, ready) in MARK_ALLOWED:
        backlog.mark_ready_to_invoice(actual_ids=[sale.pk], ready=ready, by=world["pm"])
    else:
        with pytest.raises(DomainError, match="already on an invoice"):
            backlog.mark_ready_to_invoice(actual_ids=[sale.pk], ready=ready, by=world["pm"])
    sale.refresh_from_db()
    assert sale.billing_status == MARK_ALLOWED.get((start, ready), start)


def test_it_moves_the_billing_status_with_the_invoice(world):
    sale = a_sale_in(B.UNBILLED_SALES_CREATED, world)
    with pytest.raises(DomainError):  # not Ready: invoicing does not take it
        invoicing.create_proforma_invoice(contract_id=sale.contract_id, by=world["pm"])
    sale = a_sale_in(B.CUSTOMER_INVOICE_CREATED, world)  # Ready → Customer invoice created, on the draft
    detail = InvoiceLineDetail.objects.get(actual=sale)
    drafts.delete_detail(detail_id=detail.pk, by=world["pm"])  # off the draft → Ready again
    sale.refresh_from_db()
    assert (sale.billing_status, sale.invoice_id) == (B.READY_TO_INVOICE, None)
    invoice = invoicing.create_proforma_invoice(contract_id=sale.contract_id, by=world["pm"])
    invoicing.confirm_proforma(invoice_id=invoice.pk, by=world["pm"])  # confirmed → Customer invoice posted
    sale.refresh_from_db()
    assert sale.billing_status == B.CUSTOMER_INVOICE_POSTED


@pytest.mark.parametrize("adjustment", [AdjustmentStatus.ADJUSTED, AdjustmentStatus.UNADJUSTABLE,
                                        AdjustmentStatus.IN_PROCESS])
def test_it_never_readies_an_adjusted_or_unadjustable_sale(world, adjustment):
    sale = a_sale_in(B.UNBILLED_SALES_CREATED, world)
    Actual.objects.filter(pk=sale.pk).update(adjustment_status=adjustment)
    with pytest.raises(DomainError, match="adjusted"):
        backlog.mark_ready_to_invoice(actual_ids=[sale.pk], ready=True, by=world["pm"])
    sale.refresh_from_db()
    assert sale.billing_status == B.UNBILLED_SALES_CREATED


def test_it_records_a_failed_run_and_never_runs_a_row_twice(world):
    line = ContractLine.objects.get(contract__number="PC-1002")
    ProjectContract.objects.filter(pk=line.contract_id).update(status=ProjectContract.Status.CLOSED)
    row = InvoiceSchedule.objects.create(contract_line=line, run_date=date(2026, 11, 2))
    assert schedules.run_invoice_schedules(today=date(2026, 11, 2), by=world["pm"]) == [row]
    row.refresh_from_db()
    assert row.run_status == InvoiceSchedule.RunStatus.FAILED and "not active" in row.message
    # Run failed (like Run successful) is final: the job does not take the row again.
    assert schedules.run_invoice_schedules(today=date(2026, 11, 3), by=world["pm"]) == []
    again = InvoiceSchedule.objects.get(pk=row.pk)
    assert (again.run_status, again.ran_at) == (InvoiceSchedule.RunStatus.FAILED, row.ran_at)
