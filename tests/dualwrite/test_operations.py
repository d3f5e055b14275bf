"""Operating the bridge: pause, stop, ordering, the error queue, the activity log, alerts (issue #5)."""

import dataclasses
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connections
from django.utils import timezone

from dataverse.models import Invoice, TimeEntry
from dataverse.services import entries, invoicing
from finance.models import ActualStaging, InvoiceProposal
from projinv.domain import DomainError
from projinv.dualwrite import errors, relay, states
from projinv.dualwrite.invariants import check_invariants
from projinv.dualwrite.maps import MAPS
from projinv.dualwrite.models import AlertRule, Change, DataverseChange, FinanceChange, MapState

from ..helpers import assert_invariants_hold_once_settled, invoice_contract, post, run_pipeline_to_proposal, sync

pytestmark = pytest.mark.django_db(databases=["default", "finance"])
State = MapState.State


def submitted_ids():
    return list(TimeEntry.objects.filter(status=TimeEntry.Status.SUBMITTED).values_list("pk", flat=True))


def test_it_queues_changes_while_paused_and_delivers_them_in_order_on_resume(world,
                                                                           django_capture_on_commit_callbacks):
    states.set_state(map_code="msdyn_actuals", state=State.PAUSED, by="integration")
    entries.approve_time_entries(entry_ids=submitted_ids(), by=world["pm"])
    relay.deliver_due()  # the other maps go on (the world's master data)...
    assert not DataverseChange.objects.filter(map_code="msdyn_actuals", attempts__gt=0).exists()  # ...this waits
    queued = list(DataverseChange.objects.filter(map_code="msdyn_actuals", status=Change.Status.PENDING))
    assert len(queued) == 3 and not ActualStaging.objects.exists()
    assert {c.attempts for c in queued} == {0}  # being held is not a failed attempt

    with django_capture_on_commit_callbacks(execute=True):  # resuming hands out what was held, now
        states.set_state(map_code="msdyn_actuals", state=State.RUNNING, by="integration")
    assert relay.due_changes("dataverse") == [c.pk for c in queued]
    sync()
    times = list(DataverseChange.objects.filter(pk__in=[c.pk for c in queued]).order_by("pk")
                 .values_list("delivered_at", flat=True))
    assert None not in times and times == sorted(times)  # in the order they happened (or together, in order)
    assert ActualStaging.objects.count() == sum(c.row_count for c in queued)
    assert_invariants_hold_once_settled()


def test_it_refuses_changes_at_the_source_while_stopped(world):
    states.set_state(map_code="msdyn_actuals", state=State.STOPPED, by="integration")
    ids = submitted_ids()
    with pytest.raises(DomainError, match="is stopped"):
        entries.approve_time_entries(entry_ids=ids, by=world["pm"])
    assert set(TimeEntry.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"submitted"}


def test_it_delivers_an_invoices_header_before_its_actuals(world):
    sync()
    invoice = invoice_contract("PC-1001")
    invoicing.confirm_proforma(invoice_id=invoice.pk, by=world["pm"])
    actuals = DataverseChange.objects.get(map_code="msdyn_actuals", ordering_key=invoice.number)
    header = DataverseChange.objects.get(map_code="invoices")
    assert actuals.pk < header.pk  # recorded first (the billing actuals exist before the header)

    assert relay.deliver(source="dataverse", change_id=actuals.pk) is False  # must wait for the header
    actuals.refresh_from_db()
    assert actuals.status == Change.Status.PENDING and actuals.attempts == 0
    assert str(header.pk) in actuals.waiting_for
    assert relay.deliver(source="dataverse", change_id=header.pk) is True
    DataverseChange.objects.filter(pk=actuals.pk).update(next_attempt_at=timezone.now())
    assert relay.deliver(source="dataverse", change_id=actuals.pk) is True
    assert_invariants_hold_once_settled()


def test_it_groups_the_error_queue_and_lets_a_person_take_and_dismiss(world, monkeypatch):
    def refuse(_rows):
        raise ValueError("Project validation failed")

    monkeypatch.setitem(MAPS, "msdyn_actuals", dataclasses.replace(MAPS["msdyn_actuals"], deliver=refuse))
    DataverseChange.objects.update(attempts=7)  # the last attempt before the error queue
    relay.deliver_due()
    [group] = errors.error_groups("dataverse")
    assert (group["count"], group["last_error"]) == (2, "ValueError: Project validation failed")

    ids = list(DataverseChange.objects.filter(status=Change.Status.FAILED).values_list("pk", flat=True))
    assert errors.take(source="dataverse", change_ids=ids[:1], by="integration") == 1
    with pytest.raises(DomainError, match="Say why"):
        errors.dismiss(source="dataverse", change_ids=ids, by="integration", reason=" ")
    assert errors.dismiss(source="dataverse", change_ids=ids, by="integration", reason="Test data") == 2
    assert set(DataverseChange.objects.filter(pk__in=ids).values_list("status", "triage", "solved_by",
                                                                      "resolution")) == {
        (Change.Status.DISMISSED, Change.Triage.SOLVED, "integration", "Test data")}


def test_it_replays_delivered_changes_without_duplicating_anything(world):
    sync()
    staged = ActualStaging.objects.count()
    ids = list(DataverseChange.objects.values_list("pk", flat=True))
    assert errors.replay(source="dataverse", change_ids=ids, by="integration") == len(ids)
    sync()
    assert ActualStaging.objects.count() == staged
    assert DataverseChange.objects.filter(replay_of__in=ids, status=Change.Status.DELIVERED).count() == len(ids)
    assert_invariants_hold_once_settled()


def test_it_replays_exactly_the_delivered_changes_the_filter_shows(world):
    sync()
    invoice, _proposal = run_pipeline_to_proposal()
    header = DataverseChange.objects.get(map_code="invoices")
    filters = {"map_code": "invoices", "key__icontains": invoice.number[-3:]}
    assert errors.replay_matching(source="dataverse", filters=filters, by="integration") == 1
    replayed = DataverseChange.objects.get(replay_of__isnull=False)
    assert (replayed.replay_of, replayed.map_code, replayed.status) == (header.pk, "invoices", Change.Status.PENDING)
    sync()
    assert InvoiceProposal.objects.filter(number=invoice.number).count() == 1
    assert errors.replay_matching(source="dataverse", filters={"map_code": "nothing"}, by="integration") == 0


def test_it_prunes_the_activity_log_after_the_retention_period(world):
    sync()
    old = DataverseChange.objects.first()
    DataverseChange.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=91))
    DataverseChange.objects.create(map_code="msdyn_actuals", key="x", payload=[], status=Change.Status.PENDING,
                                   created_at=timezone.now() - timedelta(days=200))
    from finance.models import ImportIssue, ImportRun

    idle = ImportRun.objects.create(triggered_by="schedule", status="succeeded")
    ImportIssue.objects.create(run=idle, proposal_number="INV-1", message="waiting")
    ImportRun.objects.filter(pk=idle.pk).update(started_at=timezone.now() - timedelta(days=91))
    assert errors.prune_activity_log() == 3  # the old change, and the idle run with its issue
    assert not DataverseChange.objects.filter(pk=old.pk).exists() and not ImportRun.objects.filter(pk=idle.pk).exists()
    assert DataverseChange.objects.filter(status=Change.Status.PENDING).exists()  # undelivered is kept


def test_it_emails_and_pauses_when_a_map_fails_too_often(world, monkeypatch, django_capture_on_commit_callbacks):
    AlertRule.objects.create(map_code="msdyn_actuals", max_errors=2, window_minutes=15, email_to="ops@example.com",
                             pause_map=True)

    def refuse(_rows):
        raise ValueError("Line property Not available doesn't exist")

    monkeypatch.setitem(MAPS, "msdyn_actuals", dataclasses.replace(MAPS["msdyn_actuals"], deliver=refuse))
    with django_capture_on_commit_callbacks(execute=True):
        relay.deliver_due()  # two changes fail once each: the threshold
    assert states.state_of("msdyn_actuals") == State.PAUSED
    assert len(mail.outbox) == 1 and "ops@example.com" in mail.outbox[0].to
    assert "Project Operations integration actuals" in mail.outbox[0].subject
    DataverseChange.objects.update(next_attempt_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        relay.deliver_due()  # paused: held, no new failure, no second email
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True, databases=["default", "finance"])
def test_it_keeps_working_while_finance_is_unreachable_and_catches_up_once_it_is_back(world):
    sync()  # the world's master data is there; what follows is made while finance is down
    finance = connections["finance"]
    real = dict(finance.settings_dict)
    finance.close()
    finance.settings_dict.update(HOST="127.0.0.1", PORT="1")  # nothing listens there
    try:
        entries.approve_time_entries(entry_ids=submitted_ids(), by=world["pm"])
        invoice = invoice_contract("PC-1001")
        invoicing.confirm_proforma(invoice_id=invoice.pk, by=world["pm"])
        assert relay.deliver_due() == 0
        waiting = DataverseChange.objects.exclude(status=Change.Status.DELIVERED)
        assert set(waiting.values_list("status", flat=True)) == {Change.Status.PENDING}
        # Each change either failed to reach finance, or waits behind its invoice's header.
        for change in waiting:
            assert "OperationalError" in change.last_error or invoice.number in change.waiting_for
    finally:
        finance.close()
        finance.settings_dict.clear()
        finance.settings_dict.update(real)
    DataverseChange.objects.update(next_attempt_at=timezone.now())
    sync()
    assert set(DataverseChange.objects.values_list("status", flat=True)) == {Change.Status.DELIVERED}
    assert InvoiceProposal.objects.filter(number=invoice.number).count() == 1
    staged = ActualStaging.objects.values_list("dataverse_actual_id", flat=True)
    assert len(staged) == len(set(staged))
    assert_invariants_hold_once_settled()


def test_it_checks_the_invariants_and_reports_violations(world):
    _invoice, proposal = run_pipeline_to_proposal()
    post(proposal)
    sync()
    assert_invariants_hold_once_settled()
    call_command("check_invariants", "--grace-minutes", "0")

    from django.db import IntegrityError, connection, transaction

    with pytest.raises(IntegrityError), transaction.atomic():  # the database refuses the change...
        Invoice.objects.filter(number=proposal.number).update(total=1)
    with transaction.atomic(), connection.cursor() as cursor:  # ...unless a superuser forces it past
        cursor.execute("SET LOCAL session_replication_role = replica")
        Invoice.objects.filter(number=proposal.number).update(total=1)
    with pytest.raises(CommandError, match="violated"):
        call_command("check_invariants", "--grace-minutes", "0")
    result = check_invariants(grace_minutes=0, triggered_by="test")
    assert [v["rule"] for v in result.violations] == ["proforma total differs from its details"]
    assert result.violations[0]["examples"] == [proposal.number]


def test_it_keeps_in_flight_work_out_of_the_invariants_during_the_grace_period(world):
    invoice = invoice_contract("PC-1001")
    invoicing.confirm_proforma(invoice_id=invoice.pk, by=world["pm"])  # not synced yet
    assert check_invariants(grace_minutes=15, triggered_by="test").ok
    assert not check_invariants(grace_minutes=0, triggered_by="test").ok


def test_it_writes_finance_changes_to_the_finance_outbox(world):
    run_pipeline_to_proposal()
    assert FinanceChange.objects.using("finance").filter(map_code="msdyn_actuals_writeback").exists()
    assert not DataverseChange.objects.filter(map_code="msdyn_actuals_writeback").exists()


def test_it_does_not_leave_a_change_waiting_when_its_blocker_arrives_while_it_is_held(world, monkeypatch):
    """The header is delivered by another worker between this change's check and its hold."""
    sync()
    invoice = invoice_contract("PC-1001")
    invoicing.confirm_proforma(invoice_id=invoice.pk, by=world["pm"])
    actuals = DataverseChange.objects.get(map_code="msdyn_actuals", ordering_key=invoice.number)
    header = DataverseChange.objects.get(map_code="invoices")
    real_hold = relay._hold

    def header_delivered_meanwhile(model, change, **kwargs):
        relay.deliver(source="dataverse", change_id=header.pk)  # the other worker, after our claim
        real_hold(model, change, **kwargs)

    monkeypatch.setattr(relay, "_hold", header_delivered_meanwhile)
    assert relay.deliver(source="dataverse", change_id=actuals.pk) is False
    assert actuals.pk in relay.due_changes("dataverse")  # due now, not after the next sweep


def test_it_refuses_to_replay_by_a_filter_it_cannot_read(world):
    sync()
    with pytest.raises(DomainError, match="nothing was replayed"):
        errors.replay_matching(source="dataverse", filters={"status": "no-such-status"}, by="integration")
    assert not DataverseChange.objects.filter(replay_of__isnull=False).exists()


def test_it_queues_records_whose_keys_are_as_long_as_dataverse_allows(world):
    from dataverse.services import masterdata
    from finance.models import TransactionCategory

    name = "Travel – international airfare, economy class, booked by the travel agency"
    masterdata.save_transaction_category(name=name, transaction_class="expense", unit="each", by=world["pm"])
    change = DataverseChange.objects.get(map_code="msdyn_transactioncategories", key=name)
    assert change.ordering_key == name
    sync()
    assert TransactionCategory.objects.filter(category=name, transaction_class="expense").exists()
