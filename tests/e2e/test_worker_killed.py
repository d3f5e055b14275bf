"""A worker killed after finance committed a delivery and before the outbox heard of it: the change
is delivered again by another worker, and finance's business keys make the second delivery a no-op."""

import os
import signal
import subprocess
import sys
from contextlib import closing

import psycopg
import pytest
from django.contrib.auth.models import User
from django_q.tasks import async_task

from dataverse.models import Actual, TimeEntry
from dataverse.services import entries
from finance.models import ActualStaging
from projinv.dualwrite.models import Change, DataverseChange

from ..helpers import assert_invariants_hold_once_settled
from .conftest import ROOT, _stop, database_url, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, databases=["default", "finance"])]

ACK_LOCK = 727001  # an advisory lock key the test holds while it wants acknowledgements to hang
# Test-only: the outbox's acknowledgement (status → delivered) waits for the test's advisory lock,
# so the worker is frozen exactly between finance's commit and its own ack.
HANG_ACK = f"""
CREATE FUNCTION test_hang_ack() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_lock({ACK_LOCK});
  PERFORM pg_advisory_unlock({ACK_LOCK});
  RETURN NEW;
END $$;
CREATE TRIGGER test_hang_ack BEFORE UPDATE ON dualwrite_dataversechange FOR EACH ROW
  WHEN (NEW.status = 'delivered' AND OLD.status <> 'delivered') EXECUTE FUNCTION test_hang_ack();
"""
UNHANG_ACK = "DROP TRIGGER test_hang_ack ON dualwrite_dataversechange; DROP FUNCTION test_hang_ack();"


def raw_connection():
    """A connection of the test's own, outside Django's, holding the lock as a session would."""
    return psycopg.connect(database_url("default"), autocommit=True)


def acks_hanging(conn) -> list[int]:
    return [pid for (pid,) in conn.execute(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND NOT granted", [ACK_LOCK])]


def replacement_cluster(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings_short_lease",
           "DATABASE_URL": database_url("default"), "FINANCE_DATABASE_URL": database_url("finance"),
           "PYTHONUNBUFFERED": "1"}
    env.pop("REDIS_URL", None)
    log = open(tmp_path / "qcluster-replacement.log", "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True), log


def test_it_redelivers_without_duplicates_when_a_worker_dies_before_acknowledging(world, cluster, tmp_path):
    pm = User.objects.get(username="pm")
    wait_until(lambda: not DataverseChange.objects.filter(status=Change.Status.PENDING).exists(),
               message="the demo world's changes to be delivered")
    with closing(raw_connection()) as lock:
        lock.execute(HANG_ACK)
        lock.execute("SELECT pg_advisory_lock(%s)", [ACK_LOCK])

        submitted = list(TimeEntry.objects.filter(status=TimeEntry.Status.SUBMITTED).values_list("pk", flat=True))
        entries.approve_time_entries(entry_ids=submitted, by=pm)
        new = set(Actual.objects.filter(time_entry_id__in=submitted, skip_sync=False).values_list("uuid", flat=True))
        change = DataverseChange.objects.get(map_code="msdyn_actuals", status=Change.Status.PENDING)

        def received_but_not_acknowledged():
            staged = ActualStaging.objects.filter(dataverse_actual_id__in=new).count() == len(new)
            return staged and acks_hanging(lock)

        hanging = wait_until(received_but_not_acknowledged, message="finance to commit and the ack to hang")
        os.killpg(cluster.pid, signal.SIGKILL)  # the whole machine's workers, mid-acknowledgement
        cluster.wait(timeout=10)
        # The dead worker's connection is gone with it (PostgreSQL would notice on its next write).
        lock.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", [hanging])
        wait_until(lambda: not acks_hanging(lock), message="the dead worker's session to end")
        lock.execute("SELECT pg_advisory_unlock(%s)", [ACK_LOCK])
        lock.execute(UNHANG_ACK)

    change.refresh_from_db()
    assert change.status == Change.Status.PENDING and change.claimed_at is not None  # finance has it; we don't know
    assert ActualStaging.objects.filter(dataverse_actual_id__in=new).count() == len(new)

    process, log = replacement_cluster(tmp_path)
    try:
        def delivered():
            async_task("projinv.dualwrite.tasks.sweep_outbox")  # the schedule's sweep, on the new machine
            change.refresh_from_db()
            return change.status == Change.Status.DELIVERED

        wait_until(delivered, timeout=60, interval=1, message="the replacement worker to redeliver the change")
    finally:
        _stop(process)
        log.close()
        if process.returncode not in (0, -signal.SIGTERM):
            print((tmp_path / "qcluster-replacement.log").read_text())
    assert change.attempts == 2  # delivered twice in fact, once in effect
    assert ActualStaging.objects.filter(dataverse_actual_id__in=new).count() == len(new)
    assert_invariants_hold_once_settled()
