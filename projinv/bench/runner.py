"""The measuring process: migrate the bench databases, then the passes (1/10 scale, then full).

Each pass has its own master data and runs `runs` rounds of fresh data through every stage,
then the end-to-end invoices through a real cluster, then the pages on the filled database.
The 1/10 pass goes first: its times sit beside the full ones to show how each stage grows.
"""

import logging
import resource
from dataclasses import asdict
from pathlib import Path

from django.core.management import call_command
from django.db import connections

from dataverse import models as dv
from finance import models as fin

from . import e2e, floors, history, pages, stages, world
from .record import Recorder
from .timing import stopwatch
from .volumes import Volumes

log = logging.getLogger(__name__)


def migrate() -> float:
    with stopwatch() as elapsed:
        for alias in ("default", "finance"):
            call_command("migrate", database=alias, interactive=False, verbosity=0)
    return elapsed()


def analyze() -> None:
    """Fresh planner statistics: a production database has them; bulk-loaded tables don't yet."""
    for alias in ("default", "finance"):
        with connections[alias].cursor() as cursor:
            cursor.execute("ANALYZE")


def run_pass(label: str, prefix: str, volumes: Volumes, *, runs: int, out_dir: Path, with_naive: bool,
             with_e2e: bool, write_back_import: bool, page_requests: int) -> Recorder:
    rec = Recorder(label=label, scale=volumes.scale, path=out_dir / f"pass-{label}.json",
                   volumes={**asdict(volumes), "entries": volumes.entries, "actuals": volumes.actuals})
    with stopwatch() as elapsed:
        w = world.create_world(prefix, volumes)
    rec.add_setup("master data", elapsed())
    # Last year's work first, so that it is older (lower ids) than the rounds', as in production:
    # together they make the pages' database.
    rounds_make = runs * (4 * volumes.entries + 4 * volumes.big_invoice_details + 4 * volumes.e2e_invoice_lines)
    with stopwatch() as elapsed:
        history.top_up_history(w, volumes.page_actuals - rounds_make - volumes.entries // 2)
    rec.add_setup("history for the pages", elapsed())
    rounds = []
    for round_no in range(runs):
        with stopwatch() as elapsed:
            rounds.append(stages.run_round(w, round_no, rec, with_naive=with_naive and round_no == 0,
                                           write_back_import=write_back_import))
        log.info("%s pass, round %d of %d: %.1f s", label, round_no + 1, runs, elapsed())

    proposals = []
    if with_e2e:
        with stopwatch() as elapsed:
            proposals = e2e.run(w, rec, [r["e2e"] for r in rounds], out_dir / f"qcluster-{label}.log")
        log.info("%s pass, end to end: %.1f s", label, elapsed())

    with stopwatch() as elapsed:
        history.add_open_backlog(w, volumes.entries // 4)
        history.top_up_history(w, volumes.page_actuals)  # whatever the estimate above missed
        analyze()
    rec.add_setup("pages' database (open backlog, ANALYZE)", elapsed())
    # The largest proposal: the end-to-end one's when it ran, else a regular one (100 lines).
    small_proposal = fin.InvoiceProposal.objects.filter(
        number=dv.Invoice.objects.get(pk=rounds[-1]["regular"][0]).number).values_list("pk", flat=True).first()
    with stopwatch() as elapsed:
        pages.measure(w, rec, pages=pages.page_urls(
            big_invoice=rounds[-1]["big"], small_invoice=rounds[-1]["regular"][0],
            big_proposal=proposals[-1] if proposals else small_proposal,
            small_proposal=small_proposal if proposals else None), requests=page_requests)
    log.info("%s pass, pages: %.1f s", label, elapsed())
    rec.save()
    return rec


def run(*, scale: float, runs: int, out_dir: Path, tenth: bool, issue_volumes: bool, write_back_import: bool,
        page_requests: int) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    setup = {"migrate": migrate()}
    with stopwatch() as elapsed:
        floors.create_twins()
    setup["floor tables"] = elapsed()
    passes = []
    # The 1/10 pass skips the end-to-end stage: its invoice is fixed-size work through a worker,
    # and a held change can cost it a minute of the budget (see e2e).
    if tenth:
        passes.append(run_pass("tenth", "T", Volumes.for_scale(scale / 10, issue_volumes=issue_volumes), runs=runs,
                               out_dir=out_dir, with_naive=False, with_e2e=False, write_back_import=write_back_import,
                               page_requests=page_requests))
    passes.append(run_pass("full", "F", Volumes.for_scale(scale, issue_volumes=issue_volumes), runs=runs,
                           out_dir=out_dir, with_naive=True, with_e2e=True, write_back_import=write_back_import,
                           page_requests=page_requests))
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT version(), current_setting('shared_buffers'), current_setting('max_wal_size'), "
                       "current_setting('fsync'), current_setting('synchronous_commit')")
        version, shared_buffers, max_wal_size, fsync, synchronous_commit = cursor.fetchone()
    return {
        "setup_s": setup,
        "passes": [p.as_dict() for p in passes],
        "postgres": {"version": version, "shared_buffers": shared_buffers, "max_wal_size": max_wal_size,
                     "fsync": fsync, "synchronous_commit": synchronous_commit},
        "memory_kib": {"measuring_process": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                       "worker_cluster": max((p.memory_kib.get("worker_cluster", 0) for p in passes), default=0)},
    }
