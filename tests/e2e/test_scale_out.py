"""Two django-q2 clusters, one on the ORM broker and one on Redis, drain the same outboxes at once,
as a deployment with several worker machines would: every change is delivered exactly once in effect."""

import os
import signal
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal

import pytest
import redis
from django.db.models import Count
from django.utils import timezone
from django_q.brokers.redis_broker import Redis
from django_q.tasks import async_task, fetch

from dataverse.models import Actual, Project, Resource, TimeEntry
from dataverse.services import entries, invoicing
from finance.models import ActualStaging, InvoiceProposal, InvoiceProposalLine, ProjectTransaction
from projinv.dualwrite import relay
from projinv.dualwrite.models import Change, DataverseChange, FinanceChange

from ..helpers import assert_invariants_hold_once_settled, invoice_contract
from .conftest import ROOT, _stop, database_url, wait_until

REDIS_URL = os.environ.get("PROJINV_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
BOTH = ["default", "finance"]


class SecondClusterRedis(Redis):
    """The Redis broker as the Redis cluster sees it (this process's own broker is the ORM)."""

    @staticmethod
    def get_connection(list_key=None):
        return redis.from_url(REDIS_URL)


@pytest.fixture
def redis_cluster(cluster, tmp_path):
    """A second cluster, on the same databases, taking its tasks from Redis."""
    redis.from_url(REDIS_URL).flushdb()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "DATABASE_URL": database_url("default"),
           "FINANCE_DATABASE_URL": database_url("finance"), "REDIS_URL": REDIS_URL, "PYTHONUNBUFFERED": "1"}
    log_path = tmp_path / "qcluster-redis.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    broker = SecondClusterRedis()
    try:
        task_id = async_task("os.getpid", broker=broker)
        wait_until(lambda: fetch(task_id), timeout=30, message="the Redis cluster to run a first task")
        yield broker
    finally:
        _stop(process)
        if process.returncode not in (0, -signal.SIGTERM):
            print(log_path.read_text())


def hand_everything_to_both(broker):
    """Every due change goes to both clusters, so they really race for each one."""
    for source in relay.CHANGE_MODELS:
        ids = relay.due_changes(source)
        relay.enqueue_many(source, ids)
        for change_id in ids:
            async_task("projinv.dualwrite.tasks.deliver_change", source, change_id, broker=broker)


def all_delivered():
    return not any(m.objects.exclude(status=Change.Status.DELIVERED).exists() for m in relay.CHANGE_MODELS.values())


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_it_delivers_exactly_once_when_an_orm_and_a_redis_cluster_drain_the_same_outboxes(world, redis_cluster):
    # Many small changes: thirty approvals of one entry each, then an invoice per contract.
    resource = Resource.objects.first()
    today = timezone.localdate()
    projects = list(Project.objects.all())
    more = TimeEntry.objects.bulk_create(
        TimeEntry(resource=resource, role=resource.role, project=projects[i % len(projects)],
                  date=today - timedelta(days=i % 20), hours=Decimal(4), status=TimeEntry.Status.SUBMITTED)
        for i in range(30))
    for entry in more:
        entries.approve_time_entries(entry_ids=[entry.pk], by=world["pm"])
    hand_everything_to_both(redis_cluster)
    wait_until(all_delivered, timeout=90, message="both clusters to drain the outboxes")

    async_task("finance.tasks.import_from_staging", broker=redis_cluster)
    async_task("finance.tasks.import_from_staging")
    wait_until(lambda: not ActualStaging.objects.filter(status__in=["received", "waiting"]).exists(), timeout=60)

    for number in ("PC-1001", "PC-1002"):
        invoice = invoice_contract(number)
        invoicing.confirm_proforma(invoice_id=invoice.pk, by=world["pm"])
    hand_everything_to_both(redis_cluster)
    wait_until(all_delivered, timeout=90, message="the invoices to reach finance")

    # Exactly once in effect: one staging row per synced actual, one proposal per invoice.
    synced = Actual.objects.filter(skip_sync=False).count()
    assert ActualStaging.objects.count() == synced
    assert not ActualStaging.objects.values("dataverse_actual_id").annotate(n=Count("pk")).filter(n__gt=1).exists()
    assert InvoiceProposal.objects.count() == 2
    assert ProjectTransaction.objects.count() == ActualStaging.objects.exclude(transaction_type="billed_sales").count()
    assert not DataverseChange.objects.exclude(status=Change.Status.DELIVERED).exists()
    assert not FinanceChange.objects.exclude(status=Change.Status.DELIVERED).exists()
    assert redis.from_url(REDIS_URL).llen(redis_cluster.list_key) == 0
    assert_invariants_hold_once_settled()
    assert InvoiceProposalLine.objects.count() == Actual.objects.filter(transaction_type="billed_sales").count()
