"""The pipeline tracker, reconciliation and resync (issue #5)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dataverse.models import Actual, Invoice
from dataverse.services import invoicing
from finance.models import ActualStaging, InvoiceProposal
from projinv.dualwrite import reconciliation, relay
from projinv.dualwrite.invariants import check_invariants
from projinv.dualwrite.models import DataverseChange, MapState

from ..helpers import invoice_contract, post, run_pipeline_to_proposal, sync

pytestmark = pytest.mark.django_db(databases=["default", "finance"])


def stage_names(stages):
    return [(s.name, s.at is not None, s.stuck) for s in stages]


def test_it_tracks_an_invoice_from_confirmation_to_write_back(world):
    invoice, proposal = run_pipeline_to_proposal()
    stages = reconciliation.pipeline(invoice.number)
    assert [s.at is not None for s in stages] == [True, True, True, True, False, False]
    post(proposal)
    sync()
    stages = reconciliation.pipeline(invoice.number)
    assert all(s.at for s in stages) and not any(s.stuck for s in stages)
    assert stages[1].lag is not None and stages[1].lag >= timedelta(0)


def test_it_flags_the_stage_that_is_stuck(world):
    sync()
    invoice = invoice_contract()
    invoicing.confirm_proforma(invoice_id=invoice.pk, by=world["pm"])
    Invoice.objects.filter(pk=invoice.pk).update(confirmed_at=timezone.now() - timedelta(hours=1))
    stages = reconciliation.pipeline(invoice.number)  # the header never left Dataverse
    assert [s.stuck for s in stages] == [False, True, False, False, False, False]


def test_it_shows_the_progress_of_an_invoice_travelling_in_chunks(world):
    sync()
    invoice = invoice_contract()
    invoicing.confirm_proforma(invoice_id=invoice.pk, by=world["pm"])
    header = DataverseChange.objects.get(map_code="invoices")
    relay.deliver(source="dataverse", change_id=header.pk)  # the header arrived, the actuals not yet
    stages = reconciliation.pipeline(invoice.number)
    assert (stages[2].at, stages[2].progress) == (None, "0 / 2")
    assert stages[5].progress == "0 / 2"


def test_it_shows_the_tracker_on_both_invoice_pages(world, as_user):
    from django.contrib.auth.models import User

    invoice, proposal = run_pipeline_to_proposal()
    dataverse_page = as_user(world["pm"]).get(reverse("dataverse:invoice_detail", args=[invoice.pk]))
    finance_page = as_user(User.objects.get(username="arclerk")).get(
        reverse("finance:proposal_detail", args=[proposal.pk]))
    for page in (dataverse_page, finance_page):
        assert page.status_code == 200 and 'class="pipeline"' in page.content.decode()


def test_it_reconciles_an_invoice_and_names_the_differences(world):
    invoice, proposal = run_pipeline_to_proposal()
    [row] = reconciliation.compare_invoices([invoice.number])
    assert row["differences"] == [] and row["billed_count"] == row["line_count"] == 2

    InvoiceProposal.objects.filter(pk=proposal.pk).update(amount=1)  # finance disagrees
    [row] = reconciliation.compare_invoices([invoice.number])
    assert [str(d) for d in row["differences"]] == ["proposal total differs from the proforma"]


def test_it_finds_actuals_without_voucher_with_no_time_window(world):
    sync()
    Actual.objects.update(created_at=timezone.now() - timedelta(days=400))  # long ago: still reported
    count, examples = reconciliation.actuals_without_voucher()
    assert count == Actual.objects.filter(skip_sync=False).count() and examples


def test_it_resyncs_safely_even_when_pressed_twice(world):
    invoice, proposal = run_pipeline_to_proposal()
    post(proposal)
    Actual.objects.filter(invoice=invoice).update(voucher="", written_back_at=None)  # the write-back was lost
    staged = ActualStaging.objects.count()
    for _ in range(2):
        reconciliation.resync_invoice(invoice.number)
        sync()
    assert ActualStaging.objects.count() == staged
    assert not Actual.objects.filter(invoice=invoice, transaction_type="billed_sales", voucher="").exists()
    assert check_invariants(grace_minutes=0, triggered_by="test").ok


def test_it_resends_a_lost_header(world):
    sync()
    invoice = invoice_contract()
    invoicing.confirm_proforma(invoice_id=invoice.pk, by=world["pm"])
    DataverseChange.objects.filter(map_code="invoices").delete()  # the change was lost before delivery
    reconciliation.resync_invoice(invoice.number)
    reconciliation.resync_invoice(invoice.number)
    sync()
    assert InvoiceProposal.objects.filter(number=invoice.number).count() == 1


def test_it_lets_the_integration_admin_pause_and_resume_a_map_from_the_portal(world, as_user):
    from django.contrib.auth.models import User

    client = as_user(User.objects.get(username="integration"))
    url = reverse("dualwrite:map_state", args=["msdyn_actuals"])
    client.post(url, {"state": "paused", "reason": "maintenance"})
    state = MapState.objects.get(map_code="msdyn_actuals")
    assert (state.state, state.reason, state.changed_by) == ("paused", "maintenance", "integration")
    response = client.post(url, {"state": "sleeping"}, follow=True)
    assert "is not a state" in response.content.decode()
    assert MapState.objects.get(map_code="msdyn_actuals").state == "paused"
    client.post(url, {"state": "running"})
    assert MapState.objects.get(map_code="msdyn_actuals").state == "running"
    page = client.get(reverse("dualwrite:overview")).content.decode()
    assert "Project Operations integration actuals (msdyn_actuals)" in page


def test_it_renders_the_reconciliation_and_error_pages(world, as_user):
    from django.contrib.auth.models import User

    invoice, _proposal = run_pipeline_to_proposal()
    client = as_user(User.objects.get(username="integration"))
    month = invoice.invoice_date.strftime("%Y-%m")
    assert invoice.number in client.get(reverse("dualwrite:reconciliation"), {"month": month}).content.decode()
    assert client.get(reverse("dualwrite:reconcile_invoice", args=[invoice.number])).status_code == 200
    for name in ("dualwrite:errors", "dualwrite:activity"):
        for source in ("dataverse", "finance"):
            assert client.get(reverse(name), {"source": source, "key__icontains": "INV"}).status_code == 200


def test_it_shows_a_change_with_its_payload(world, as_user):
    from django.contrib.auth.models import User

    sync()
    change = DataverseChange.objects.filter(map_code="msdyn_actuals").first()
    client = as_user(User.objects.get(username="integration"))
    page = client.get(reverse("dualwrite:change_detail", args=["dataverse", change.pk])).content.decode()
    assert "msdyn_actualid" in page and str(change.payload[0]["msdyn_actualid"]) in page
    assert client.get(reverse("dualwrite:change_detail", args=["nowhere", change.pk])).status_code == 404
    url = reverse("dualwrite:change_detail", args=["dataverse", change.pk])
    assert as_user(world["pm"]).get(url).status_code == 403


def queries_on_both(client, url) -> int:
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connections["default"]) as dataverse, \
            CaptureQueriesContext(connections["finance"]) as finance:
        assert client.get(url).status_code == 200
    return len(dataverse) + len(finance)


def test_it_shows_the_invoice_pages_and_the_reconciliation_in_a_constant_number_of_queries(world, as_user):
    from django.contrib.auth.models import User

    from dataverse.models import TimeEntry
    from dataverse.services import entries

    integration = as_user(User.objects.get(username="integration"))
    small, small_proposal = run_pipeline_to_proposal("PC-1001")
    Actual.objects.update(created_at=timezone.now() - timedelta(days=1))  # some waiting for a voucher long
    pages = [(integration, reverse("dualwrite:reconciliation"))]

    def counts(invoice, proposal):
        return [queries_on_both(client, url) for client, url in [
            *pages, (as_user(world["pm"]), reverse("dataverse:invoice_detail", args=[invoice.pk])),
            (as_user(User.objects.get(username="arclerk")), reverse("finance:proposal_detail", args=[proposal.pk]))]]

    before = counts(small, small_proposal)
    # More of everything: a second invoice of more lines in the month, more actuals without a voucher.
    submitted = TimeEntry.objects.filter(status=TimeEntry.Status.SUBMITTED, project__number="PRJ-1002")
    entries.approve_time_entries(entry_ids=list(submitted.values_list("pk", flat=True)), by=world["pm"])
    big, big_proposal = run_pipeline_to_proposal("PC-1002")
    Actual.objects.update(created_at=timezone.now() - timedelta(days=1))
    assert big_proposal.lines.count() > small_proposal.lines.count()
    assert counts(big, big_proposal) == before


def test_it_lists_the_month_s_invoices_a_page_at_a_time(world, as_user, monkeypatch):
    from django.contrib.auth.models import User

    first, _proposal = run_pipeline_to_proposal("PC-1001")
    second, _proposal = run_pipeline_to_proposal("PC-1002")
    monkeypatch.setattr(reconciliation, "INVOICES_PER_PAGE", 1)
    client = as_user(User.objects.get(username="integration"))
    url, month = reverse("dualwrite:reconciliation"), timezone.localdate().strftime("%Y-%m")

    pages = [client.get(url, {"month": month, "page": n}).content.decode() for n in (1, 2)]

    numbers = sorted([first.number, second.number])
    assert all("Invoices confirmed in" in page and ": 2</h2>" in page for page in pages)
    assert numbers[0] in pages[0] and numbers[1] not in pages[0] and "page=2" in pages[0]
    assert numbers[1] in pages[1] and numbers[0] not in pages[1] and "Page 2 of 2" in pages[1]


def test_it_lists_only_the_projects_whose_backlog_differs_from_their_wip(world, as_user):
    from django.contrib.auth.models import User

    from dataverse.models import TimeEntry
    from dataverse.services import entries
    from finance.services import importing

    sync()
    importing.import_from_staging(triggered_by="test")  # every approved unbilled sale is WIP now
    entry = TimeEntry.objects.filter(status=TimeEntry.Status.SUBMITTED).select_related("project").first()
    entries.approve_time_entries(entry_ids=[entry.pk], by=world["pm"])  # not in finance yet

    summary = reconciliation.wip_summary()

    assert [row["project"] for row in summary["differing"]] == [entry.project.number]
    assert summary["in_step"] == len(reconciliation.backlog_vs_wip()) - 1
    page = as_user(User.objects.get(username="integration")).get(reverse("dualwrite:reconciliation")).content.decode()
    assert entry.project.number in page and f"{summary['in_step']} project" in page
