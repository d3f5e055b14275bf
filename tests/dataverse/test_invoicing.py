"""Backlog, proforma creation and confirmation (domain.md §2.4–2.7, §4.1, §4.2)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dataverse.models import (
    Actual,
    AdjustmentStatus,
    BillingStatus,
    Invoice,
    InvoiceLine,
    InvoiceLineDetail,
    ProjectContract,
    TimeEntry,
    TransactionConnection,
    TransactionType,
)
from dataverse.services import backlog, entries, invoicing
from projinv.domain import DomainError, InvalidTransition
from projinv.dualwrite.models import DataverseChange

from ..helpers import invoice_contract

pytestmark = pytest.mark.django_db(databases=["default", "finance"])


def unbilled(contract="PC-1001"):
    return Actual.objects.filter(contract__number=contract, transaction_type=TransactionType.UNBILLED_SALES)


def test_it_marks_the_backlog_ready_and_back(world):
    ids = list(unbilled().values_list("pk", flat=True))
    assert backlog.mark_ready_to_invoice(actual_ids=ids, ready=True, by=world["pm"]) == len(ids)
    assert set(unbilled().values_list("billing_status", flat=True)) == {BillingStatus.READY_TO_INVOICE}
    backlog.mark_ready_to_invoice(actual_ids=ids[:1], ready=False, by=world["pm"])
    assert unbilled().get(pk=ids[0]).billing_status == BillingStatus.UNBILLED_SALES_CREATED


def test_it_refuses_to_mark_a_cost_actual_ready_and_changes_nothing(world):
    cost = Actual.objects.filter(transaction_type=TransactionType.COST).first()
    ids = [cost.pk, *unbilled().values_list("pk", flat=True)]
    with pytest.raises(DomainError, match="only unbilled sales"):
        backlog.mark_ready_to_invoice(actual_ids=ids, ready=True, by=world["pm"])
    assert not unbilled().filter(billing_status=BillingStatus.READY_TO_INVOICE).exists()


def test_it_creates_one_line_per_contract_line_and_one_detail_per_ready_actual(world):
    invoice = invoice_contract("PC-1001")
    actuals = unbilled()
    assert InvoiceLine.objects.filter(invoice=invoice).count() == 1
    assert InvoiceLineDetail.objects.filter(invoice=invoice).count() == actuals.count() == 2
    assert invoice.amount == invoice.total == sum(a.amount for a in actuals)
    assert set(actuals.values_list("billing_status", "invoice")) == {(BillingStatus.CUSTOMER_INVOICE_CREATED,
                                                                      invoice.pk)}


def test_it_refuses_an_invoice_when_nothing_is_ready(world):
    contract = ProjectContract.objects.get(number="PC-1001")
    with pytest.raises(DomainError, match="Nothing on contract PC-1001 is ready"):
        invoicing.create_proforma_invoice(contract_id=contract.pk, by=world["pm"])
    assert not Invoice.objects.exists()


def test_it_creates_billed_sales_and_skip_sync_reversals_on_confirmation(world):
    invoice = invoice_contract("PC-1001")
    originals = list(unbilled().filter(invoice=invoice))
    invoicing.confirm_proforma(invoice_id=invoice.pk, by=world["pm"])

    for original in originals:
        original.refresh_from_db()
        assert original.billing_status == BillingStatus.CUSTOMER_INVOICE_POSTED
        reversal = TransactionConnection.objects.get(
            transaction2=original, transaction1_role=TransactionConnection.Role.REVERSING).transaction1
        billed = TransactionConnection.objects.get(
            transaction2=original, transaction1_role=TransactionConnection.Role.BILLED_SALES).transaction1
        assert (reversal.transaction_type, reversal.amount, reversal.quantity) == (
            TransactionType.UNBILLED_SALES, -original.amount, -original.quantity)
        assert reversal.skip_sync and reversal.adjustment_status == AdjustmentStatus.UNADJUSTABLE
        assert (billed.transaction_type, billed.amount, billed.skip_sync) == (
            TransactionType.BILLED_SALES, original.amount, False)
        assert billed.accounting_date == invoice.invoice_date  # confirmed today (BR-25)


def test_it_syncs_the_header_and_the_billed_sales_but_never_the_reversals(world):
    invoice = invoice_contract("PC-1001")
    invoicing.confirm_proforma(invoice_id=invoice.pk, by=world["pm"])
    header = DataverseChange.objects.get(map_code="invoices")
    assert header.key == invoice.number
    assert header.payload["billed_sales_count"] == 2 and Decimal(header.payload["amount"]) == invoice.amount
    rows = DataverseChange.objects.filter(map_code="msdyn_actuals").latest("pk").payload
    assert {r["msdyn_transactiontypecode"] for r in rows} == {TransactionType.BILLED_SALES}
    assert {r["msdyn_invoice"] for r in rows} == {invoice.number}


def test_it_refuses_to_confirm_twice_and_creates_nothing_more(world):
    invoice = invoice_contract("PC-1001")
    invoicing.confirm_proforma(invoice_id=invoice.pk, by=world["pm"])
    before = (Actual.objects.count(), DataverseChange.objects.count())
    with pytest.raises(InvalidTransition, match="is Confirmed and cannot be confirmed"):
        invoicing.confirm_proforma(invoice_id=invoice.pk, by=world["pm"])
    assert (Actual.objects.count(), DataverseChange.objects.count()) == before


def test_it_tells_the_user_when_an_invoice_is_already_confirmed(world, as_user):
    invoice = invoice_contract("PC-1001")
    client = as_user(world["pm"])
    client.post(reverse("dataverse:invoice_confirm", args=[invoice.pk]))
    count = Actual.objects.count()
    response = client.post(reverse("dataverse:invoice_confirm", args=[invoice.pk]), follow=True)
    assert "cannot be confirmed" in response.content.decode()
    assert Actual.objects.count() == count


def test_it_relays_the_header_only_after_commit(world, as_user, django_capture_on_commit_callbacks):
    invoice = invoice_contract("PC-1001")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        as_user(world["pm"]).post(reverse("dataverse:invoice_confirm", args=[invoice.pk]))
    assert len(callbacks) == 3  # the billed actuals, their connections and the header, each after commit
    from finance.models import InvoiceProposal

    assert not InvoiceProposal.objects.exists()


def test_it_lists_pages_in_a_constant_number_of_queries(world, as_user):
    client = as_user(world["pm"])
    pages = [reverse(name) for name in ("dataverse:actuals", "dataverse:backlog", "dataverse:invoices",
                                         "dataverse:entries", "dataverse:contracts")]
    invoice = invoice_contract("PC-1001")
    before = {url: query_count(client, url) for url in pages} | {"detail": query_count(client, invoice.pk)}

    # More of everything: the remaining entries approved, a second invoice with its details.
    entries.approve_time_entries(entry_ids=list(TimeEntry.objects.filter(status=TimeEntry.Status.SUBMITTED)
                                                .values_list("pk", flat=True)), by=world["pm"])
    invoice = invoice_contract("PC-1002")
    after = {url: query_count(client, url) for url in pages} | {"detail": query_count(client, invoice.pk)}
    assert after == before


def query_count(client, url_or_invoice):
    url = url_or_invoice if isinstance(url_or_invoice, str) else reverse("dataverse:invoice_detail",
                                                                         args=[url_or_invoice])
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_it_says_why_each_backlog_row_cannot_be_billed(world, as_user):
    from dataverse.selectors import backlog as backlog_rows

    ids = list(unbilled("PC-1001").values_list("pk", flat=True))
    backlog.mark_ready_to_invoice(actual_ids=ids, ready=True, by=world["pm"])
    invoice = invoicing.create_proforma_invoice(contract_id=ProjectContract.objects.get(number="PC-1001").pk,
                                                by=world["pm"])
    ProjectContract.objects.filter(number="PC-1002").update(status=ProjectContract.Status.CLOSED)
    reasons = dict(backlog_rows().values_list("contract__number", "not_billable").distinct())
    assert reasons == {"PC-1001": "on_draft", "PC-1002": "contract_not_active"}
    page = as_user(world["pm"]).get(reverse("dataverse:backlog")).content.decode()
    assert f"already on draft {invoice.number}" in page and "the contract is not active" in page


def test_it_keeps_a_confirmed_invoice_and_its_actuals_unchanged_in_the_database(world):
    from django.db import IntegrityError, transaction

    invoice = invoice_contract("PC-1001")
    invoicing.confirm_proforma(invoice_id=invoice.pk, by=world["pm"])
    for crafted in (lambda: Invoice.objects.filter(pk=invoice.pk).update(total=0),
                    lambda: Invoice.objects.filter(pk=invoice.pk).update(status="draft"),
                    lambda: InvoiceLineDetail.objects.filter(invoice=invoice).update(quantity=1),
                    lambda: InvoiceLineDetail.objects.filter(invoice=invoice).delete(),
                    lambda: Actual.objects.filter(invoice=invoice).update(amount=1),
                    lambda: Actual.objects.filter(invoice=invoice).delete()):
        with pytest.raises(IntegrityError), transaction.atomic():
            crafted()
    Actual.objects.filter(invoice=invoice).update(description="A description may change")  # BR-07
