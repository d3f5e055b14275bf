"""The customer-invoice map: finance's posted invoice numbers reach the proforma invoices, many at once."""

import importlib

import pytest
from django.db import connections

from dataverse.models import Invoice
from dataverse.services import inbound
from projinv import batches
from projinv.domain import DomainError, InvalidTransition
from projinv.dualwrite import outbox, relay
from projinv.dualwrite.maps import CUSTOMER_INVOICES
from projinv.dualwrite.models import Change, FinanceChange

from ..helpers import invoice_contract, post, run_pipeline_to_proposal, sync

BOTH = ["default", "finance"]


def customer_invoice_changes():
    return FinanceChange.objects.filter(map_code=CUSTOMER_INVOICES.code).order_by("pk")


def deliver_write_back_first():
    """The actuals' write-back of each invoice goes before its summary (same ordering key)."""
    for change in FinanceChange.objects.exclude(map_code=CUSTOMER_INVOICES.code).order_by("pk"):
        relay.deliver(source="finance", change_id=change.pk)


@pytest.mark.django_db(databases=BOTH)
def test_it_posts_the_invoices_of_two_postings_in_one_delivery(world, monkeypatch):
    first_invoice, first = run_pipeline_to_proposal("PC-1001")
    second_invoice, second = run_pipeline_to_proposal("PC-1002")
    first_posted, second_posted = post(first), post(second)
    deliver_write_back_first()
    calls = []
    original = inbound.record_customer_invoices

    def spy(*, rows):
        calls.append(batches.read(connections["default"], rows, inbound.CUSTOMER_INVOICE_COLUMNS))
        return original(rows=rows)

    monkeypatch.setattr(inbound, "record_customer_invoices", spy)

    changes = list(customer_invoice_changes())
    assert relay.deliver(source="finance", change_id=changes[0].pk) is True

    assert [sorted(row["invoice_number"] for row in rows) for rows in calls] == [
        sorted([first_invoice.number, second_invoice.number])]
    assert set(customer_invoice_changes().values_list("status", flat=True)) == {Change.Status.DELIVERED}
    for invoice, posted in ((first_invoice, first_posted), (second_invoice, second_posted)):
        invoice = Invoice.objects.get(pk=invoice.pk)
        assert (invoice.status, invoice.customer_invoice_number, invoice.customer_invoice_date,
                invoice.posted_tax_amount) == (Invoice.Status.POSTED, posted.number, posted.invoice_date, posted.tax)


@pytest.mark.django_db(databases=BOTH)
def test_a_redelivered_summary_changes_nothing(world):
    invoice, proposal = run_pipeline_to_proposal("PC-1001")
    post(proposal)
    sync()
    posted_at = Invoice.objects.get(pk=invoice.pk).posted_at
    rows = customer_invoice_changes().first().payload

    assert inbound.record_customer_invoices(rows=rows) == 0
    assert Invoice.objects.get(pk=invoice.pk).posted_at == posted_at


@pytest.mark.django_db(databases=BOTH)
def test_an_unknown_invoice_fails_on_its_own_change_and_the_others_still_post(world):
    invoice, proposal = run_pipeline_to_proposal("PC-1001")
    # Queued first, so the relay claims it first and takes the real one into the same batch.
    unknown = outbox.record_rows(CUSTOMER_INVOICES, [{
        "invoice_number": "PI-NOPE", "customer_invoice_number": "X-1", "customer_invoice_date": "2026-11-30",
        "tax_amount": "0"}])[0]
    post(proposal)
    deliver_write_back_first()

    relay.deliver(source="finance", change_id=unknown.pk)
    sync()

    unknown.refresh_from_db()
    assert unknown.status == Change.Status.PENDING and unknown.attempts == 1
    assert "No proforma invoice PI-NOPE in Dataverse." in unknown.last_error
    assert Invoice.objects.get(pk=invoice.pk).status == Invoice.Status.POSTED
    assert customer_invoice_changes().exclude(pk=unknown.pk).get().status == Change.Status.DELIVERED


@pytest.mark.django_db(databases=BOTH)
def test_it_refuses_to_post_an_invoice_that_is_not_confirmed_and_changes_nothing(world):
    confirmed, _proposal = run_pipeline_to_proposal("PC-1001")
    draft = invoice_contract("PC-1002")
    rows = [{"invoice_number": number, "customer_invoice_number": f"CI-{number}",
             "customer_invoice_date": "2026-11-30", "tax_amount": "0"} for number in (confirmed.number, draft.number)]

    with pytest.raises(InvalidTransition, match="only a confirmed invoice can be posted"):
        inbound.record_customer_invoices(rows=rows)
    with pytest.raises(DomainError, match="No proforma invoice PI-NOPE"):
        inbound.record_customer_invoices(rows=[{**rows[0], "invoice_number": "PI-NOPE"}])

    assert Invoice.objects.get(pk=confirmed.pk).status == Invoice.Status.CONFIRMED
    assert Invoice.objects.get(pk=draft.pk).status == Invoice.Status.DRAFT


@pytest.mark.django_db(databases=BOTH)
def test_a_summary_queued_before_the_map_was_batched_still_delivers_after_the_migration(world):
    invoice, proposal = run_pipeline_to_proposal("PC-1001")
    posted = post(proposal)
    deliver_write_back_first()
    change = customer_invoice_changes().get()
    # As dualwrite 0006 left it: one summary as an object, not a list of them.
    FinanceChange.objects.filter(pk=change.pk).update(payload=change.payload[0])
    wrap = importlib.import_module("projinv.dualwrite.migrations.0007_customer_invoices_batched").WRAP

    with connections["finance"].cursor() as cursor:
        cursor.execute(wrap)

    assert FinanceChange.objects.get(pk=change.pk).payload == change.payload
    assert relay.deliver(source="finance", change_id=change.pk) is True
    assert Invoice.objects.get(pk=invoice.pk).customer_invoice_number == posted.number
