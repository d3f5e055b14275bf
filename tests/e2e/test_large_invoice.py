"""An invoice of 10,000 lines goes through the real bridge (Project Operations stops at 1,000 lines and
2 minutes of real-time dual-write): it travels in chunks, its progress shows on the tracker, and it
ends posted and written back with every billed sale accounted for once."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db.models import Sum
from django.utils import timezone
from django_q.tasks import async_task

from dataverse.models import Actual, Invoice, InvoiceLineDetail, Project, Resource, TimeEntry, TransactionType
from dataverse.services import entries, invoicing
from finance.models import ActualStaging, InvoiceProposal, InvoiceProposalLine
from finance.services import posting
from projinv.dualwrite import reconciliation
from projinv.dualwrite.models import Change, DataverseChange

from ..helpers import assert_invariants_hold_once_settled, invoice_contract
from .conftest import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, databases=["default", "finance"])]

LINES = 10_000
BILLED = TransactionType.BILLED_SALES


def work_on(project: Project, count: int, pm) -> None:
    """`count` approved hours of work on the project, through the entry services."""
    resource = Resource.objects.order_by("pk").first()
    today = timezone.localdate()
    created = TimeEntry.objects.bulk_create(
        TimeEntry(resource=resource, role=resource.role, project=project, task=project.tasks.first(),
                  date=today - timedelta(days=1 + i % 28), hours=Decimal(1), description=f"Support call {i}")
        for i in range(count))
    ids = [e.pk for e in created]
    entries.submit_time_entries(entry_ids=ids, by=pm)
    entries.approve_time_entries(entry_ids=ids, by=pm)


def stage(invoice_number: str, name: str):
    return next(s for s in reconciliation.pipeline(invoice_number) if s.name == name)


def test_it_carries_an_invoice_of_ten_thousand_lines_to_posted_and_written_back(world, cluster):
    pm = User.objects.get(username="pm")
    project = Project.objects.get(number="PRJ-1002")
    submitted = list(TimeEntry.objects.filter(status=TimeEntry.Status.SUBMITTED, project=project)
                     .values_list("pk", flat=True))
    entries.approve_time_entries(entry_ids=submitted, by=pm)
    already = Actual.objects.filter(project=project, transaction_type=TransactionType.UNBILLED_SALES).count()
    work_on(project, LINES - already, pm)

    wait_until(lambda: not DataverseChange.objects.filter(status=Change.Status.PENDING).exists(), timeout=120,
               message="the approved actuals to be staged")

    def journalized():  # the import's schedule, every few seconds, until every row is posted
        async_task("finance.tasks.import_from_staging")
        return not ActualStaging.objects.filter(transaction_type=TransactionType.UNBILLED_SALES).exclude(
            status="posted").exists()

    wait_until(journalized, timeout=180, interval=5, message="the unbilled sales to be journalized and posted")

    invoice = invoice_contract("PC-1002", pm=pm)
    assert InvoiceLineDetail.objects.filter(invoice=invoice).count() == LINES
    invoicing.confirm_proforma(invoice_id=invoice.pk, by=pm)
    chunks = DataverseChange.objects.filter(map_code="msdyn_actuals", ordering_key=invoice.number)
    assert chunks.count() == LINES // 1000  # ten deliveries of a thousand rows, none of ten thousand

    wait_until(lambda: stage(invoice.number, "Actuals staged").at, timeout=120,
               message="every billed sale to be staged")
    assert stage(invoice.number, "Actuals staged").progress == f"{LINES} / {LINES}"

    def imported():  # the import's schedule, every few seconds, until the connections are in too
        async_task("finance.tasks.import_from_staging")
        return InvoiceProposal.objects.filter(number=invoice.number).exclude(lines_imported_at=None).first()

    proposal = wait_until(imported, timeout=120, interval=3, message="the proposal's lines to be imported")
    assert InvoiceProposalLine.objects.filter(proposal=proposal).count() == LINES

    posting.post_proposal(proposal_id=proposal.pk, by="arclerk")
    wait_until(lambda: Invoice.objects.get(pk=invoice.pk).status == Invoice.Status.POSTED
               and not Actual.objects.filter(invoice=invoice, transaction_type=BILLED, voucher="").exists(),
               timeout=120, message="the accounting details to come back")
    assert stage(invoice.number, "Written back").progress == f"{LINES} / {LINES}"
    invoice.refresh_from_db()
    proposal.refresh_from_db()
    billed_total = Actual.objects.filter(invoice=invoice, transaction_type=BILLED).aggregate(t=Sum("amount"))["t"]
    assert invoice.amount == proposal.amount == billed_total >= LINES * Decimal(200)  # demo days are longer
    assert_invariants_hold_once_settled()
