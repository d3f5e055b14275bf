"""Corrective invoices (domain.md §2.10), followed through to finance's ledger (decision D23)."""

from decimal import Decimal

import pytest

from dataverse.models import (
    Actual,
    AdjustmentStatus,
    BillingStatus,
    Invoice,
    InvoiceLineDetail,
    TransactionConnection,
    TransactionType,
)
from dataverse.services import corrections, drafts, invoicing
from finance.models import InvoiceProposal, LedgerEntry, ProjectInvoice
from finance.services import importing
from projinv.domain import DomainError, InvalidTransition

from ..helpers import assert_invariants_hold_once_settled, post, sync
from .test_confirmation import eight_hours  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db(databases=["default", "finance"])
Role = TransactionConnection.Role


@pytest.fixture
def invoiced(eight_hours, world):  # noqa: F811
    """8 h billed at 1,600 on a confirmed invoice, posted in finance."""
    invoice, _detail = eight_hours
    invoicing.confirm_proforma(invoice_id=invoice.pk, by=world["pm"])
    sync()
    importing.import_from_staging(triggered_by="test")
    post(InvoiceProposal.objects.get(number=invoice.number))
    sync()
    invoice.refresh_from_db()
    return invoice, Actual.objects.get(invoice=invoice, transaction_type=TransactionType.BILLED_SALES)


def settle_and_post(corrective):
    sync()
    importing.import_from_staging(triggered_by="test")
    proposal = InvoiceProposal.objects.get(number=corrective.number)
    assert proposal.status == "open", proposal.import_message
    posted = post(proposal)
    sync()
    return posted, {e.posting_type: e.accounting_amount for e in LedgerEntry.objects.filter(voucher=posted.voucher)}


def test_it_credits_an_invoice_in_full_and_returns_the_work_to_the_backlog(invoiced, world):
    invoice, billed = invoiced
    corrective = corrections.revise_invoice(invoice_id=invoice.pk, by=world["pm"])
    assert (corrective.has_corrections, corrective.corrects, corrective.total) == (True, invoice, Decimal(-1600))
    invoicing.confirm_proforma(invoice_id=corrective.pk, by=world["pm"])

    billed.refresh_from_db()
    assert billed.adjustment_status == AdjustmentStatus.ADJUSTED
    reversal = Actual.objects.get(connections_as_first__transaction2=billed,
                                  connections_as_first__transaction1_role=Role.REVERSING)
    assert (reversal.transaction_type, reversal.amount, reversal.skip_sync) == (
        TransactionType.BILLED_SALES, Decimal(-1600), False)
    back = Actual.objects.get(connections_as_first__transaction2=billed,
                              connections_as_first__transaction1_role=Role.REPLACING)
    assert (back.quantity, back.amount, back.billing_status, back.invoice) == (
        Decimal(8), Decimal(1600), BillingStatus.UNBILLED_SALES_CREATED, None)

    posted, ledger = settle_and_post(corrective)
    assert posted.is_credit_note and posted.total == Decimal(-1600)
    assert ledger == {"customer_balance": Decimal(-1600), "invoiced_revenue": Decimal(1600)}
    corrective.refresh_from_db()
    assert corrective.status == Invoice.Status.POSTED
    assert_invariants_hold_once_settled()


def test_it_credits_in_part_and_rebills_what_should_stand(invoiced, world):
    invoice, billed = invoiced
    corrective = corrections.revise_invoice(invoice_id=invoice.pk, by=world["pm"])
    detail = InvoiceLineDetail.objects.get(invoice=corrective)
    drafts.update_detail(detail_id=detail.pk, by=world["pm"], quantity=Decimal(6), price=Decimal(200),
                         billing_type=billed.billing_type)
    corrective.refresh_from_db()
    assert corrective.total == Decimal(-400)  # 8 h billed, 6 h should stand
    invoicing.confirm_proforma(invoice_id=corrective.pk, by=world["pm"])

    new = Actual.objects.filter(invoice=corrective, transaction_type=TransactionType.BILLED_SALES)
    assert sorted(new.values_list("amount", flat=True)) == [Decimal(-1600), Decimal(1200)]
    remainder = Actual.objects.get(billing_status=BillingStatus.UNBILLED_SALES_CREATED, invoice=None,
                                   connections_as_first__transaction2=billed)
    assert (remainder.quantity, remainder.amount, remainder.billing_type) == (Decimal(2), Decimal(400),
                                                                              "chargeable")

    posted, ledger = settle_and_post(corrective)
    assert posted.is_credit_note and posted.total == Decimal(-400)
    # Revenue: -1,600 credited and 1,200 re-billed; the re-billed 6 h were new WIP (1,200), now reversed.
    assert ledger == {"customer_balance": Decimal(-400), "invoiced_revenue": Decimal(400),
                      "wip_sales_value": Decimal(-1200), "accrued_revenue": Decimal(1200)}
    assert_invariants_hold_once_settled()


def test_it_refuses_to_revise_a_draft_or_to_correct_the_same_sale_twice(invoiced, world):
    invoice, _billed = invoiced
    corrective = corrections.revise_invoice(invoice_id=invoice.pk, by=world["pm"])
    with pytest.raises(DomainError, match="Nothing on .* is left to correct"):
        corrections.revise_invoice(invoice_id=invoice.pk, by=world["pm"])
    with pytest.raises(InvalidTransition, match="only a confirmed invoice can be revised"):
        corrections.revise_invoice(invoice_id=corrective.pk, by=world["pm"])
    detail = InvoiceLineDetail.objects.get(invoice=corrective)
    with pytest.raises(DomainError, match="billing type of a correction"):
        drafts.update_detail(detail_id=detail.pk, by=world["pm"], quantity=Decimal(8), price=Decimal(200),
                             billing_type="non_chargeable")
    assert ProjectInvoice.objects.count() == 1


def test_it_confirms_a_correction_even_without_a_change(invoiced, world):
    invoice, billed = invoiced
    corrective = corrections.revise_invoice(invoice_id=invoice.pk, by=world["pm"])
    detail = InvoiceLineDetail.objects.get(invoice=corrective)
    drafts.update_detail(detail_id=detail.pk, by=world["pm"], quantity=Decimal(8), price=Decimal(200),
                         billing_type=billed.billing_type)
    invoicing.confirm_proforma(invoice_id=corrective.pk, by=world["pm"])  # fix 2608550: allowed
    posted, ledger = settle_and_post(corrective)
    assert posted.total == 0 and not posted.is_credit_note
    assert_invariants_hold_once_settled()


def test_it_revises_from_the_invoice_page(invoiced, world, as_user):
    from django.urls import reverse

    invoice, _billed = invoiced
    client = as_user(world["pm"])
    page = client.get(reverse("dataverse:invoice_detail", args=[invoice.pk])).content.decode()
    assert "Revise selected" in page
    response = client.post(reverse("dataverse:invoice_revise", args=[invoice.pk]), follow=True)
    corrective = Invoice.objects.get(corrects=invoice)
    assert response.redirect_chain[-1][0] == reverse("dataverse:invoice_detail", args=[corrective.pk])
    response = client.post(reverse("dataverse:invoice_revise", args=[invoice.pk]), follow=True)
    assert "is left to correct" in response.content.decode()
    assert Invoice.objects.filter(corrects=invoice).count() == 1


def test_it_credits_a_zero_priced_sale(eight_hours, world):  # noqa: F811
    """A credit is told by its negative quantity, not its amount: a free 8 h can be credited too."""
    invoice, detail = eight_hours
    drafts.update_detail(detail_id=detail.pk, by=world["pm"], quantity=Decimal(8), price=Decimal(0),
                         billing_type="chargeable")
    invoicing.confirm_proforma(invoice_id=invoice.pk, by=world["pm"])
    sync()
    importing.import_from_staging(triggered_by="test")
    post(InvoiceProposal.objects.get(number=invoice.number))
    sync()
    corrective = corrections.revise_invoice(invoice_id=invoice.pk, by=world["pm"])
    invoicing.confirm_proforma(invoice_id=corrective.pk, by=world["pm"])
    posted, _ledger = settle_and_post(corrective)
    assert posted.total == 0
    assert_invariants_hold_once_settled()
