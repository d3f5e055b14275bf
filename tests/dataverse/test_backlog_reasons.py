"""The backlog says why a row cannot be billed: not approved, outside the invoice cut-off, already on
a named draft (issue #3, D72); its totals are summed when read and its query count is constant."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dataverse import selectors
from dataverse.models import (
    Actual,
    BillingStatus,
    ContractLine,
    InvoiceSchedule,
    ProjectContract,
    TimeEntry,
    TransactionType,
)
from dataverse.selectors import NotBillable
from dataverse.services import backlog, contract_lines, entries, invoicing, milestones

pytestmark = pytest.mark.django_db(databases=["default", "finance"])
D = Decimal


def unbilled(number="PC-1001"):
    return Actual.objects.filter(contract__number=number, transaction_type=TransactionType.UNBILLED_SALES)


def reasons():
    return dict(selectors.backlog().values_list("pk", "not_billable"))


def backlog_page(client, query=""):
    return client.get(reverse("dataverse:backlog") + query).content.decode()


def test_it_lists_submitted_entries_as_not_approved(world, as_user):
    submitted = set(TimeEntry.objects.filter(status=TimeEntry.Status.SUBMITTED).values_list("pk", flat=True))
    rows = list(selectors.awaiting_approval())
    assert {r["pk"] for r in rows if r["entry_class"] == "time"} == submitted
    assert {r["entry_class"] for r in rows} == {"time", "expense"}  # the demo's expenses wait too
    page = backlog_page(as_user(world["pm"]))
    assert "Submitted, not approved yet" in page and page.count("No: not approved yet") == len(rows)

    entries.approve_time_entries(entry_ids=sorted(submitted), by=world["pm"])
    assert not [r for r in selectors.awaiting_approval() if r["entry_class"] == "time"]


def test_it_says_a_ready_sale_after_the_next_runs_cutoff_is_outside_it(world, as_user):
    line = ContractLine.objects.get(contract__number="PC-1001")
    sales = list(unbilled().order_by("transaction_date"))
    backlog.mark_ready_to_invoice(actual_ids=[a.pk for a in sales], ready=True, by=world["pm"])
    first, last = sales[0], sales[-1]
    assert first.transaction_date < last.transaction_date
    # The next run is the day after the first sale: its cut-off is that sale's date.
    InvoiceSchedule.objects.create(contract_line=line, run_date=last.transaction_date + timedelta(days=30),
                                   run_status=InvoiceSchedule.RunStatus.SUCCESSFUL)  # a run already made: ignored
    InvoiceSchedule.objects.create(contract_line=line, run_date=first.transaction_date + timedelta(days=1))
    InvoiceSchedule.objects.create(contract_line=line, run_date=last.transaction_date + timedelta(days=60))
    found = reasons()
    assert found[first.pk] == ""
    assert found[last.pk] == NotBillable.OUTSIDE_CUTOFF
    page = backlog_page(as_user(world["pm"]))
    assert "No: outside the invoice cut-off" in page

    # Not ready comes first: the run would not take it anyway.
    backlog.mark_ready_to_invoice(actual_ids=[last.pk], ready=False, by=world["pm"])
    assert reasons()[last.pk] == NotBillable.NOT_READY


def test_it_names_the_draft_a_sale_and_a_milestone_are_on(world, as_user):
    contract = ProjectContract.objects.get(number="PC-1001")
    contract.lines.update(include_fee=False)
    fp = contract_lines.save_contract_line(
        contract_id=contract.pk, name="Fixed fee", project_id=contract.lines.first().project_id,
        billing_method="fp", include_time=False, contracted_amount=D(1000), by=world["pm"])
    (milestone,) = milestones.set_milestones(line_id=fp.pk, by=world["pm"], milestones=[
        {"name": "Go-live", "milestone_date": date(2026, 11, 1), "amount": D(1000), "tax": D(0)}])
    milestones.mark_milestones_ready(milestone_ids=[milestone.pk], ready=True, by=world["pm"])
    backlog.mark_ready_to_invoice(actual_ids=list(unbilled().values_list("pk", flat=True)), ready=True,
                                  by=world["pm"])
    invoice = invoicing.create_proforma_invoice(contract_id=contract.pk, by=world["pm"])
    client = as_user(world["pm"])
    assert f"No: already on draft {invoice.number}" in backlog_page(client)
    milestone_page = client.get(reverse("dataverse:milestone_backlog")).content.decode()
    assert f"No: already on draft {invoice.number}" in milestone_page


def test_it_says_a_milestone_after_the_next_run_is_outside_it(world):
    contract = ProjectContract.objects.get(number="PC-1001")
    contract.lines.update(include_fee=False)
    fp = contract_lines.save_contract_line(
        contract_id=contract.pk, name="Fixed fee", project_id=contract.lines.first().project_id,
        billing_method="fp", include_time=False, contracted_amount=D(1000), by=world["pm"])
    early, late = milestones.set_milestones(line_id=fp.pk, by=world["pm"], milestones=[
        {"name": "Design", "milestone_date": date(2026, 11, 1), "amount": D(400), "tax": D(0)},
        {"name": "Go-live", "milestone_date": date(2026, 12, 1), "amount": D(600), "tax": D(0)}])
    milestones.mark_milestones_ready(milestone_ids=[early.pk, late.pk], ready=True, by=world["pm"])
    InvoiceSchedule.objects.create(contract_line=fp, run_date=date(2026, 11, 15))
    found = dict(selectors.milestone_backlog().values_list("pk", "not_billable"))
    assert found == {early.pk: "", late.pk: NotBillable.OUTSIDE_CUTOFF}


def test_it_keeps_the_totals_current(world, as_user):
    client = as_user(world["pm"])
    total = sum(unbilled().values_list("amount", flat=True)) + sum(unbilled("PC-1002").values_list("amount",
                                                                                                   flat=True))
    assert selectors.backlog_totals(selectors.backlog()) == [
        {"currency": "USD", "total": total, "ready": None}]
    ids = list(unbilled().values_list("pk", flat=True))
    backlog.mark_ready_to_invoice(actual_ids=ids, ready=True, by=world["pm"])
    ready = sum(unbilled().values_list("amount", flat=True))
    assert selectors.backlog_totals(selectors.backlog()) == [
        {"currency": "USD", "total": total, "ready": ready}]
    page = backlog_page(client)
    assert 'data-testid="backlog-totals"' in page
    # The filters narrow the totals too.
    contract = ProjectContract.objects.get(number="PC-1002")
    filtered = selectors.backlog_totals(selectors.backlog().filter(contract=contract))
    assert filtered[0]["total"] == total - ready and filtered[0]["ready"] is None


def test_it_lists_the_backlog_in_a_constant_number_of_queries(world, as_user):
    client = as_user(world["pm"])

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("dataverse:backlog")).status_code == 200
        return len(queries)

    backlog.mark_ready_to_invoice(actual_ids=list(unbilled().values_list("pk", flat=True)[:1]), ready=True,
                                  by=world["pm"])
    before = count()
    # More of everything: approved sales (ready, on a draft), schedule rows, entries waiting for approval.
    submitted = list(TimeEntry.objects.filter(status=TimeEntry.Status.SUBMITTED).values_list("pk", flat=True))
    entries.approve_time_entries(entry_ids=submitted[:2], by=world["pm"])
    backlog.mark_ready_to_invoice(actual_ids=list(unbilled().filter(billing_status=BillingStatus
                                                                    .UNBILLED_SALES_CREATED)
                                                  .values_list("pk", flat=True)), ready=True, by=world["pm"])
    invoicing.create_proforma_invoice(contract_id=ProjectContract.objects.get(number="PC-1001").pk, by=world["pm"])
    for line in ContractLine.objects.all():
        InvoiceSchedule.objects.create(contract_line=line, run_date=date(2026, 12, 1))
    TimeEntry.objects.bulk_create(TimeEntry(resource=e.resource, role=e.role, project=e.project, task=e.task,
                                            date=e.date, hours=1, status=TimeEntry.Status.SUBMITTED)
                                  for e in TimeEntry.objects.all())
    assert count() == before
