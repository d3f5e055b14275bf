"""Bulk invoice creation and confirmation; two people confirming the same invoice at once."""

import threading

import pytest
from django.db import connections

from dataverse.models import Actual, Invoice, ProjectContract, TransactionType
from dataverse.services import backlog, bulk, invoicing
from dataverse.tasks import confirm_scheduled
from projinv.domain import InvalidTransition
from projinv.dualwrite import states

from ..helpers import invoice_contract

BOTH = ["default", "finance"]
Bulk = Invoice.BulkStatus


def ready_everything(world):
    ids = Actual.objects.filter(transaction_type=TransactionType.UNBILLED_SALES).values_list("pk", flat=True)
    backlog.mark_ready_to_invoice(actual_ids=list(ids), ready=True, by=world["pm"])


@pytest.mark.django_db(databases=BOTH)
def test_it_creates_invoices_across_contracts_and_reports_each(world):
    ready_everything(world)
    contracts = list(ProjectContract.objects.order_by("number").values_list("pk", flat=True))
    results = bulk.create_invoices_for(contract_ids=contracts, by=world["pm"])
    assert [(r.contract, len(r.invoices), r.error) for r in results] == [("PC-1001", 1, ""), ("PC-1002", 1, "")]
    again = bulk.create_invoices_for(contract_ids=contracts, by=world["pm"])  # nothing is ready any more
    assert all("Nothing on contract" in r.error for r in again) and Invoice.objects.count() == 2


@pytest.mark.django_db(databases=BOTH)
def test_it_confirms_in_bulk_with_a_status_per_invoice(world, django_capture_on_commit_callbacks):
    ready_everything(world)
    invoices = [invoicing.create_proforma_invoice(contract_id=c.pk, by=world["pm"])
                for c in ProjectContract.objects.order_by("number")]
    with django_capture_on_commit_callbacks() as callbacks:
        assert bulk.schedule_confirmation(invoice_ids=[i.pk for i in invoices], by=world["pm"]) == 2
    assert len(callbacks) == 1  # the tasks are handed out after commit
    assert set(Invoice.objects.values_list("bulk_status", flat=True)) == {Bulk.SCHEDULED}

    states.set_state(map_code="invoices", state="stopped", by="integration")  # the second one will fail
    assert confirm_scheduled(invoices[0].pk, world["pm"].pk) == Bulk.FAILED
    states.set_state(map_code="invoices", state="running", by="integration")
    assert confirm_scheduled(invoices[1].pk, world["pm"].pk) == Bulk.COMPLETE

    first, second = (Invoice.objects.get(pk=i.pk) for i in invoices)
    assert (first.status, first.bulk_status) == (Invoice.Status.DRAFT, Bulk.FAILED)
    assert "is stopped" in first.bulk_message
    assert (second.status, second.bulk_status) == (Invoice.Status.CONFIRMED, Bulk.COMPLETE)
    assert confirm_scheduled(invoices[1].pk, world["pm"].pk) == Bulk.COMPLETE  # run twice: nothing more
    assert Actual.objects.filter(invoice=second, transaction_type=TransactionType.BILLED_SALES).count() == 2


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_it_lets_only_one_of_two_people_confirm_the_same_invoice(world):
    invoice = invoice_contract("PC-1001")
    barrier, outcomes = threading.Barrier(2), []

    def confirm():
        barrier.wait()
        try:
            invoicing.confirm_proforma(invoice_id=invoice.pk, by=world["pm"])
            outcomes.append("confirmed")
        except InvalidTransition as error:
            outcomes.append(str(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=confirm) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("confirmed") == 1
    [refusal] = [o for o in outcomes if o != "confirmed"]
    assert "is Confirmed and cannot be confirmed" in refusal
    assert Actual.objects.filter(invoice=invoice, transaction_type=TransactionType.BILLED_SALES).count() == 2


@pytest.mark.django_db(databases=BOTH)
def test_it_records_an_unexpected_failure_and_lets_the_invoice_be_scheduled_again(world, monkeypatch):
    invoice = invoice_contract("PC-1001")
    bulk.schedule_confirmation(invoice_ids=[invoice.pk], by=world["pm"])

    def deadlock(**kwargs):
        from django.db import OperationalError

        raise OperationalError("deadlock detected")

    monkeypatch.setattr(bulk, "confirm_proforma", deadlock)
    assert confirm_scheduled(invoice.pk, world["pm"].pk) == Bulk.FAILED
    invoice.refresh_from_db()
    assert (invoice.status, invoice.bulk_status) == (Invoice.Status.DRAFT, Bulk.FAILED)
    assert "deadlock detected" in invoice.bulk_message
    monkeypatch.undo()
    assert bulk.schedule_confirmation(invoice_ids=[invoice.pk], by=world["pm"]) == 1  # try again
    assert confirm_scheduled(invoice.pk, world["pm"].pk) == Bulk.COMPLETE
