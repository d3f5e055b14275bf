#!/usr/bin/env bash
# `make run`: migrate both databases, upsert schedules, load demo data, then serve the portal and a
# django-q2 cluster together. Ctrl-C stops both; the embedded PostgreSQL stops with the last of them.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export DJANGO_DEBUG="${DJANGO_DEBUG:-1}"
ADDR="${PROJINV_ADDR:-127.0.0.1:8000}"

$PY manage.py migrate --noinput
$PY manage.py migrate --database finance --noinput
$PY manage.py setup_schedules
$PY manage.py load_demo

$PY manage.py qcluster & cluster=$!
$PY manage.py runserver --noreload "$ADDR" & web=$!
stop() {
  trap - INT TERM EXIT
  echo "Stopping projinv…"
  # Background jobs of a script ignore SIGINT, so forward a TERM; the cluster finishes its tasks.
  kill -TERM "$cluster" "$web" 2>/dev/null || true
  wait "$cluster" "$web" 2>/dev/null || true
  [ -n "${DATABASE_URL:-}" ] || $PY -m projinv.embedded_db stop
}
trap stop INT TERM EXIT

for _ in $(seq 1 60); do  # wait until the portal answers before saying where it is
  if $PY -c "import urllib.request,sys; urllib.request.urlopen('http://$ADDR/accounts/login/', timeout=1)" 2>/dev/null; then break; fi
  sleep 0.5
done
cat <<TXT

  projinv is running at http://$ADDR/   (Ctrl-C stops the portal, the workers and the database)

  Demo logins, password "demo":
    pm           project manager       approve time, backlog, create and confirm proforma invoices
    accountant   project accountant    staging, Import from staging, journals, proposals
    arclerk      AR clerk              post invoice proposals, customer transactions
    integration  integration admin     dual-write changes, error queue, retry
    admin        superuser             everything, and the Django admin at /admin/

TXT
wait -n "$cluster" "$web"
