"""The relay delivers at least once; the receiving side's keys make it effectively once."""

import dataclasses
import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connections
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dataverse.models import TimeEntry
from dataverse.services import entries
from finance.models import ActualStaging
from finance.services.inbound import ACTUAL_COLUMNS
from projinv import batches
from projinv.dualwrite import errors, relay, states, tasks
from projinv.dualwrite.maps import MAPS
from projinv.dualwrite.models import Change, DataverseChange, MapState

from ..helpers import assert_invariants_hold_once_settled

BOTH = ["default", "finance"]


def actuals_change():
    return DataverseChange.objects.filter(map_code="msdyn_actuals").order_by("pk").first()


def delivered_rows():
    """Rows of the actuals changes delivered so far: what finance must have staged, once each."""
    return sum(DataverseChange.objects.filter(map_code="msdyn_actuals", status=Change.Status.DELIVERED)
               .values_list("row_count", flat=True))


def staged_ids(rows) -> set[str]:
    """The actuals a batch handed to finance carries."""
    return {str(row["actual_id"]) for row in batches.read(connections["finance"], rows, ACTUAL_COLUMNS)}


def snapshot():
    return (
        sorted(ActualStaging.objects.values_list("dataverse_actual_id", flat=True)),
        list(DataverseChange.objects.order_by("pk").values_list("status", flat=True)),
    )


def run_concurrently(target, times=2):
    barrier = threading.Barrier(times)
    results = []

    def worker():
        barrier.wait()
        try:
            results.append(target())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(times)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.django_db(databases=BOTH)
def test_it_delivers_a_change_once_when_the_task_runs_twice(world):
    change = actuals_change()
    assert tasks.deliver_change("dataverse", change.pk) is True
    once = snapshot()
    assert tasks.deliver_change("dataverse", change.pk) is False
    assert snapshot() == once
    assert ActualStaging.objects.count() == delivered_rows()  # its batch's rows, each once
    assert_invariants_hold_once_settled()


@pytest.mark.django_db(databases=BOTH)
def test_it_redelivers_after_success_without_a_duplicate(world):
    """The broker hands out a delivered change again (a lost acknowledgement)."""
    change = actuals_change()
    relay.deliver(source="dataverse", change_id=change.pk)
    once = snapshot()
    DataverseChange.objects.filter(pk=change.pk).update(status=Change.Status.PENDING, delivered_at=None)
    assert relay.deliver(source="dataverse", change_id=change.pk) is True
    assert snapshot() == once
    assert_invariants_hold_once_settled()


@pytest.mark.django_db(databases=BOTH)
def test_it_redelivers_a_change_whose_worker_died_after_the_receiving_commit(world):
    change = actuals_change()
    # The worker claimed it, the finance side committed, then the worker was killed before its ack.
    MAPS["msdyn_actuals"].deliver_payload(change.payload)
    DataverseChange.objects.filter(pk=change.pk).update(
        claimed_at=timezone.now() - timedelta(minutes=10), attempts=1)
    assert change.pk in relay.due_changes("dataverse")  # the sweeper sees the expired claim
    assert relay.deliver(source="dataverse", change_id=change.pk) is True
    assert ActualStaging.objects.count() == delivered_rows()  # its rows staged once, not twice
    assert DataverseChange.objects.get(pk=change.pk).status == Change.Status.DELIVERED
    assert_invariants_hold_once_settled()


@pytest.mark.django_db(databases=BOTH)
def test_it_does_not_hand_out_a_change_that_a_live_worker_holds(world):
    change = actuals_change()
    DataverseChange.objects.filter(pk=change.pk).update(claimed_at=timezone.now())
    assert change.pk not in relay.due_changes("dataverse")
    assert relay.deliver(source="dataverse", change_id=change.pk) is False


@pytest.mark.django_db(databases=BOTH)
def test_it_records_a_failure_backs_off_and_then_parks_it_in_the_error_queue(world, monkeypatch):
    def refuse(_payload):
        raise RuntimeError("Line property Not available doesn't exist")

    monkeypatch.setitem(MAPS, "msdyn_actuals", dataclasses.replace(MAPS["msdyn_actuals"], deliver=refuse))
    change = actuals_change()
    with override_settings(DUALWRITE=settings.DUALWRITE | {"MAX_ATTEMPTS": 2}):
        assert relay.deliver(source="dataverse", change_id=change.pk) is False
        change.refresh_from_db()
        assert change.status == Change.Status.PENDING and change.attempts == 1
        assert "Line property Not available" in change.last_error
        assert change.next_attempt_at > timezone.now()  # backing off: not due yet
        assert change.pk not in relay.due_changes("dataverse")

        DataverseChange.objects.filter(pk=change.pk).update(next_attempt_at=timezone.now())
        relay.deliver(source="dataverse", change_id=change.pk)
        change.refresh_from_db()
        assert change.status == Change.Status.FAILED and change.attempts == 2
        assert change.triage == Change.Triage.OPEN
    assert not ActualStaging.objects.exists()

    monkeypatch.undo()  # the set-up is fixed; a person retries from the error queue
    assert errors.retry(source="dataverse", change_ids=[change.pk], by="integration") == 1
    assert relay.deliver(source="dataverse", change_id=change.pk) is True
    assert ActualStaging.objects.count() == delivered_rows()
    change.refresh_from_db()
    assert (change.triage, change.taken_by, change.solved_by) == (Change.Triage.SOLVED, "integration", "integration")
    assert_invariants_hold_once_settled()


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_it_delivers_exactly_once_when_two_workers_race(world):
    change = actuals_change()
    results = run_concurrently(lambda: relay.deliver(source="dataverse", change_id=change.pk))
    assert sorted(results) == [False, True]
    assert ActualStaging.objects.count() == delivered_rows()  # its batch, once
    assert_invariants_hold_once_settled()


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_it_sweeps_twice_at_once_without_losing_or_doubling_anything(world):
    """Two sweepers enqueue the same due changes; the claims let each be delivered once."""
    relay.deliver_due()  # the world's master data (whose changes may wait for each other)
    submitted = TimeEntry.objects.filter(status=TimeEntry.Status.SUBMITTED).values_list("pk", flat=True)
    entries.approve_time_entries(entry_ids=list(submitted), by=world["pm"])
    due = relay.due_changes("dataverse")
    assert due
    assert run_concurrently(tasks.sweep_outbox) == [len(due), len(due)]
    results = run_concurrently(relay.deliver_due)
    assert sum(results) == len(due)
    assert set(DataverseChange.objects.values_list("status", flat=True)) == {Change.Status.DELIVERED}
    assert ActualStaging.objects.count() == sum(DataverseChange.objects.filter(map_code="msdyn_actuals")
                                                .values_list("row_count", flat=True))
    assert_invariants_hold_once_settled()


@pytest.mark.django_db(databases=BOTH)
def test_it_stores_why_a_change_waits_as_a_code_and_says_it_when_shown(world):
    states.set_state(map_code="msdyn_actuals", state=MapState.State.PAUSED, by="integration")
    submitted = TimeEntry.objects.filter(status=TimeEntry.Status.SUBMITTED).values_list("pk", flat=True)
    entries.approve_time_entries(entry_ids=list(submitted), by=world["pm"])
    change = DataverseChange.objects.filter(map_code="msdyn_actuals").first()
    relay.deliver(source="dataverse", change_id=change.pk)
    change.refresh_from_db()
    assert change.waiting == {"map_state": "paused"}  # stored as a code, not as words
    assert change.waiting_for == "its table map, which is Paused: changes queue up"  # gettext, when shown


@pytest.mark.django_db(databases=BOTH)
def test_it_delivers_a_batched_map_s_due_changes_together_in_one_call(world, monkeypatch):
    changes = list(DataverseChange.objects.filter(map_code="msdyn_actuals", ordering_key="").order_by("pk"))
    assert len(changes) > 1
    calls = []
    real = MAPS["msdyn_actuals"].deliver
    monkeypatch.setattr(relay, "MAPS", {**relay.MAPS, "msdyn_actuals": dataclasses.replace(
        MAPS["msdyn_actuals"], deliver=lambda rows: calls.append(len(staged_ids(rows))) or real(rows))})
    assert relay.deliver(source="dataverse", change_id=changes[0].pk) is True
    assert calls == [sum(c.row_count for c in changes)]
    assert set(DataverseChange.objects.filter(pk__in=[c.pk for c in changes]).values_list("status", flat=True)) == {
        Change.Status.DELIVERED}
    assert ActualStaging.objects.count() == delivered_rows()


@pytest.mark.django_db(databases=BOTH)
def test_a_loop_over_due_changes_claims_none_of_those_an_earlier_batch_took(world):
    ids = list(DataverseChange.objects.filter(map_code="msdyn_actuals", ordering_key="").order_by("pk")
               .values_list("pk", flat=True))
    assert len(ids) > 1
    with CaptureQueriesContext(connections["default"]) as queries:
        assert relay.deliver_each("dataverse", ids) == [ids]  # one delivery
    assert sum("WITH claimed AS" in query["sql"] for query in queries) == 1  # one claim, not one a change
    assert ActualStaging.objects.count() == delivered_rows()


@pytest.mark.django_db(databases=BOTH)
def test_it_delivers_a_change_alone_when_its_batch_fails_and_records_the_failure_on_its_own(world, monkeypatch):
    first, second = DataverseChange.objects.filter(map_code="msdyn_actuals", ordering_key="").order_by("pk")[:2]
    bad = {row["msdyn_actualid"] for row in second.payload}
    real = MAPS["msdyn_actuals"].deliver

    def refuse_the_second(rows):
        if bad & staged_ids(rows):
            raise ValueError("finance refused a row")
        return real(rows)

    monkeypatch.setattr(relay, "MAPS", {**relay.MAPS, "msdyn_actuals": dataclasses.replace(
        MAPS["msdyn_actuals"], deliver=refuse_the_second)})
    assert relay.deliver(source="dataverse", change_id=first.pk) is True
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.status, first.attempts) == (Change.Status.DELIVERED, 1)
    assert (second.status, second.attempts, second.claimed_at, second.last_error) == (
        Change.Status.PENDING, 0, None, "")  # given back uncounted, and queued again
    assert relay.deliver(source="dataverse", change_id=second.pk) is False
    second.refresh_from_db()
    assert (second.attempts, second.last_error) == (1, "ValueError: finance refused a row")
    assert not ActualStaging.objects.filter(dataverse_actual_id__in=bad).exists()
