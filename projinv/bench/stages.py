"""One round of the pipeline at volume, through the real services.

A round is fresh data all the way: new time entries, approved, sent across, imported, invoiced,
confirmed, imported as proposal lines, posted and written back. For each stage, on the same
input and just before the service runs: the floor (plain SQL on twin tables) and, once per pass,
the naive sample (rolled back). Every stage then checks its outcome; a stage that did less than
it should raises instead of reporting a flattering time.

The input of "proposal lines" (the round's confirmed invoices, 2,000 at the issue's volume, with
their billed sales staged and proposal headers received) is generated in SQL: confirming them
one by one through the services is not one of the measured stages and would cost minutes of the
budget. The "confirm one proforma invoice" stage measures that service itself.
"""

import time
from datetime import timedelta

from django.db.models import Max
from django.utils import timezone

from dataverse import models as dv
from dataverse.services import entries, invoicing
from finance import models as fin
from finance.services import importing, posting
from projinv.dualwrite import relay
from projinv.dualwrite.maps import DATAVERSE, FINANCE
from projinv.dualwrite.models import Change

from . import billing, floors, naive, world
from .record import BenchError, Recorder
from .timing import stopwatch
from .world import World

APPROVAL_BATCH = 10_000  # entries per approval, as a manager approves a selection


def chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def drain(source: str, *, timeout: float = 900) -> int:
    """Deliver every change of one outbox, in order, in this process (as relay.deliver_due does
    for both). A change held back (not its turn) is due again shortly: wait for it."""
    model = relay.CHANGE_MODELS[source]
    delivered, deadline = 0, time.monotonic() + timeout
    while True:
        if time.monotonic() > deadline:
            raise BenchError(f"{source} outbox did not drain in {timeout} s")
        ids = relay.due_changes(source)
        delivered += len(relay.deliver_each(source, ids))
        if ids:
            continue
        if failed := model.objects.exclude(last_error="").exclude(status=Change.Status.DELIVERED).first():
            raise BenchError(f"{source} change {failed.pk} ({failed.map_code}) failed: {failed.last_error}")
        if not model.objects.filter(status=Change.Status.PENDING).exists():
            return delivered
        time.sleep(0.05)


def discard_pending(source: str) -> int:
    """Drop queued changes a later stage must not see (the activity log prunes the same way)."""
    return relay.CHANGE_MODELS[source].objects.filter(status=Change.Status.PENDING).delete()[0]


def max_id(model) -> int:
    return model.objects.aggregate(m=Max("pk"))["m"] or 0


def expect(what: str, got, wanted) -> None:
    if got != wanted:
        raise BenchError(f"{what}: expected {wanted}, got {got}")


def _naive(rec: Recorder, name: str, rows: int, seconds: float) -> None:
    stage = rec.stage(name)
    stage.naive_sample_rows, stage.naive_sample_s = rows, seconds


def approve_all(entry_ids: list[int], user) -> None:
    for batch in chunks(entry_ids, APPROVAL_BATCH):
        entries.approve_time_entries(entry_ids=batch, by=user)


# --- Setup: this round's big invoice (confirm one) and end-to-end invoice ----------------------


def prepare_special_invoices(w: World, round_no: int, rec: Recorder) -> dict[str, int]:
    """Two draft invoices of approved work: the big one for "confirm one proforma invoice" and a
    smaller one for end to end, whose unbilled sales are posted in finance first (the import
    refuses proposal lines for unposted work). Generated in SQL like the regular invoices; the
    stages that use them run the services."""
    v = w.volumes
    with stopwatch() as elapsed:
        for special, count in ((w.big, v.big_invoice_details), (w.e2e, v.e2e_invoice_lines)):
            world.create_entries(w, round_no, projects=[special["project_id"]], tasks=[special["task_id"]],
                                 per_project=count)
        after = max_id(dv.Actual)
        world.approve_in_sql(w, [w.big["project_id"], w.e2e["project_id"]])
        billing.copy_staging("a.id > {after} AND a.project_id = {project}",
                           {"after": after, "project": w.e2e["project_id"]})
        run = importing.import_from_staging(triggered_by="bench setup")
        expect("setup import", (run.status, run.journal_lines),
               (fin.ImportRun.Status.SUCCEEDED, 2 * v.e2e_invoice_lines))
        discard_pending(FINANCE)  # their write-back is not what the stages measure
        date = w.round_start(round_no) + timedelta(days=world.ROUND_DAYS)
        big, e2e_invoice = billing.create_invoices(w, [w.big["contract_id"], w.e2e["contract_id"]], invoice_date=date)
    rec.add_setup("special invoices", elapsed())
    return {"big": big, "e2e": e2e_invoice}


# --- The stages -------------------------------------------------------------------------------


def stage_approve(w: World, rec: Recorder, entry_ids: list[int], *, with_naive: bool) -> tuple[int, int]:
    stage = rec.stage("approve")
    stage.rows = len(entry_ids)
    stage.floor.append(floors.approve(w.user.pk, "s.status = 'submitted' AND s.project_id = ANY(%(projects)s)",
                                      {"projects": w.projects}))
    if with_naive:
        sample = entry_ids[:naive.SAMPLE]
        _naive(rec, "approve", len(sample), naive.approve(sample, w.user))
    first = max_id(dv.Actual)
    with stopwatch() as elapsed:
        approve_all(entry_ids, w.user)
    stage.app.append(elapsed())
    last = max_id(dv.Actual)
    expect("actuals created by approval", dv.Actual.objects.filter(pk__gt=first).count(), 2 * len(entry_ids))
    return first, last


def stage_bridge(rec: Recorder, first: int, last: int, rows: int, *, with_naive: bool) -> None:
    stage = rec.stage("bridge")
    stage.rows = rows
    stage.floor.append(floors.bridge(first, last))
    if with_naive:
        change = relay.CHANGE_MODELS[DATAVERSE].objects.filter(
            status=Change.Status.PENDING, map_code="msdyn_actuals").order_by("pk").first()
        sample = change.payload[:naive.SAMPLE]
        _naive(rec, "bridge", len(sample), naive.bridge(sample))
    before = max_id(fin.ActualStaging)
    with stopwatch() as elapsed:
        drain(DATAVERSE)
    stage.app.append(elapsed())
    expect("actuals staged", fin.ActualStaging.objects.filter(pk__gt=before).count(), stage.rows)


def stage_import_post(rec: Recorder, rows: int, *, with_naive: bool) -> None:
    stage = rec.stage("import_post")
    stage.rows = rows
    stage.floor.append(floors.import_post())
    if with_naive:
        sample = list(fin.ActualStaging.objects.filter(
            status=fin.ActualStaging.Status.RECEIVED).order_by("pk").values_list("pk", flat=True)[:naive.SAMPLE])
        _naive(rec, "import_post", len(sample), naive.import_post(sample))
    with stopwatch() as elapsed:
        run = importing.import_from_staging(triggered_by="bench")
    stage.app.append(elapsed())
    expect("import run", run.status, fin.ImportRun.Status.SUCCEEDED)
    expect("journal lines posted", run.journal_lines, rows)


def stage_write_back_import(rec: Recorder, rows: int) -> None:
    """The accounting details of the cost and unbilled sales just posted, back onto Dataverse."""
    stage = rec.stage("write_back_import")
    stage.rows = rows
    before = dv.Actual.objects.exclude(voucher="").count()
    with stopwatch() as elapsed:
        drain(FINANCE)
    stage.app.append(elapsed())
    expect("actuals written back after the import", dv.Actual.objects.exclude(voucher="").count() - before, rows)


def stage_confirm_one(w: World, rec: Recorder, invoice_id: int, *, with_naive: bool) -> None:
    stage = rec.stage("confirm_one")
    details = list(dv.InvoiceLineDetail.objects.filter(invoice_id=invoice_id).values_list("pk", flat=True))
    stage.rows = len(details)
    stage.floor.append(floors.confirm(invoice_id, w.user.pk))
    if with_naive:
        sample = details[:naive.SAMPLE]
        _naive(rec, "confirm_one", len(sample), naive.confirm(sample))
    with stopwatch() as elapsed:
        invoicing.confirm_proforma(invoice_id=invoice_id, by=w.user)
    stage.app.append(elapsed())
    expect("billed sales of the confirmed invoice", dv.Actual.objects.filter(
        invoice_id=invoice_id, transaction_type=dv.TransactionType.BILLED_SALES).count(), len(details))
    # Its header and billed sales would otherwise join the next stages' volumes.
    discard_pending(DATAVERSE)


def stage_import_lines(rec: Recorder, invoice_ids: list[int], rows: int, *, with_naive: bool) -> list[int]:
    stage = rec.stage("import_lines")
    stage.rows = rows
    stage.extra["invoices"] = len(invoice_ids)
    stage.floor.append(floors.proposal_lines())
    if with_naive:
        sample = list(fin.ActualStaging.objects.filter(
            status=fin.ActualStaging.Status.RECEIVED, transaction_type="billed_sales")
            .order_by("pk").values_list("pk", flat=True)[:naive.SAMPLE])
        _naive(rec, "import_lines", len(sample), naive.proposal_lines(sample))
    with stopwatch() as elapsed:
        run = importing.import_from_staging(triggered_by="bench")
    stage.app.append(elapsed())
    expect("import run", run.status, fin.ImportRun.Status.SUCCEEDED)
    expect("proposal lines created", run.proposal_lines, rows)
    numbers = list(dv.Invoice.objects.filter(pk__in=invoice_ids).values_list("number", flat=True))
    proposals = list(fin.InvoiceProposal.objects.filter(number__in=numbers, status=fin.InvoiceProposal.Status.OPEN)
                     .order_by("pk").values_list("pk", flat=True))
    expect("proposals opened", len(proposals), len(invoice_ids))
    return proposals


def stage_post(rec: Recorder, proposal_ids: list[int], lines: int, *, with_naive: bool) -> None:
    stage = rec.stage("post_proposals")
    stage.rows = len(proposal_ids)
    stage.extra["lines"] = lines
    if with_naive:
        per_proposal = max(1, lines // max(1, len(proposal_ids)))
        sample = proposal_ids[:max(1, naive.SAMPLE // per_proposal)]
        _naive(rec, "post_proposals", len(sample) * per_proposal, naive.post_lines(sample))
        stage.extra["naive_unit"] = "line"
    each = []
    with stopwatch() as elapsed:
        for proposal_id in proposal_ids:
            with stopwatch() as one:
                posting.post_proposal(proposal_id=proposal_id, by="bench")
            each.append(one())
    stage.app.append(elapsed())
    stage.extra.setdefault("per_proposal_s", []).append(sorted(each))
    expect("proposals posted", fin.InvoiceProposal.objects.filter(
        pk__in=proposal_ids, status=fin.InvoiceProposal.Status.POSTED).count(), len(proposal_ids))


def stage_write_back(rec: Recorder, invoice_ids: list[int], rows: int, *, with_naive: bool) -> None:
    stage = rec.stage("write_back")
    stage.rows = rows
    stage.extra["invoices"] = len(invoice_ids)
    stage.floor.append(floors.write_back(invoice_ids))
    if with_naive:
        change = relay.CHANGE_MODELS[FINANCE].objects.filter(
            status=Change.Status.PENDING, map_code="msdyn_actuals_writeback").order_by("pk").first()
        sample = change.payload[:naive.SAMPLE]
        _naive(rec, "write_back", len(sample), naive.write_back(sample))
    with stopwatch() as elapsed:
        drain(FINANCE)
    stage.app.append(elapsed())
    expect("invoices posted in Dataverse", dv.Invoice.objects.filter(
        pk__in=invoice_ids, status=dv.Invoice.Status.POSTED).count(), len(invoice_ids))
    expect("billed sales written back", dv.Actual.objects.filter(
        invoice_id__in=invoice_ids, transaction_type=dv.TransactionType.BILLED_SALES, written_back_at__isnull=False,
    ).exclude(voucher="").count(), rows)


# --- A round ----------------------------------------------------------------------------------


def run_round(w: World, round_no: int, rec: Recorder, *, with_naive: bool, write_back_import: bool) -> dict:
    """All stages once on fresh data. Returns this round's draft invoices for the later stages."""
    special = prepare_special_invoices(w, round_no, rec)
    with stopwatch() as elapsed:
        world.create_round_entries(w, round_no)
        entry_ids = world.submitted_entry_ids(w.projects)
    rec.add_setup("time entries (SQL)", elapsed())
    expect("submitted entries", len(entry_ids), w.volumes.entries)

    first, last = stage_approve(w, rec, entry_ids, with_naive=with_naive)
    rec.save()
    # Ids between first and last are this approval's (a rolled-back naive sample may leave gaps).
    actuals = 2 * len(entry_ids)
    stage_bridge(rec, first, last, actuals, with_naive=with_naive)
    rec.save()
    stage_import_post(rec, actuals, with_naive=with_naive)
    rec.save()
    if write_back_import:
        stage_write_back_import(rec, actuals)
        rec.save()
    else:
        with stopwatch() as elapsed:
            discard_pending(FINANCE)
        rec.add_setup("write-back of cost and unbilled sales discarded", elapsed())

    with stopwatch() as elapsed:
        invoice_ids = billing.create_invoices(w, w.contracts, invoice_date=w.round_start(round_no) + timedelta(days=95))
    rec.add_setup("proforma invoices (SQL)", elapsed())
    expect("invoices created", len(invoice_ids), len(w.contracts))

    stage_confirm_one(w, rec, special["big"], with_naive=with_naive)
    rec.save()

    with stopwatch() as elapsed:
        billing.confirm_invoices(w, invoice_ids)
        billing.send_invoices_to_finance(invoice_ids)
    rec.add_setup("confirmations and their staging (SQL, COPY)", elapsed())

    proposals = stage_import_lines(rec, invoice_ids, len(entry_ids), with_naive=with_naive)
    rec.save()
    stage_post(rec, proposals, len(entry_ids), with_naive=with_naive)
    rec.save()
    stage_write_back(rec, invoice_ids, len(entry_ids), with_naive=with_naive)
    rec.save()
    return {**special, "regular": invoice_ids, "finished_at": timezone.now().isoformat()}
