"""End to end: one invoice from confirmation to written back, through a real django-q2 cluster.

The cluster (`manage.py qcluster`, the production worker) runs on the bench databases and does
every hop between the systems. The benchmark plays the people and the scheduler:

1. the PM confirms the invoice (in this process, as the web request would);
2. the workers deliver the proposal header and the billed sales to finance;
3. Import from staging runs as a task as soon as they are staged (the production schedule runs it
   every minute; waiting for the next tick is schedule latency, not work, and is not counted);
4. the AR clerk posts the proposal (in this process, as the web request would);
5. the workers deliver the accounting details and the customer invoice back to Dataverse.

The outbox sweeper runs on its production schedule (every minute), as in production, so that a
change held back by the relay (its invoice's header not delivered yet) is never left behind by
the benchmark; each run records whether a change was held and for about how long.

The clock stops when the Dataverse invoice is Posted and every billed sale has its voucher.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.exceptions import FieldError
from django.db import connections
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task, fetch

from dataverse import models as dv
from dataverse.services import invoicing
from finance import models as fin
from finance.services import posting
from projinv.dualwrite.models import DataverseChange, FinanceChange
from projinv.management.commands.setup_schedules import SCHEDULES

from .record import BenchError, Recorder
from .timing import stopwatch
from .world import World

POLL = 0.02
TIMEOUT = 150  # more than a sweeper cycle (about 90 s at worst)
SWEEPER = "dualwrite.sweep_outbox"


def wait_until(predicate, what: str, timeout: float = TIMEOUT):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(POLL)
    return value


class Cluster:
    """`manage.py qcluster` as a child process on the databases this process uses."""

    def __init__(self, log_path: Path):
        self.log_path = log_path
        self.process = None

    def __enter__(self):
        # Tasks queued by earlier stages (their changes were delivered in-process) would only
        # keep the workers busy: the cluster starts on an empty queue.
        with connections["default"].cursor() as cursor:
            cursor.execute("DELETE FROM django_q_ormq")
        spec = SCHEDULES[SWEEPER]
        Schedule.objects.update_or_create(name=SWEEPER, defaults={
            "func": spec["func"], "schedule_type": Schedule.MINUTES, "minutes": spec["minutes"], "repeats": -1})
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "qcluster"], env=os.environ.copy(),
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        task_id = async_task("os.getpid")

        def answered():
            if self.process.poll() is not None:
                raise BenchError(f"qcluster exited with {self.process.returncode}: see {self.log_path}")
            return fetch(task_id)

        wait_until(answered, "the django-q2 cluster to run a first task", timeout=60)
        return self

    def peak_rss_kib(self) -> int:
        """Peak resident memory of the cluster: the sum over its processes (sentinel, workers…).

        getrusage cannot tell: a child's ru_maxrss counts the parent's image it was forked from."""
        total = 0
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                if os.getpgid(int(proc.name)) != self.process.pid:
                    continue
                status = (proc / "status").read_text()
            except (OSError, ProcessLookupError):
                continue
            total += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), 0)
        return total

    def __exit__(self, *exc):
        process = self.process
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # graceful: the sentinel stops its workers
            try:
                process.wait(timeout=20)
                return
            except subprocess.TimeoutExpired:
                pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # the group of the process we started
        process.wait(timeout=10)


def _held(number: str, since) -> bool:
    """Is a change of this invoice held back by the relay (waiting for its turn)? A failed
    delivery stops the run at once, with its error, instead of waiting for the timeout."""
    for model in (DataverseChange, FinanceChange):
        failed = model.objects.filter(created_at__gte=since).exclude(last_error="").first()
        if failed:
            raise BenchError(f"delivery of {failed.map_code} {failed.key} failed: {failed.last_error}")
    try:
        return any(model.objects.filter(ordering_key=number, status="pending").exclude(waiting={}).exists()
                   for model in (DataverseChange, FinanceChange))
    except FieldError:  # a relay without ordering holds nothing
        return False


def one_invoice(w: World, invoice_id: int) -> dict:
    invoice = dv.Invoice.objects.get(pk=invoice_id)
    lines = dv.InvoiceLineDetail.objects.filter(invoice_id=invoice_id).count()
    hops, held, since = {}, [], timezone.now()
    with stopwatch() as elapsed:
        invoicing.confirm_proforma(invoice_id=invoice_id, by=w.user)
        hops["confirmed"] = elapsed()

        def staged():
            if _held(invoice.number, since):
                held.append(elapsed())
            proposal = fin.InvoiceProposal.objects.filter(number=invoice.number).first()
            # Staged and linked: each billed sale's connection (the last of the invoice's changes) is in.
            count = fin.ActualStaging.objects.filter(invoice_number=invoice.number, transaction_type="billed_sales",
                                                     invoiced_actual_id__isnull=False).count()
            return proposal if proposal and count == lines else None

        proposal = wait_until(staged, f"the header, {lines} billed sales of {invoice.number} and their "
                                      f"connections in finance")
        hops["header, billed sales and connections staged"] = elapsed()
        async_task("finance.tasks.import_from_staging")
        wait_until(lambda: fin.InvoiceProposal.objects.filter(pk=proposal.pk, status="open").exists(),
                   f"proposal {proposal.number} to get its lines")
        hops["proposal lines imported"] = elapsed()
        posting.post_proposal(proposal_id=proposal.pk, by="bench")
        hops["proposal posted"] = elapsed()

        def written_back():
            if _held(invoice.number, since):
                held.append(elapsed())
            posted = dv.Invoice.objects.filter(pk=invoice_id, status=dv.Invoice.Status.POSTED).exists()
            missing = dv.Actual.objects.filter(invoice_id=invoice_id, transaction_type="billed_sales",
                                               skip_sync=False, voucher="").exists()
            return posted and not missing

        wait_until(written_back, f"{invoice.number} to be written back")
        hops["written back"] = elapsed()
    return {"seconds": elapsed(), "lines": lines, "hops": hops, "proposal_id": proposal.pk,
            "held_s": (held[-1] - held[0] + POLL) if held else 0.0}


def run(w: World, rec: Recorder, invoice_ids: list[int], log_path: Path) -> list[int]:
    """Each invoice end to end, one after the other, in one cluster session. Returns the proposals."""
    stage = rec.stage("e2e")
    proposals = []
    with stopwatch() as startup:
        cluster = Cluster(log_path).__enter__()
    rec.add_setup("qcluster start", startup())
    try:
        for invoice_id in invoice_ids:
            result = one_invoice(w, invoice_id)
            stage.rows = result["lines"]
            stage.app.append(result["seconds"])
            stage.extra.setdefault("hops", []).append(result["hops"])
            stage.extra.setdefault("held_s", []).append(result["held_s"])
            proposals.append(result["proposal_id"])
            rec.save()
        rec.memory_kib["worker_cluster"] = cluster.peak_rss_kib()
    finally:
        cluster.__exit__(None, None, None)
        Schedule.objects.filter(name=SWEEPER).delete()
    return proposals
