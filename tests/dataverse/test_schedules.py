"""Scheduled invoice runs: cut-off, run status, and never a duplicate (domain.md §2.5, BR-11)."""

import threading
from datetime import timedelta

import pytest
from django.db import connections

from dataverse.models import Actual, ContractLine, Invoice, InvoiceLineDetail, InvoiceSchedule, TransactionType
from dataverse.services import backlog, schedules

BOTH = ["default", "finance"]
Status = InvoiceSchedule.RunStatus


def ready_and_schedule(world, contract="PC-1001"):
    unbilled = Actual.objects.filter(contract__number=contract, transaction_type=TransactionType.UNBILLED_SALES)
    backlog.mark_ready_to_invoice(actual_ids=list(unbilled.values_list("pk", flat=True)), ready=True, by=world["pm"])
    latest = max(unbilled.values_list("transaction_date", flat=True))
    line = ContractLine.objects.get(contract__number=contract)
    # Run on the day of the latest entry: its cut-off is the day before, so that entry waits.
    row = InvoiceSchedule.objects.create(contract_line=line, run_date=latest)
    return row, unbilled, latest


@pytest.mark.django_db(databases=BOTH)
def test_it_invoices_on_the_run_date_up_to_the_cutoff(world):
    row, unbilled, latest = ready_and_schedule(world)
    ran = schedules.run_invoice_schedules(today=latest, by=world["pm"])
    assert [r.pk for r in ran] == [row.pk]
    row.refresh_from_db()
    invoice = Invoice.objects.get()
    assert row.run_status == Status.SUCCESSFUL and invoice.number in row.message
    assert invoice.invoice_date == latest
    billed_dates = InvoiceLineDetail.objects.filter(invoice=invoice).values_list("transaction_date", flat=True)
    assert max(billed_dates) <= row.cutoff_date == latest - timedelta(days=1)
    assert unbilled.filter(transaction_date=latest, invoice=None).exists()  # after the cut-off: next run


@pytest.mark.django_db(databases=BOTH)
def test_it_runs_a_schedule_row_once_however_often_the_job_runs(world):
    row, _unbilled, latest = ready_and_schedule(world)
    schedules.run_invoice_schedules(today=latest, by=world["pm"])
    assert schedules.run_invoice_schedules(today=latest, by=world["pm"]) == []
    assert Invoice.objects.count() == 1


@pytest.mark.django_db(databases=BOTH)
def test_it_counts_nothing_to_bill_as_a_successful_run_without_an_invoice(world):
    line = ContractLine.objects.get(contract__number="PC-1002")
    row = InvoiceSchedule.objects.create(contract_line=line, run_date=line.contract.actuals.first().transaction_date)
    schedules.run_invoice_schedules(today=row.run_date, by=world["pm"])
    row.refresh_from_db()
    assert row.run_status == Status.SUCCESSFUL and "Nothing on contract" in row.message
    assert not Invoice.objects.exists()


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_it_makes_no_duplicate_when_two_runs_start_at_once(world):
    _row, _unbilled, latest = ready_and_schedule(world)
    barrier = threading.Barrier(2)

    def run():
        barrier.wait()
        try:
            schedules.run_invoice_schedules(today=latest, by=world["pm"])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Invoice.objects.count() == 1
    details = InvoiceLineDetail.objects.values_list("actual_id", flat=True)
    assert len(details) == len(set(details))
