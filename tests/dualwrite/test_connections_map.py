"""The msdyn_transactionconnections map: billed sales reach their unbilled sales in finance only
through the connections, delivered after the invoice's header and actuals."""

from decimal import Decimal

import pytest

from dataverse.models import Actual, BillingType, InvoiceLineDetail, TransactionType
from dataverse.services import drafts, invoicing
from finance.models import ActualStaging, ImportIssue, InvoiceProposal, TransactionConnectionStaging
from finance.services import importing
from projinv.dualwrite import relay
from projinv.dualwrite.maps import MAPS
from projinv.dualwrite.models import Change, DataverseChange

from ..helpers import assert_invariants_hold_once_settled, invoice_contract, post, sync

pytestmark = pytest.mark.django_db(databases=["default", "finance"])
BILLED = TransactionType.BILLED_SALES


def confirmed(world, edit=None):
    sync()
    importing.import_from_staging(triggered_by="test")
    invoice = invoice_contract("PC-1001")
    if edit:
        edit(InvoiceLineDetail.objects.filter(invoice=invoice).order_by("pk").first())
    invoicing.confirm_proforma(invoice_id=invoice.pk, by=world["pm"])
    return invoice


def deliver(map_code):
    for change in DataverseChange.objects.filter(map_code=map_code, status=Change.Status.PENDING).order_by("pk"):
        assert relay.deliver(source="dataverse", change_id=change.pk), change.waiting_for


def test_it_queues_the_connections_after_the_invoice_s_header_and_actuals(world):
    invoice = confirmed(world)
    change = DataverseChange.objects.get(map_code="msdyn_transactionconnections")
    assert (change.ordering_key, change.priority) == (invoice.number, 3)
    billed = Actual.objects.filter(invoice=invoice, transaction_type=BILLED)
    assert {(row["msdyn_transaction1"], row["msdyn_transaction2"]) for row in change.payload} == {
        (str(b.uuid), str(b.invoiced_actual.uuid)) for b in billed}
    assert relay.deliver(source="dataverse", change_id=change.pk) is False  # its header goes first
    change.refresh_from_db()
    assert change.waiting["map"] == "invoices" and change.attempts == 0


def test_it_builds_no_proposal_lines_until_the_connections_arrive(world):
    invoice = confirmed(world)
    deliver("invoices")
    deliver("msdyn_actuals")
    assert not ActualStaging.objects.filter(invoice_number=invoice.number).exclude(invoiced_actual_id=None).exists()
    importing.import_from_staging(triggered_by="test")
    assert not InvoiceProposal.objects.get(number=invoice.number).lines.exists()
    assert "transaction connection" in ImportIssue.objects.get(proposal_number=invoice.number).text

    deliver("msdyn_transactionconnections")
    deliver("msdyn_transactionconnections")  # a redelivery changes nothing
    billed = Actual.objects.filter(invoice=invoice, transaction_type=BILLED)
    assert TransactionConnectionStaging.objects.count() == billed.count()
    importing.import_from_staging(triggered_by="test")
    assert InvoiceProposal.objects.get(number=invoice.number).lines.count() == billed.count()
    assert_invariants_hold_once_settled()


def test_it_links_an_edited_detail_s_billed_sales_to_the_original_finance_journalized(world):
    def six_of_eight(detail):
        drafts.update_detail(detail_id=detail.pk, by=world["pm"], quantity=detail.quantity - 2,
                             price=detail.price, billing_type=BillingType.CHARGEABLE)

    invoice = confirmed(world, edit=six_of_eight)
    sync()
    edited = InvoiceLineDetail.objects.filter(invoice=invoice).order_by("pk").first()
    billed = Actual.objects.filter(invoice_line_detail=edited, transaction_type=BILLED)
    staged = ActualStaging.objects.filter(dataverse_actual_id__in=list(billed.values_list("uuid", flat=True)))
    assert staged.count() == 2  # the chargeable rest and the non-chargeable remainder
    assert set(staged.values_list("invoiced_actual_id", flat=True)) == {edited.actual.uuid}
    assert Decimal(sum(staged.values_list("quantity", flat=True))) == edited.actual.quantity
    importing.import_from_staging(triggered_by="test")
    assert_invariants_hold_once_settled()


def test_it_shows_the_map_on_the_overview_by_microsoft_s_name_with_its_controls(world, as_user):
    """An admin finds the map under the name the dual-write documentation uses, and can pause it."""
    from django.contrib.auth.models import User
    from django.urls import reverse

    confirmed(world)
    page = as_user(User.objects.get(username="integration")).get(reverse("dualwrite:overview")).content.decode()
    assert "Integration entity for project transaction relationships (msdyn_transactionconnections)" in page
    assert reverse("dualwrite:map_state", args=["msdyn_transactionconnections"]) in page


def test_it_keeps_a_correction_s_invoice_rows_apart_so_their_connections_wait_for_them(world):
    from dataverse.services import corrections

    from ..dataverse.test_corrections import settle_and_post

    invoice = confirmed(world)
    sync()
    importing.import_from_staging(triggered_by="test")
    post(InvoiceProposal.objects.get(number=invoice.number))
    sync()
    corrective = corrections.revise_invoice(invoice_id=invoice.pk, by=world["pm"])  # credit it all
    invoicing.confirm_proforma(invoice_id=corrective.pk, by=world["pm"])
    actuals = DataverseChange.objects.filter(map_code="msdyn_actuals", status=Change.Status.PENDING)
    # The credits (on the corrective invoice) and the work back in the backlog (on none) travel apart.
    assert sorted(actuals.values_list("ordering_key", flat=True)) == ["", corrective.number]
    connections = DataverseChange.objects.get(map_code="msdyn_transactionconnections", status=Change.Status.PENDING)
    assert connections.ordering_key == corrective.number
    posted, _ledger = settle_and_post(corrective)
    assert posted.is_credit_note
    assert_invariants_hold_once_settled()


def test_it_links_on_the_next_import_a_billed_sale_whose_connection_raced_it(world):
    """Two workers delivered the billed sales and their connections at once: neither saw the other."""
    from django.db import connections as databases

    invoice = confirmed(world)
    deliver("invoices")
    billed_rows = DataverseChange.objects.get(map_code="msdyn_actuals", ordering_key=invoice.number)
    links = DataverseChange.objects.get(map_code="msdyn_transactionconnections")
    MAPS["msdyn_transactionconnections"].deliver_payload(links.payload)  # committed first, links nothing
    MAPS["msdyn_actuals"].deliver_payload(billed_rows.payload)
    with databases["finance"].cursor() as cursor:  # as if the actuals' link ran before that commit
        cursor.execute("UPDATE finance_actualstaging SET invoiced_actual_id = NULL WHERE invoice_number = %s",
                       [invoice.number])
    importing.import_from_staging(triggered_by="test")
    proposal = InvoiceProposal.objects.get(number=invoice.number)
    assert proposal.lines.count() == Actual.objects.filter(invoice=invoice, transaction_type=BILLED).count()
