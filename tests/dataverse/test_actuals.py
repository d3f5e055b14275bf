"""Approval creates the actuals (domain.md §2.2); bad input changes nothing."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db.models import ProtectedError
from django.urls import reverse

from dataverse.models import Actual, BillingStatus, TimeEntry, TransactionConnection, TransactionType
from dataverse.services import entries
from projinv.domain import DomainError
from projinv.dualwrite.models import DataverseChange

from ..helpers import assert_invariants_hold_once_settled

pytestmark = pytest.mark.django_db(databases=["default", "finance"])


def submitted_entry(hours="8"):
    entry = TimeEntry.objects.filter(status=TimeEntry.Status.SUBMITTED, role__name="Consultant").first()
    TimeEntry.objects.filter(pk=entry.pk).update(hours=Decimal(hours))
    return entry


def test_it_creates_cost_and_unbilled_sales_on_approval(world):
    entry = submitted_entry("8")  # the worked example: 8 h at cost 100 and price 200
    new_ids = entries.approve_time_entries(entry_ids=[entry.pk], by=world["pm"])

    actuals = {a.transaction_type: a for a in Actual.objects.filter(pk__in=new_ids)}
    cost, unbilled = actuals[TransactionType.COST], actuals[TransactionType.UNBILLED_SALES]
    assert (cost.quantity, cost.amount, cost.currency) == (Decimal(8), Decimal(800), "USD")
    assert (unbilled.quantity, unbilled.amount) == (Decimal(8), Decimal(1600))
    assert unbilled.billing_status == BillingStatus.UNBILLED_SALES_CREATED
    assert unbilled.contract.number == "PC-1001" and not unbilled.skip_sync
    assert TransactionConnection.objects.filter(transaction1=unbilled, transaction2=cost).exists()
    entry.refresh_from_db()
    assert entry.status == TimeEntry.Status.APPROVED and entry.approved_by == world["pm"]


def test_it_queues_the_new_actuals_for_finance_in_the_same_transaction(world, django_capture_on_commit_callbacks):
    entry = submitted_entry()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        new_ids = entries.approve_time_entries(entry_ids=[entry.pk], by=world["pm"])
    change = DataverseChange.objects.latest("pk")
    uuids = {str(u) for u in Actual.objects.filter(pk__in=new_ids).values_list("uuid", flat=True)}
    assert {row["msdyn_actualid"] for row in change.payload} == uuids
    assert len(callbacks) == 1  # the relay is enqueued only after commit


def test_it_refuses_to_approve_what_is_not_submitted_and_changes_nothing(world):
    approved = TimeEntry.objects.filter(status=TimeEntry.Status.APPROVED).first()
    submitted = submitted_entry()
    before = (Actual.objects.count(), DataverseChange.objects.count())
    with pytest.raises(DomainError, match="not Submitted"):
        entries.approve_time_entries(entry_ids=[submitted.pk, approved.pk], by=world["pm"])
    submitted.refresh_from_db()
    assert submitted.status == TimeEntry.Status.SUBMITTED
    assert (Actual.objects.count(), DataverseChange.objects.count()) == before


def test_it_leaves_no_outbox_row_when_the_approval_rolls_back(world):
    """A missing price fails the approval after the first actuals were built: nothing stays."""
    entry = submitted_entry()
    entry.role.prices.filter(price_list__name="USPM sales 2026").delete()
    before = (Actual.objects.count(), DataverseChange.objects.count())
    with pytest.raises(DomainError, match="No sales price"):
        entries.approve_time_entries(entry_ids=[entry.pk], by=world["pm"])
    assert (Actual.objects.count(), DataverseChange.objects.count()) == before
    assert_invariants_hold_once_settled()


def test_it_shows_the_refusal_to_the_user(world, as_user):
    approved = TimeEntry.objects.filter(status=TimeEntry.Status.APPROVED).first()
    response = as_user(world["pm"]).post(reverse("dataverse:entries_approve"), {"selection": [approved.pk]},
                                         follow=True)
    assert "not Submitted" in response.content.decode()


def test_it_keeps_actuals_out_of_reach_of_the_admin(world, as_user):
    actual = Actual.objects.first()
    admin = as_user(User.objects.get(username="admin"))
    assert admin.get(reverse("admin:dataverse_actual_change", args=[actual.pk])).status_code == 200  # view only
    response = admin.post(reverse("admin:dataverse_actual_change", args=[actual.pk]), {"description": "edited"})
    assert response.status_code == 403
    assert admin.post(reverse("admin:dataverse_actual_delete", args=[actual.pk]), {"post": "yes"}).status_code == 403


def test_it_recalls_an_approval_by_reversal_and_finance_nets_it_out(world):
    from finance.models import ProjectTransaction
    from finance.services import importing

    from ..helpers import sync

    approved = TimeEntry.objects.filter(status=TimeEntry.Status.APPROVED, project__number="PRJ-1002").first()
    originals = list(Actual.objects.filter(time_entry=approved))
    sync()
    importing.import_from_staging(triggered_by="test")  # the cost and the WIP are posted in finance
    reversals = entries.recall_time_entries(entry_ids=[approved.pk], by=world["pm"])

    approved.refresh_from_db()
    assert approved.status == TimeEntry.Status.DRAFT  # to correct and submit again
    assert len(reversals) == len(originals) == 2
    for original in originals:
        original.refresh_from_db()
        assert original.adjustment_status == "adjusted"
        reversal = Actual.objects.get(connections_as_first__transaction2=original,
                                      connections_as_first__transaction1_role="reversing")
        assert (reversal.amount, reversal.adjustment_status, reversal.skip_sync) == (
            -original.amount, "unadjustable", False)
    assert not Actual.objects.filter(pk__in=[o.pk for o in originals], billing_status="ready_to_invoice").exists()

    sync()
    importing.import_from_staging(triggered_by="test")
    uuids = [str(a.uuid) for a in Actual.objects.filter(time_entry=approved)]
    net = ProjectTransaction.objects.filter(dataverse_actual_id__in=uuids).values_list("amount", flat=True)
    assert len(net) == 4 and sum(net) == 0  # cost and WIP, each posted and reversed
    assert_invariants_hold_once_settled()


def test_it_refuses_to_recall_what_is_on_an_invoice(world):
    from ..helpers import invoice_contract

    invoice = invoice_contract("PC-1001")
    entry = TimeEntry.objects.filter(actuals__invoice=invoice).first()
    with pytest.raises(DomainError, match=f"is on invoice {invoice.number}"):
        entries.recall_time_entries(entry_ids=[entry.pk], by=world["pm"])
    entry.refresh_from_db()
    assert entry.status == TimeEntry.Status.APPROVED


def test_it_rejects_submitted_entries_only(world):
    submitted = TimeEntry.objects.filter(status=TimeEntry.Status.SUBMITTED).first()
    assert entries.reject_time_entries(entry_ids=[submitted.pk], by=world["pm"]) == 1
    with pytest.raises(DomainError, match="not Submitted"):
        entries.reject_time_entries(entry_ids=[submitted.pk], by=world["pm"])


def test_what_an_actual_points_at_cannot_be_deleted_though_the_database_no_longer_checks_it(world):
    """D77: only the project is a database constraint; Django's PROTECT still guards the rest."""
    entry = submitted_entry("8")
    [cost_id, *_] = entries.approve_time_entries(entry_ids=[entry.pk], by=world["pm"])
    entry = TimeEntry.objects.get(pk=entry.pk)

    with pytest.raises(ProtectedError) as refused:
        entry.delete()

    assert {type(obj) for obj in refused.value.protected_objects} == {Actual}  # the actuals refuse it
    assert Actual.objects.filter(pk=cost_id, time_entry=entry).exists()
