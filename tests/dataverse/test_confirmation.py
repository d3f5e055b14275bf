"""Every row of domain.md §2.7 for time: what confirmation creates when a draft was edited, and
how it reaches the ledger (decision D20 for §10 Q1)."""

from decimal import Decimal

import pytest

from dataverse.models import (
    Actual,
    AdjustmentStatus,
    BillingStatus,
    BillingType,
    InvoiceLineDetail,
    TimeEntry,
    TransactionConnection,
    TransactionType,
)
from dataverse.services import drafts, entries, invoicing
from finance.models import InvoiceProposal, LedgerEntry
from finance.services import importing
from projinv.domain import DomainError, InvalidTransition

from ..helpers import assert_invariants_hold_once_settled, invoice_contract, post, sync

pytestmark = pytest.mark.django_db(databases=["default", "finance"])
Role = TransactionConnection.Role
C, NC = BillingType.CHARGEABLE, BillingType.NON_CHARGEABLE


@pytest.fixture
def eight_hours(world):
    """One draft with one detail: 8 h of a Consultant at 200 (cost 100), staged and posted in finance."""
    entry = TimeEntry.objects.filter(status=TimeEntry.Status.SUBMITTED, project__number="PRJ-1001").first()
    TimeEntry.objects.filter(pk=entry.pk).update(hours=Decimal(8), role=entry.resource.role)
    Actual.objects.filter(contract__number="PC-1001").update(contract=None)  # keep the other actuals out of it
    entries.approve_time_entries(entry_ids=[entry.pk], by=world["pm"])
    sync()
    importing.import_from_staging(triggered_by="test")
    invoice = invoice_contract("PC-1001")
    return invoice, InvoiceLineDetail.objects.get(invoice=invoice)


def confirm(invoice, world):
    invoicing.confirm_proforma(invoice_id=invoice.pk, by=world["pm"])


def billed(invoice):
    return sorted((a.quantity, a.billing_type, a.amount) for a in Actual.objects.filter(
        invoice=invoice, transaction_type=TransactionType.BILLED_SALES))


def ledger_of(invoice):
    """Sync, import and post the invoice; its project invoice and its voucher by posting type."""
    sync()
    importing.import_from_staging(triggered_by="test")
    posted = post(InvoiceProposal.objects.get(number=invoice.number))
    sync()
    return posted, {e.posting_type: e.accounting_amount for e in LedgerEntry.objects.filter(voucher=posted.voucher)}


def test_it_bills_an_unchanged_detail_as_it_is(eight_hours, world):
    invoice, detail = eight_hours
    confirm(invoice, world)
    assert billed(invoice) == [(Decimal(8), C, Decimal(1600))]
    original = detail.actual
    original.refresh_from_db()
    assert (original.adjustment_status, original.billing_status) == ("", BillingStatus.CUSTOMER_INVOICE_POSTED)


# What a billed sale and a reversal keep of the unbilled sale they bill (BillingPlan._new, and the
# set-based statement that bills unchanged details).
KEPT = ["transaction_class", "project_id", "task_id", "resource_id", "role_id", "customer_id", "contract_id",
        "contract_line_id", "time_entry_id", "entry_id", "transaction_category_id", "milestone_id",
        "transaction_date", "currency", "unit", "billing_type", "price"]


def test_it_makes_the_reversal_and_the_billed_sale_of_an_unchanged_detail_field_by_field(eight_hours, world):
    invoice, detail = eight_hours
    InvoiceLineDetail.objects.filter(pk=detail.pk).update(description="Design workshop")
    confirm(invoice, world)
    invoice.refresh_from_db()
    original = Actual.objects.get(pk=detail.actual_id)
    reversal = Actual.objects.get(invoice_line_detail=detail, skip_sync=True)
    sale = Actual.objects.get(invoice_line_detail=detail, transaction_type=TransactionType.BILLED_SALES)
    for made in (reversal, sale):
        assert [getattr(made, f) for f in KEPT] == [getattr(original, f) for f in KEPT]
        assert (made.invoice_id, made.description, made.billing_status, made.accounting_date) == (
            invoice.pk, "Design workshop", BillingStatus.CUSTOMER_INVOICE_POSTED, invoice.confirmed_at.date())
        assert made.uuid not in (original.uuid, None) and made.voucher == ""
    assert (reversal.transaction_type, reversal.quantity, reversal.amount, reversal.adjustment_status,
            reversal.invoiced_actual_id) == (TransactionType.UNBILLED_SALES, Decimal(-8), Decimal(-1600),
                                             AdjustmentStatus.UNADJUSTABLE, None)
    assert (sale.quantity, sale.amount, sale.adjustment_status, sale.skip_sync, sale.invoiced_actual_id) == (
        Decimal(8), Decimal(1600), AdjustmentStatus.NONE, False, original.pk)
    assert sorted(TransactionConnection.objects.filter(transaction2=original).values_list(
        "transaction1_id", "transaction1_role", "transaction2_role")) == sorted([
            (reversal.pk, Role.REVERSING, Role.ORIGINAL), (sale.pk, Role.BILLED_SALES, Role.UNBILLED_SALES)])


def test_it_splits_a_decreased_quantity_into_chargeable_and_non_chargeable(eight_hours, world):
    invoice, detail = eight_hours
    drafts.update_detail(detail_id=detail.pk, by=world["pm"], quantity=Decimal(6), price=Decimal(200),
                         billing_type=C)
    invoice.refresh_from_db()
    assert invoice.total == Decimal(1200)
    confirm(invoice, world)

    # 8 h edited to 6 h: billed 6 h / 1,200 chargeable and 2 h / 400 non-chargeable (domain.md §2.7).
    assert billed(invoice) == [(Decimal(2), NC, Decimal(400)), (Decimal(6), C, Decimal(1200))]
    original = Actual.objects.get(pk=detail.actual_id)
    assert original.adjustment_status == AdjustmentStatus.ADJUSTED
    replacements = Actual.objects.filter(connections_as_first__transaction2=original,
                                         connections_as_first__transaction1_role=Role.REPLACING)
    assert sorted((r.quantity, r.billing_type, r.skip_sync) for r in replacements) == [
        (Decimal(2), NC, True), (Decimal(6), C, True)]
    for replacement in replacements:  # each replacement is reversed and billed
        roles = set(TransactionConnection.objects.filter(transaction2=replacement)
                    .values_list("transaction1_role", flat=True))
        assert roles == {Role.REVERSING, Role.BILLED_SALES}
    new_unbilled = Actual.objects.filter(invoice=invoice, transaction_type=TransactionType.UNBILLED_SALES)
    assert not new_unbilled.exclude(pk=original.pk).filter(skip_sync=False).exists()  # nothing new goes to WIP

    posted, ledger = ledger_of(invoice)
    # WIP of the original 8 h (1,600) is reversed in full; revenue is what was charged.
    assert ledger == {"customer_balance": Decimal(1200), "invoiced_revenue": Decimal(-1200),
                      "wip_sales_value": Decimal(-1600), "accrued_revenue": Decimal(1600)}
    assert posted.total == Decimal(1200)
    assert_invariants_hold_once_settled()


def test_it_replaces_an_increased_quantity(eight_hours, world):
    invoice, detail = eight_hours
    drafts.update_detail(detail_id=detail.pk, by=world["pm"], quantity=Decimal(10), price=Decimal(200),
                         billing_type=C)
    confirm(invoice, world)
    assert billed(invoice) == [(Decimal(10), C, Decimal(2000))]  # 10 h / 2,000
    assert Actual.objects.get(pk=detail.actual_id).adjustment_status == AdjustmentStatus.ADJUSTED
    _posted, ledger = ledger_of(invoice)
    assert ledger["invoiced_revenue"] == Decimal(-2000) and ledger["wip_sales_value"] == Decimal(-1600)
    assert_invariants_hold_once_settled()


def test_it_replaces_a_detail_made_non_chargeable(eight_hours, world):
    invoice, detail = eight_hours
    drafts.update_detail(detail_id=detail.pk, by=world["pm"], quantity=Decimal(8), price=Decimal(200),
                         billing_type=NC)
    invoice.refresh_from_db()
    assert invoice.total == 0  # non-chargeable details show on the invoice and add nothing
    confirm(invoice, world)
    assert billed(invoice) == [(Decimal(8), NC, Decimal(1600))]
    replacement = Actual.objects.get(connections_as_first__transaction2_id=detail.actual_id,
                                     connections_as_first__transaction1_role=Role.REPLACING)
    assert replacement.billing_type == NC
    _posted, ledger = ledger_of(invoice)
    assert ledger.get("invoiced_revenue", 0) == 0 and ledger["wip_sales_value"] == Decimal(-1600)
    assert_invariants_hold_once_settled()


def test_it_returns_a_deleted_detail_to_the_backlog_and_refreshes_it_back(eight_hours, world):
    invoice, detail = eight_hours
    drafts.delete_detail(detail_id=detail.pk, by=world["pm"])
    actual = Actual.objects.get(pk=detail.actual_id)
    invoice.refresh_from_db()
    assert (actual.billing_status, actual.invoice, invoice.total) == (BillingStatus.READY_TO_INVOICE, None, 0)
    assert drafts.refresh_invoice(invoice_id=invoice.pk, by=world["pm"]) == 1
    invoice.refresh_from_db()
    assert invoice.total == Decimal(1600)


@pytest.mark.parametrize("change,message", [
    ({"quantity": Decimal(-1)}, "quantity cannot be negative"),
    ({"price": Decimal(-5)}, "price cannot be negative"),
    ({"tax": Decimal(-5)}, "tax cannot be negative"),
    ({"billing_type": "not_available"}, "is not a billing type"),
    ({"quantity": Decimal(0), "billing_type": NC}, "remove the detail"),
])
def test_it_refuses_bad_edits_and_changes_nothing(eight_hours, world, change, message):
    invoice, detail = eight_hours
    values = {"quantity": Decimal(8), "price": Decimal(200), "billing_type": C, "tax": Decimal(0)} | change
    with pytest.raises(DomainError, match=message):
        drafts.update_detail(detail_id=detail.pk, by=world["pm"], **values)
    detail.refresh_from_db()
    invoice.refresh_from_db()
    assert (detail.quantity, detail.amount, invoice.total) == (Decimal(8), Decimal(1600), Decimal(1600))


def test_it_refuses_to_edit_a_confirmed_invoice(eight_hours, world):
    invoice, detail = eight_hours
    invoicing.confirm_proforma(invoice_id=invoice.pk, by=world["pm"])
    with pytest.raises(InvalidTransition, match="can no longer be changed"):
        drafts.update_detail(detail_id=detail.pk, by=world["pm"], quantity=Decimal(1), price=Decimal(1),
                             billing_type=C)
    with pytest.raises(InvalidTransition):
        drafts.delete_detail(detail_id=detail.pk, by=world["pm"])
    detail.refresh_from_db()
    assert detail.quantity == Decimal(8)


def test_it_edits_a_detail_through_the_portal(eight_hours, world, as_user):
    from django.urls import reverse

    invoice, detail = eight_hours
    client = as_user(world["pm"])
    url = reverse("dataverse:detail_edit", args=[detail.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"quantity": "-2", "price": "200", "billing_type": C, "tax": "0"})
    assert response.status_code == 200 and "greater than or equal to 0" in response.content.decode()
    client.post(url, {"quantity": "6", "price": "200", "billing_type": C, "tax": "0", "description": "Workshop"})
    invoice.refresh_from_db()
    assert invoice.total == Decimal(1200)
    invoicing.confirm_proforma(invoice_id=invoice.pk, by=world["pm"])
    response = client.post(url, {"quantity": "1", "price": "1", "billing_type": C, "tax": "0"})
    assert "can no longer be changed" in response.content.decode()
    detail.refresh_from_db()
    assert detail.quantity == Decimal(6)


def test_it_refuses_to_confirm_an_invoice_without_details(eight_hours, world):
    invoice, detail = eight_hours
    drafts.delete_detail(detail_id=detail.pk, by=world["pm"])
    with pytest.raises(DomainError, match="has no details"):
        invoicing.confirm_proforma(invoice_id=invoice.pk, by=world["pm"])
    invoice.refresh_from_db()
    assert invoice.status == "draft"
