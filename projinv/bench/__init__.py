"""The benchmark behind `manage.py bench` (issue #6; results in docs/benchmarks.md).

The command makes a fresh pair of benchmark databases on the server in use, then runs the
measuring part in a child process pointed at them, so the developer's and the tests' databases
are never touched. Modules, roughly in the order a run uses them:

- `volumes`:   what `--scale` means in rows.
- `databases`: create and drop the bench databases, URLs for the child, COPY between databases.
- `sqlgen`:    column lists for set-based INSERTs, defaults taken from the models.
- `world`:     master data, time entries, approval in SQL.
- `billing`:   invoices and confirmations at volume, and what the bridge delivers of them.
- `history`:   last year's work and the open backlog behind the pages.
- `floors`:    twin tables of the same shape and the plain-SQL floor of each stage.
- `naive`:     per-row `save()` versions of the stages, timed on a sample.
- `stages`:    one round of the pipeline, each stage through the real services.
- `e2e`:       one invoice from confirmation to write-back through a real django-q2 cluster.
- `pages`:     server time and query counts of the heavy pages.
- `runner`:    the passes and rounds; `record`: what they measured.
- `report`, `markdown`: results.json and docs/benchmarks.md.
"""
