"""The benchmark behind `manage.py bench` (issue #6).

The command makes a fresh pair of benchmark databases on the server in use, then runs the
measuring part in a child process pointed at them, so the developer's and the tests' databases
are never touched. Modules, in the order the run uses them:

- `volumes`:  what `--scale` means in rows.
- `databases`: create/drop the bench databases, URLs for the child, COPY between databases.
- `world`:    master data and each round's generated data (set-based SQL and COPY).
- `floors`:   twin tables of the same shape and the plain-SQL floor of each stage.
- `naive`:    per-row `save()` versions of the stages, timed on a sample.
- `stages`:   one round of the pipeline, each stage run through the real services.
- `e2e`:      one invoice from confirmation to write-back through a real django-q2 cluster.
- `pages`:    server time and query counts of the heavy pages.
- `runner`:   the passes and rounds; `report`: results.json and docs/benchmarks.md.
"""
