"""The accountant's edits before posting: dates, delete all lines and re-import, batch posting."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from finance.models import ActualStaging, InvoiceProposal, ProjectInvoice, ProjectTransaction
from finance.services import importing, posting, proposals
from projinv.domain import DomainError, InvalidTransition

from ..helpers import assert_invariants_hold_once_settled, invoice_contract, post, run_pipeline_to_proposal, sync

pytestmark = pytest.mark.django_db(databases=["default", "finance"])


def test_it_recalculates_the_due_date_when_the_invoice_date_changes(world):
    _invoice, proposal = run_pipeline_to_proposal()
    new_date = proposal.invoice_date + timedelta(days=3)
    proposals.set_dates(proposal_id=proposal.pk, invoice_date=new_date, due_date=proposal.due_date, by="arclerk")
    proposal.refresh_from_db()
    assert proposal.due_date == new_date + timedelta(days=30)  # C-1001 pays in 30 days

    override = new_date + timedelta(days=10)
    proposals.set_dates(proposal_id=proposal.pk, invoice_date=new_date, due_date=override, by="arclerk")
    proposal.refresh_from_db()
    assert proposal.due_date == override
    with pytest.raises(DomainError, match="before the invoice date"):
        proposals.set_dates(proposal_id=proposal.pk, invoice_date=new_date, due_date=new_date - timedelta(days=1),
                            by="arclerk")
    assert post(proposal).due_date == override


def test_it_deletes_all_lines_and_the_next_import_recreates_them(world):
    _invoice, proposal = run_pipeline_to_proposal()
    lines_before = list(proposal.lines.values_list("staging__dataverse_actual_id", "amount").order_by("pk"))
    assert proposals.delete_all_lines(proposal_id=proposal.pk, by="accountant") == 2
    proposal.refresh_from_db()
    assert (proposal.status, proposal.amount) == (InvoiceProposal.Status.HEADER_ONLY, 0)
    assert not ProjectTransaction.objects.filter(status=ProjectTransaction.Status.INVOICE_PROPOSAL).exists()

    importing.import_from_staging(triggered_by="test")
    proposal.refresh_from_db()
    assert proposal.status == InvoiceProposal.Status.OPEN
    assert list(proposal.lines.values_list("staging__dataverse_actual_id", "amount").order_by("pk")) == lines_before
    post(proposal)
    assert_invariants_hold_once_settled()


def test_it_refuses_to_change_a_posted_proposal(world):
    _invoice, proposal = run_pipeline_to_proposal()
    post(proposal)
    with pytest.raises(InvalidTransition):
        proposals.delete_all_lines(proposal_id=proposal.pk, by="accountant")
    with pytest.raises(InvalidTransition):
        proposals.set_dates(proposal_id=proposal.pk, invoice_date=proposal.invoice_date, due_date=None, by="x")
    assert ActualStaging.objects.filter(status=ActualStaging.Status.INVOICED).count() == 2


def test_it_posts_a_batch_and_reports_each_proposal(world):
    from dataverse.services import invoicing

    _invoice, first = run_pipeline_to_proposal("PC-1001")
    second = invoice_contract("PC-1002")
    invoicing.confirm_proforma(invoice_id=second.pk, by=world["pm"])
    sync()  # the second proposal exists, without lines yet: it cannot be posted
    header_only = InvoiceProposal.objects.get(number=second.number)
    results = posting.post_proposals(proposal_ids=[first.pk, header_only.pk], by="arclerk")
    assert [(r.proposal, bool(r.invoice), bool(r.error)) for r in results] == [
        (first.number, True, False), (header_only.number, False, True)]
    assert "Header only" in results[1].error
    assert ProjectInvoice.objects.count() == 1


def test_it_posts_a_batch_from_the_proposal_list(world, as_user):
    _invoice, proposal = run_pipeline_to_proposal()
    client = as_user(User.objects.get(username="arclerk"))
    response = client.post(reverse("finance:proposals_post"), {"selection": [proposal.pk]}, follow=True)
    assert f"{proposal.number} posted as PINV-000001" in response.content.decode()
    assert ProjectInvoice.objects.get().total == Decimal(proposal.amount)


def test_it_reports_a_missing_posting_setup_per_proposal_in_a_batch(world):
    from finance.models import PostingSetup

    _invoice, proposal = run_pipeline_to_proposal()
    PostingSetup.objects.all().delete()
    [result] = posting.post_proposals(proposal_ids=[proposal.pk], by="arclerk")
    assert "has no posting set-up" in result.error and not result.invoice
    assert not ProjectInvoice.objects.exists()
