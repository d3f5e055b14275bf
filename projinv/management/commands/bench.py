"""`manage.py bench`: the benchmark of issue #6 (see projinv/bench/ and docs/benchmarks.md).

This process makes a fresh pair of bench databases on the configured server and runs the
measuring part in a child process pointed at them (DATABASE_URL / FINANCE_DATABASE_URL), so
the developer's and the tests' databases are never touched. Then it writes results.json and
the Markdown report, with the run's wall time and peak memory (children included).
"""

import json
import logging
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from projinv.bench import databases, markdown, report


class Command(BaseCommand):
    help = "Benchmark the pipeline at volume on fresh bench databases; write results.json and docs/benchmarks.md."

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=float, default=1.0,
                            help="Multiply the default volumes (1: the issue's volumes; 0.01: a hundredth).")
        parser.add_argument("--runs", type=int, default=3, help="Rounds of fresh data per pass (at least 3 "
                                                                "for a median with min and max).")
        parser.add_argument("--issue-volumes", action="store_true",
                            help="Bulk stages at the issue's volumes (10× the default: about 15 min on 2 cores).")
        parser.add_argument("--no-tenth", action="store_true", help="Skip the 1/10-scale pass (growth column).")
        parser.add_argument("--write-back-import", action="store_true",
                            help="Also deliver and time the write-back of the posted cost and unbilled sales.")
        parser.add_argument("--page-requests", type=int, default=20,
                            help="Timed requests per page (p95 is taken over them).")
        parser.add_argument("--database", help="Base name of the bench databases (default: <default db>_bench).")
        parser.add_argument("--keep-databases", action="store_true", help="Keep the bench databases afterwards.")
        parser.add_argument("--markdown", type=Path, default=Path(settings.BASE_DIR) / "docs" / "benchmarks.md")
        parser.add_argument("--json", type=Path, default=Path(settings.VAR_DIR) / "bench" / "results.json")
        # The child process's side: measure on the databases of the environment.
        parser.add_argument("--inner", action="store_true", help="(internal)")
        parser.add_argument("--out-dir", type=Path, help="(internal)")

    def handle(self, *args, **options):
        if options["scale"] <= 0 or options["runs"] < 1 or options["page_requests"] < 1:
            raise CommandError("--scale must be positive, --runs and --page-requests at least 1.")
        if options["inner"]:
            return self._measure(options)
        return self._orchestrate(options)

    def _measure(self, options):
        from projinv.bench import runner

        # django-q logs every enqueued task at INFO: thousands of lines here, none of them news.
        logging.getLogger("django-q").setLevel(logging.WARNING)
        raw = runner.run(scale=options["scale"], runs=options["runs"], out_dir=options["out_dir"],
                         tenth=not options["no_tenth"], issue_volumes=options["issue_volumes"],
                         page_requests=options["page_requests"],
                         write_back_import=options["write_back_import"])
        (options["out_dir"] / "raw.json").write_text(json.dumps(raw, indent=1, default=str))

    def _orchestrate(self, options):
        started, wall, load_start = datetime.now(UTC), time.monotonic(), os.getloadavg()[0]
        names = databases.bench_names(options["database"])
        out_dir = options["json"].parent / "run"
        out_dir.mkdir(parents=True, exist_ok=True)
        for stale in out_dir.glob("*.json"):
            stale.unlink()
        self.stdout.write(f"Bench databases {names['default']} and {names['finance']} (fresh); "
                          f"scale {options['scale']}, {options['runs']} rounds per pass.")
        databases.recreate(names)
        env = {**os.environ, **databases.environment(names), "PYTHONUNBUFFERED": "1",
               "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "projinv.settings")}
        command = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "bench", "--inner",
                   "--scale", str(options["scale"]), "--runs", str(options["runs"]), "--out-dir", str(out_dir),
                   "--page-requests", str(options["page_requests"])]
        command += ["--no-tenth"] if options["no_tenth"] else []
        command += ["--issue-volumes"] if options["issue_volumes"] else []
        command += ["--write-back-import"] if options["write_back_import"] else []
        try:
            returncode = subprocess.run(command, env=env, cwd=settings.BASE_DIR).returncode
        finally:
            if not options["keep_databases"]:
                databases.drop(names)

        raw = self._raw(out_dir)
        # getrusage: this process, and the largest of its children (the measuring process, which
        # includes what it waited for); the cluster's own figure comes from /proc (see e2e).
        memory = raw.get("memory_kib", {})
        memory.update(bench_command=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                      largest_child=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
        meta = {
            "command": "manage.py bench " + " ".join(sys.argv[2:]),
            "scale": options["scale"], "issue_volumes": options["issue_volumes"], "runs_per_pass": options["runs"],
            "page_requests": options["page_requests"],
            "started_at": started.isoformat(),
            "complete": returncode == 0, "wall_time_s": time.monotonic() - wall,
            "peak_memory_mib": {k: round(v / 1024, 1) for k, v in memory.items()},
            "peak_memory_overall_mib": round(max(memory["bench_command"], memory["largest_child"]) / 1024, 1),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
            "load_average": {"start": load_start, "end": os.getloadavg()[0]},
            "databases": names,
        }
        results = report.build(raw, meta)
        options["json"].parent.mkdir(parents=True, exist_ok=True)
        options["json"].write_text(json.dumps(results, indent=1, default=str))
        options["markdown"].parent.mkdir(parents=True, exist_ok=True)
        options["markdown"].write_text(markdown.render(results))
        self.stdout.write(f"Wrote {options['json']} and {options['markdown']} "
                          f"({meta['wall_time_s']:.0f} s, peak {meta['peak_memory_overall_mib']} MiB).")
        if returncode:
            raise CommandError(f"The measuring process failed (exit {returncode}); the report shows what it reached.")

    @staticmethod
    def _raw(out_dir: Path) -> dict:
        """The child's results; after a crash, whatever its passes saved stage by stage."""
        if (out_dir / "raw.json").exists():
            return json.loads((out_dir / "raw.json").read_text())
        passes = [json.loads(p.read_text()) for p in sorted(out_dir.glob("pass-*.json"), reverse=True)]
        return {"passes": passes}
