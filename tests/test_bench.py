"""`manage.py bench` keeps working: a tiny run writes both reports with every stage.

No timing is asserted here (timings belong to `make bench`); this only keeps the benchmark from
rotting as the services change. It runs the real command in a child process, on bench databases
of its own on the same server as the tests, and never touches the test databases.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
REQUIRED = {"name", "rows", "median_s", "min_s", "max_s", "floor_median_s", "ratio", "target_ratio", "meets_target"}
ISSUE_STAGES = [
    "Approve entries", "Actuals → staging through the bridge", "Import from staging: journalize and post",
    "Confirm one proforma invoice", "Import from staging: proposal lines", "Post proposals",
    "Write-back to the Dataverse actuals", "End to end", "Page: billing backlog", "Page: invoice detail",
    "Page: proposal detail", "Page: reconciliation",
]


def test_it_benchmarks_every_stage_at_a_tiny_scale_and_writes_both_reports(tmp_path):
    # Named after the configured database, so a checkout sharing a server with another (or a
    # developer's `make bench`) never drops someone else's bench databases.
    database = f"{settings.DATABASES['default']['NAME']}_bench_test_{os.getpid()}"
    results_path, markdown_path = tmp_path / "results.json", tmp_path / "benchmarks.md"
    completed = subprocess.run(
        [sys.executable, "manage.py", "bench", "--scale", "0.001", "--runs", "1", "--page-requests", "3",
         "--database", database, "--json", str(results_path), "--markdown", str(markdown_path)],
        cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"}, capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-5000:]

    results = json.loads(results_path.read_text())
    assert results["complete"] is True
    assert results["wall_time_s"] > 0 and results["peak_memory_overall_mib"] > 0
    stages = results["stages"]
    for wanted in ISSUE_STAGES:
        assert any(stage["name"].startswith(wanted) for stage in stages), wanted
    for stage in stages:
        assert set(stage) >= REQUIRED, (stage["name"], REQUIRED - set(stage))
        assert stage["status"] in ("measured", "not built yet"), (stage["name"], stage["status"])
        if stage["status"] == "measured":
            assert stage["rows"] and stage["min_s"] <= stage["median_s"] <= stage["max_s"], stage
            if stage["target_ratio"]:
                assert stage["floor_median_s"] > 0 and stage["ratio"] > 0, stage
    by_name = {stage["key"]: stage for stage in stages}
    assert "growth" in by_name["approve"], "the 1/10 pass ran beside the full one"
    assert by_name["e2e"]["status"] == "measured"

    markdown = markdown_path.read_text()
    assert markdown.startswith("# Benchmarks")
    assert "| Stage |" in markdown and "Approve entries" in markdown and "peak memory" in markdown
