"""results.json and docs/benchmarks.md from what the passes measured.

Every stage of the issue is listed, measured or not: a stage that misses its target says so, a
page that does not exist says "not built yet", and a stage the run never reached says so too.
"""

import statistics
from dataclasses import dataclass

from .timing import percentile, summary


@dataclass(frozen=True)
class Stage:
    key: str
    name: str
    unit: str  # what `rows` counts
    issue_rows: int  # the volume the issue asks for
    target: str
    target_ratio: float | None = None  # × floor
    target_s: float | None = None  # median wall time (p95 for pages)
    page: bool = False
    optional: bool = False  # listed only when measured


PAGE_TARGET = "p95 ≤ 200 ms, constant queries"
STAGES = [
    Stage("approve", "Approve entries → cost + unbilled actuals", "entries", 200_000, "≤ 2× floor", 2),
    Stage("bridge", "Actuals → staging through the bridge", "actuals", 400_000, "≤ 2× floor", 2),
    Stage("import_post", "Import from staging: journalize and post", "staging rows", 400_000, "≤ 2× floor", 2),
    Stage("write_back_import", "Write-back after the import (cost + unbilled sales)", "actuals", 400_000,
          "report only", optional=True),
    Stage("confirm_one", "Confirm one proforma invoice", "invoice line details", 10_000, "≤ 2 s, ≤ 2× floor", 2,
          2.0),
    Stage("import_lines", "Import from staging: proposal lines", "billed rows", 200_000, "≤ 2× floor", 2),
    Stage("post_proposals", "Post proposals", "proposals", 2_000, "report per proposal and per line"),
    Stage("write_back", "Write-back to the Dataverse actuals", "actuals", 200_000, "≤ 2× floor", 2),
    Stage("e2e", "End to end, one invoice: confirm → written back, real worker", "invoice lines", 1_000, "≤ 10 s",
          target_s=10.0),
    Stage("page_backlog", "Page: billing backlog", "actuals in the database", 1_000_000, PAGE_TARGET,
          target_s=0.2, page=True),
    Stage("page_invoice_detail", "Page: invoice detail (big invoice)", "actuals in the database", 1_000_000,
          PAGE_TARGET, target_s=0.2, page=True),
    Stage("page_proposal_detail", "Page: proposal detail (end-to-end proposal)", "actuals in the database",
          1_000_000, PAGE_TARGET, target_s=0.2, page=True),
    Stage("page_reconciliation", "Page: reconciliation", "actuals in the database", 1_000_000, PAGE_TARGET,
          target_s=0.2, page=True),
]

# Linear means ×10 volume costs ≤ ×10 time; a little noise is allowed before calling it worse.
LINEAR_TOLERANCE = 1.15


def _div(a, b):
    return a / b if a is not None and b else None


def _stage_result(stage: Stage, full: dict | None, tenth: dict | None) -> dict:
    result = {"key": stage.key, "name": stage.name, "unit": stage.unit, "issue_rows": stage.issue_rows,
              "target": stage.target,
              "target_ratio": stage.target_ratio, "target_s": stage.target_s}
    if not full or (not full["app"] and not full["extra"].get("not_built")):
        return {**result, "status": "not measured (the run stopped before it)", "rows": None, "runs": 0,
                **summary([]), "floor_median_s": None, "ratio": None, "meets_target": None}
    if full["extra"].get("not_built"):
        return {**result, "status": "not built yet", "rows": full["rows"], "runs": 0, **summary([]),
                "floor_median_s": None, "ratio": None, "meets_target": None}
    app, floor = summary(full["app"]), summary(full["floor"])
    rows = full["rows"]
    result.update(status="measured", rows=rows, runs=len(full["app"]), **app,
                  rows_per_s=None if stage.page else _div(rows, app["median_s"]),
                  floor_median_s=floor["median_s"], floor_min_s=floor["min_s"], floor_max_s=floor["max_s"],
                  floor_rows_per_s=_div(rows, floor["median_s"]), ratio=_div(app["median_s"], floor["median_s"]))
    extra = dict(full["extra"])

    checks = []
    if stage.target_ratio is not None:
        checks.append(result["ratio"] is not None and result["ratio"] <= stage.target_ratio)
    if stage.page:
        result["p95_s"] = percentile(full["app"], 95)
        checks.append(result["p95_s"] <= stage.target_s)
        constant = extra.get("queries_small") in (None, extra.get("queries"))
        if tenth and tenth["extra"].get("queries") is not None:
            result["queries_tenth"] = tenth["extra"]["queries"]
            constant = constant and tenth["extra"]["queries"] == extra.get("queries")
        result["queries"], result["constant_queries"] = extra.get("queries"), constant
        checks.append(constant)
    elif stage.target_s is not None:
        checks.append(app["median_s"] <= stage.target_s)
    result["meets_target"] = all(checks) if checks else None

    # The naive per-row implementation, extrapolated from its sample to the stage's volume.
    naive_rows = extra.get("lines") if extra.get("naive_unit") == "line" else rows
    if full.get("naive_sample_s") and full.get("naive_sample_rows"):
        per_row = full["naive_sample_s"] / full["naive_sample_rows"]
        result.update(naive_sample_rows=full["naive_sample_rows"], naive_rows_per_s=1 / per_row,
                      naive_extrapolated_s=per_row * naive_rows, naive_unit=extra.get("naive_unit", stage.unit))
        if stage.key == "post_proposals":
            # The per-line part only: compare with the service's whole time per line.
            result["naive_vs_service_per_line"] = per_row / (app["median_s"] / naive_rows)
        else:
            result["gain_vs_naive"] = _div(result["naive_extrapolated_s"], app["median_s"])

    if tenth and tenth["app"]:
        t = summary(tenth["app"])
        result["tenth"] = {"rows": tenth["rows"], **t, "floor_median_s": summary(tenth["floor"])["median_s"]}
        volume = _div(rows, tenth["rows"])
        growth = _div(app["median_s"], t["median_s"])
        result["growth"] = {"volume_factor": volume, "time_factor": growth,
                            "time_per_volume": _div(growth, volume)}
        if not stage.page and growth is not None and volume:
            result["growth"]["linear_or_better"] = growth <= volume * LINEAR_TOLERANCE

    if stage.key == "post_proposals":
        each = [s for run in extra.pop("per_proposal_s", []) for s in run]
        lines = extra.get("lines") or 0
        if each:
            result["per_proposal"] = {"median_s": statistics.median(each), "p95_s": percentile(each, 95),
                                      "max_s": max(each)}
        result["per_line_s"] = _div(app["median_s"], lines)
    if stage.key == "e2e" and extra.get("hops"):
        result["hops_median_s"] = {hop: statistics.median(h[hop] for h in extra["hops"])
                                   for hop in extra["hops"][0]}
        extra.pop("hops")
        result["held_s"] = extra.pop("held_s", [])
    result["extra"] = extra
    return result


def build(raw: dict, meta: dict) -> dict:
    passes = {p["label"]: p for p in raw.get("passes", [])}
    full, tenth = passes.get("full", {}).get("stages", {}), passes.get("tenth", {}).get("stages", {})
    stages = [_stage_result(stage, full.get(stage.key), tenth.get(stage.key))
              for stage in STAGES if not (stage.optional and stage.key not in full)]
    return {**meta, "postgres": raw.get("postgres"), "setup_s": raw.get("setup_s"),
            "pass_setup_s": {label: p["setup_s"] for label, p in passes.items()},
            "volumes": {label: p.get("volumes") for label, p in passes.items()},
            "notes": [n for p in passes.values() for n in p.get("notes", [])], "stages": stages}
