"""docs/benchmarks.md: the results as a table, then how to read them."""

from .report import STAGES
from .volumes import DEFAULT_BULK_FRACTION

FLOORS = {
    "approve": "one INSERT … SELECT of the cost and unbilled actuals from the entries (prices joined), one of "
               "their connections, one UPDATE of the entries, one INSERT … SELECT of the outbox rows (jsonb_agg)",
    "bridge": "COPY of the staging rows (the msdyn_actuals map as a join) out of Dataverse into finance",
    "import_post": "INSERT … SELECT of journals, journal lines, vouchers, ledger entries and project "
                   "transactions, one UPDATE … FROM of the staging rows, the write-back outbox rows",
    "confirm_one": "one UPDATE of the invoice, one INSERT … SELECT of reversals and billed sales, one of their "
                   "connections, one UPDATE … FROM of the originals, the header and billed-sales outbox rows",
    "import_lines": "one INSERT … SELECT of the proposal lines, UPDATE … FROM of project transactions, staging rows "
                    "and proposal totals",
    "write_back": "COPY of the accounting details out of finance, one UPDATE … FROM of the actuals; the same for "
                  "the invoices' customer invoice numbers",
}

MEASURES = {
    "approve": "`approve_time_entries`, 10,000 entries per call; includes the outbox rows it queues",
    "bridge": "the relay delivering every queued `msdyn_actuals` change (1,000 rows each), in this process",
    "import_post": "`import_from_staging` with the round's cost and unbilled sales pending",
    "write_back_import": "the relay delivering the write-back changes queued by the import",
    "confirm_one": "`confirm_proforma` of a draft invoice, with its signal receivers (billing actuals, outbox)",
    "import_lines": "`import_from_staging` with the round's billed sales pending over its proposals",
    "post_proposals": "`post_proposal` once per proposal, one after the other",
    "write_back": "the relay delivering the write-back and customer-invoice changes of the posted proposals",
    "e2e": "confirm in this process, every hop by a `qcluster` worker, import as a task once staged, post in "
           "this process; until the invoice is Posted and every billed sale has its voucher",
}


def _s(seconds) -> str:
    if seconds is None:
        return "—"
    if seconds < 0.01:
        return f"{seconds * 1000:.2f} ms"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.1f} s"


def _n(value) -> str:
    return "—" if value is None else f"{value:,.0f}"


def _x(value, digits=1) -> str:
    return "—" if value is None else f"{value:.{digits}f}×"


def _met(stage: dict) -> str:
    if stage["status"] != "measured":
        return stage["status"]
    return {True: "yes", False: "**NO**", None: "—"}[stage["meets_target"]]


def _growth(stage: dict) -> str:
    tenth, growth = stage.get("tenth"), stage.get("growth")
    if not tenth or not growth:
        return "—"
    verdict = ""
    if "linear_or_better" in growth:
        verdict = " linear or better" if growth["linear_or_better"] else " **worse than linear**"
    return (f"{_s(tenth['median_s'])} for {_n(tenth['rows'])} → {_x(growth['time_factor'])} time for "
            f"{_x(growth['volume_factor'])} volume{verdict}")


def _table(stages: list[dict]) -> list[str]:
    out = ["| Stage | Volume | Median (min – max) | Rows/s | Floor median | Ratio | Target | Met | "
           "Naive save() loop, extrapolated | 1/10 scale → full |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for st in stages:
        if st["key"].startswith("page_"):
            continue
        spread = f"{_s(st['median_s'])} ({_s(st['min_s'])} – {_s(st['max_s'])})" if st["median_s"] else "—"
        naive = "—"
        if st.get("naive_extrapolated_s"):
            naive = f"{_s(st['naive_extrapolated_s'])} ({_n(st['naive_rows_per_s'])} {st['naive_unit']}/s)"
            if st.get("gain_vs_naive"):
                naive += f", service {_x(st['gain_vs_naive'], 0)} faster"
        volume = f"{_n(st['rows'])} {st['unit']}"
        if st["rows"] != st["issue_rows"]:
            volume += f" (issue: {_n(st['issue_rows'])})"
        out.append(f"| {st['name']} | {volume} | {spread} | {_n(st.get('rows_per_s'))} | "
                   f"{_s(st['floor_median_s'])} | {_x(st['ratio'])} | {st['target']} | {_met(st)} | {naive} | "
                   f"{_growth(st)} |")
    return out


def _pages(stages: list[dict]) -> list[str]:
    out = ["| Page | Actuals in the database | Median | p95 | Median at 1/10 | Queries | Queries, small case | "
           "Queries at 1/10 | Target | Met |", "|---|---|---|---|---|---|---|---|---|---|"]
    for st in stages:
        if not st["key"].startswith("page_"):
            continue
        extra = st.get("extra", {})
        tenth = st.get("tenth") or {}
        out.append(f"| {st['name']} | {_n(st['rows'])} | {_s(st['median_s'])} | {_s(st.get('p95_s'))} | "
                   f"{_s(tenth.get('median_s'))} ({_n(tenth.get('rows'))}) | {_n(st.get('queries'))} | "
                   f"{_n(extra.get('queries_small'))} | {_n(st.get('queries_tenth'))} | {st['target']} | {_met(st)} |")
    return out


def render(results: dict) -> str:
    stages = results["stages"]
    by_key = {s["key"]: s for s in stages}
    mem = results.get("peak_memory_mib", {})
    pg = results.get("postgres") or {}
    full = (results.get("volumes") or {}).get("full") or {}
    if results.get("issue_volumes") and results["scale"] == 1:
        volumes = "the issue’s volumes"
    elif results["scale"] == 1:
        volumes = (f"the default volumes: **the bulk stages at 1/{round(1 / DEFAULT_BULK_FRACTION)} of the issue’s "
                   "volumes** "
                   f"({_n(full.get('entries'))} entries approved, {_n(full.get('actuals'))} actuals across the bridge "
                   f"and through the import, {_n(full.get('contracts'))} invoices of 100 lines per round) because at "
                   "the issue’s volumes their three rounds take about 13 minutes on a 2-core machine "
                   "(`--issue-volumes` runs them, docs/benchmarks-issue-volumes.md); the "
                   "confirmed invoice, the end-to-end invoice and the pages’ database at the issue’s volumes")
    else:
        volumes = f"**{results['scale']} × the default volumes, not the issue’s**"
    load = results.get("load_average") or {}
    lines = [
        "# Benchmarks",
        "",
        "Generated by `manage.py bench` (`make bench`); do not edit by hand: run it again. Issue #6.",
        "",
        f"- Command: `{results['command'].strip()}`, started {results['started_at'][:19]} UTC: scale "
        f"{results['scale']}, {volumes}; {results['runs_per_pass']} rounds of fresh data per pass.",
        f"- Whole run: **{results['wall_time_s'] / 60:.1f} min** wall time; peak memory "
        f"**{results['peak_memory_overall_mib']} MiB** (`getrusage`, largest process, children included): the "
        f"`bench` command {mem.get('bench_command')} MiB, the measuring process it starts "
        f"{mem.get('measuring_process')} MiB, the django-q2 cluster of the end-to-end stage "
        f"{mem.get('worker_cluster')} MiB (all its processes together). PostgreSQL's own memory is not counted.",
        f"- Machine: {results['machine']['cpus']} CPUs, Python {results['machine']['python']}, "
        f"{pg.get('version', '?').split(' on ')[0]} (shared_buffers {pg.get('shared_buffers')}, max_wal_size "
        f"{pg.get('max_wal_size')}, fsync {pg.get('fsync')}, synchronous_commit {pg.get('synchronous_commit')}).",
    ]
    if load:
        lines.append(f"- Other work on the machine: 1-minute load average {load.get('start', 0):.1f} at the start and "
                     f"{load.get('end', 0):.1f} at the end (2.0 means both cores busy); the times include it.")
    if not results.get("complete"):
        lines += ["", "**The run did not complete**: stages it never reached are marked so below."]
    missed = [s for s in stages if s["meets_target"] is False]
    lines += ["", "## Results", "", *_table(stages), "", "Times are wall-clock, median of the rounds (each round "
              "on fresh data), min and max beside. Ratio = service median ÷ floor median.", ""]
    lines += ["## Pages", "", *_pages(stages), "",
              "Server time through Django's WSGI handler (middleware, view, template, body), logged in, "
              f"{results.get('page_requests', 20)} timed requests after 2 warm-ups. Constant queries: the same count "
              "for a small case (an invoice of 100 details, a proposal of 100 lines) and at 1/10 scale.", ""]
    lines += ["## Targets missed", ""]
    if missed:
        for st in missed:
            why = []
            if st.get("target_ratio") and st.get("ratio") and st["ratio"] > st["target_ratio"]:
                why.append(f"{_x(st['ratio'])} its floor (target {_x(st['target_ratio'], 0)})")
            if st.get("target_s") and not st["key"].startswith("page_") and st["median_s"] > st["target_s"]:
                why.append(f"median {_s(st['median_s'])} (target {_s(st['target_s'])})")
            if st["key"].startswith("page_"):
                if st.get("p95_s") and st["p95_s"] > st["target_s"]:
                    why.append(f"p95 {_s(st['p95_s'])} (target {_s(st['target_s'])})")
                if not st.get("constant_queries"):
                    why.append(f"query count not constant ({st.get('queries')} vs "
                               f"{st.get('extra', {}).get('queries_small')} small, {st.get('queries_tenth')} at 1/10)")
            lines.append(f"- **{st['name']}**: " + "; ".join(why) + ".")
    else:
        lines.append("None.")
    not_measured = [s for s in stages if s["status"] != "measured"]
    for st in not_measured:
        lines.append(f"- {st['name']}: {st['status']}.")

    post, e2e = by_key.get("post_proposals", {}), by_key.get("e2e", {})
    lines += ["", "## Details", ""]
    if post.get("per_proposal"):
        pp = post["per_proposal"]
        lines.append(f"- Post proposals: {_s(pp['median_s'])} per proposal (p95 {_s(pp['p95_s'])}, max "
                     f"{_s(pp['max_s'])}), {_s(post['per_line_s'])} per line "
                     f"({_n(post.get('extra', {}).get('lines'))} lines over {_n(post['rows'])} proposals). The naive "
                     f"row-by-row version of its per-line part alone costs "
                     f"{_x(post.get('naive_vs_service_per_line'))} the service's whole time per line.")
    if e2e.get("hops_median_s"):
        hops = ", ".join(f"{hop} at {_s(t)}" for hop, t in e2e["hops_median_s"].items())
        lines.append(f"- End to end ({_n(e2e['rows'])} lines), median time since the click: {hops}.")
        held = [h for h in e2e.get("held_s", []) if h]
        if held:
            lines.append(f"- In {len(held)} of {len(e2e['held_s'])} end-to-end runs the relay held a change back "
                         f"(its invoice's header not delivered yet) for about {', '.join(_s(h) for h in held)}; "
                         "that wait is in the time.")
    lines += ["", "## What is measured", ""]
    for stage in STAGES:
        if stage.key in MEASURES and stage.key in by_key:
            floor = f" Floor: {FLOORS[stage.key]}." if stage.key in FLOORS else ""
            lines.append(f"- **{stage.name}**: {MEASURES[stage.key]}.{floor}")
    lines += [
        "",
        "Floors run on twin tables (`CREATE TABLE floor_x (LIKE x INCLUDING ALL)` plus the real foreign keys and "
        "row triggers), on "
        "the same input, just before the service, timed to the commit. The naive version is a Python loop of "
        "`save()` over a sample of 100 rows in one transaction (rolled back), extrapolated to the volume.",
        "",
        "The 1/10 pass runs first on the same databases with its own master data; the full pass's tables are "
        "therefore larger, as they would be in production (each pass first writes last year's history, so the "
        f"pages see {_n(by_key.get('page_backlog', {}).get('rows'))} actuals). Data the measured stages do not "
        f"cover (the {_n(full.get('contracts'))} confirmed invoices of each round, with their billed sales staged "
        "and proposal headers received; the approved work behind the two special invoices) is generated in SQL; "
        "every stage checks its outcome, so a wrong input stops the run instead of giving a number.",
        "",
        "Unmeasured preparation, seconds per pass: "
        + "; ".join(f"{label}: " + ", ".join(f"{k} {v:.0f}" for k, v in setup.items())
                    for label, setup in (results.get("pass_setup_s") or {}).items()) + ".",
    ]
    return "\n".join(lines) + "\n"
