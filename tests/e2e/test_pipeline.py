"""The nine steps of the invoice pipeline, with every hop between the systems made by a real cluster."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db.models import Sum
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task

from dataverse.models import Actual, BillingStatus, Invoice, TimeEntry, TransactionType
from dataverse.services import entries, invoicing
from finance.models import (
    ActualStaging,
    CustomerTransaction,
    InvoiceProposal,
    LedgerEntry,
    ProjectInvoice,
    ProjectTransaction,
)
from finance.services import posting
from projinv.dualwrite.models import Change, DataverseChange, FinanceChange
from tests.e2e.conftest import wait_until
from tests.helpers import invoice_contract

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, databases=["default", "finance"])]

COST, UNBILLED, BILLED = TransactionType.COST, TransactionType.UNBILLED_SALES, TransactionType.BILLED_SALES


def staged(actuals) -> bool:
    wanted = {a.uuid for a in actuals}
    return wanted == set(ActualStaging.objects.filter(dataverse_actual_id__in=wanted)
                         .values_list("dataverse_actual_id", flat=True))


def test_it_runs_the_invoice_pipeline_through_a_real_cluster(world, cluster):
    pm = User.objects.get(username="pm")

    # 1. The PM submits the last drafts and approves everything submitted: Cost + Unbilled sales.
    drafts = list(TimeEntry.objects.filter(status=TimeEntry.Status.DRAFT).values_list("pk", flat=True))
    entries.submit_time_entries(entry_ids=drafts, by=pm)
    submitted = list(TimeEntry.objects.filter(status=TimeEntry.Status.SUBMITTED).values_list("pk", flat=True))
    assert submitted, "the demo world leaves some entries waiting for approval"
    entries.approve_time_entries(entry_ids=submitted, by=pm)
    entry_count = TimeEntry.objects.count()
    assert TimeEntry.objects.filter(status=TimeEntry.Status.APPROVED).count() == entry_count
    assert Actual.objects.filter(transaction_type=COST).count() == entry_count
    assert Actual.objects.filter(transaction_type=UNBILLED).count() == entry_count
    synced = list(Actual.objects.filter(skip_sync=False))

    # 2. The cluster delivers the actuals (the world's and ours) to finance's staging table.
    wait_until(lambda: staged(synced), message="the approved actuals to be staged in finance")

    # 3. Import from staging, started by the cluster's scheduler as in production.
    schedule = Schedule.objects.create(name="e2e import", func="finance.tasks.import_from_staging",
                                       schedule_type=Schedule.MINUTES, minutes=1, repeats=-1,
                                       next_run=timezone.now())
    # The scheduler looks only every 30 s, hence the longer wait.
    wait_until(lambda: not ActualStaging.objects.exclude(status=ActualStaging.Status.POSTED).exists()
               and ProjectTransaction.objects.count() == len(synced),
               timeout=90, message="the scheduled import to post cost and unbilled sales")
    # From here on each import is one we ask for, so a proposal's status is ours to predict.
    schedule.delete()
    unbilled = ActualStaging.objects.filter(transaction_type=UNBILLED)
    assert unbilled.count() == entry_count and all(s.voucher for s in unbilled)

    # 4. PC-1001's unbilled sales go Ready to invoice, onto a proforma invoice, which the PM confirms.
    invoice = invoice_contract("PC-1001", pm=pm)
    originals = list(Actual.objects.filter(invoice=invoice, transaction_type=UNBILLED, skip_sync=False))
    assert originals and invoice.amount == sum(a.amount for a in originals)
    invoicing.confirm_proforma(invoice_id=invoice.pk, by=pm)

    # 5. Confirmation made a billed sale and a reversal (never synced) per original unbilled sale.
    billed = list(Actual.objects.filter(invoice=invoice, transaction_type=BILLED))
    reversals = Actual.objects.filter(invoice=invoice, transaction_type=UNBILLED, skip_sync=True)
    assert len(billed) == reversals.count() == len(originals)
    assert sorted(a.amount for a in billed) == sorted(a.amount for a in originals)
    assert sorted(-a.amount for a in reversals) == sorted(a.amount for a in originals)
    assert {a.billing_status for a in Actual.objects.filter(pk__in=[a.pk for a in originals])} == {
        BillingStatus.CUSTOMER_INVOICE_POSTED}

    # 6. The cluster delivers the proposal header (no lines, no amount yet) and the billed sales.
    proposal = wait_until(lambda: InvoiceProposal.objects.filter(number=invoice.number).first(),
                          message=f"proposal {invoice.number}")
    assert (proposal.status, proposal.amount) == (InvoiceProposal.Status.HEADER_ONLY, Decimal("0.00"))
    assert proposal.expected_line_count == len(billed)
    wait_until(lambda: staged(billed), message="the billed sales to be staged")

    # 7. Import from staging, run by a worker, builds the proposal's lines.
    async_task("finance.tasks.import_from_staging")

    def opened():
        proposal.refresh_from_db()
        return proposal.status == InvoiceProposal.Status.OPEN

    wait_until(opened, message=f"proposal {proposal.number} to open")
    assert proposal.lines.count() == len(billed)
    assert proposal.amount == invoice.amount

    # 8. The AR clerk posts it: invoice, customer transaction and a balanced voucher.
    project_invoice = posting.post_proposal(proposal_id=proposal.pk, by="arclerk")
    assert ProjectInvoice.objects.get(proposal=proposal) == project_invoice
    assert project_invoice.total == invoice.amount
    customer_txn = CustomerTransaction.objects.get(invoice=project_invoice)
    assert (customer_txn.amount, customer_txn.customer_number) == (invoice.amount, invoice.customer.number)
    ledger = LedgerEntry.objects.filter(voucher=project_invoice.voucher)
    assert ledger.aggregate(total=Sum("accounting_amount"))["total"] == 0
    P = LedgerEntry.PostingType
    debit = ledger.get(posting_type=P.CUSTOMER_BALANCE).accounting_amount
    credit = ledger.get(posting_type=P.INVOICED_REVENUE).accounting_amount
    assert debit == -credit == invoice.amount

    # 9. The cluster writes the accounting details and the customer invoice back to Dataverse.
    fields = ("voucher", "posting_date", "exchange_rate", "accounting_amount")

    def written_back():
        rows = Actual.objects.filter(pk__in=[a.pk for a in billed]).values(*fields)
        return all(all(row[f] not in ("", None) for f in fields) for row in rows)

    wait_until(written_back, message="the billed sales' accounting details in Dataverse")
    assert set(Actual.objects.filter(pk__in=[a.pk for a in billed]).values_list("voucher", flat=True)) == {
        project_invoice.voucher.number}
    wait_until(lambda: Invoice.objects.filter(pk=invoice.pk, status=Invoice.Status.POSTED).exists(),
               message=f"invoice {invoice.number} to be Posted")
    invoice.refresh_from_db()
    assert invoice.customer_invoice_number == project_invoice.number

    # Nothing synced is left without its voucher, and nothing sits in an error queue.
    wait_until(lambda: not Actual.objects.filter(skip_sync=False, voucher="").exists(),
               message="every synced actual to have its voucher")
    for model in (DataverseChange, FinanceChange):
        assert not model.objects.filter(status=Change.Status.FAILED).exists(), model.__name__
