"""A real django-q2 cluster process working on the test databases, and a polling helper."""

import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import quote

import dj_database_url
import pytest
from django.db import connections
from django_q.tasks import async_task, fetch

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 30
# Production sweeps the outboxes every minute (setup_schedules), but django-q2's scheduler only
# looks every 30 s; the fixture asks the cluster to sweep this often instead.
SWEEP_SECONDS = 2


def wait_until(predicate, timeout=60, interval=0.25, message=None):
    """Poll `predicate` until it returns something truthy, and return that; raise on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            what = message or getattr(predicate, "__name__", repr(predicate))
            raise AssertionError(f"Timed out after {timeout}s waiting for {what} (last value: {value!r})")
        time.sleep(interval)


def database_url(alias: str) -> str:
    """The URL of a test database as dj-database-url reads it back, for another process."""
    s = connections[alias].settings_dict
    host = s["HOST"] or ""
    if host.startswith("/"):  # the embedded server's Unix socket directory
        host = quote(host, safe="")
    elif ":" in host:  # an IPv6 address
        host = f"[{host}]"
    auth = quote(s["USER"] or "", safe="")
    if s["PASSWORD"]:
        auth += ":" + quote(s["PASSWORD"], safe="")
    port = f":{s['PORT']}" if s["PORT"] else ""
    url = f"postgres://{auth}@{host}{port}/{quote(s['NAME'], safe='')}"
    parsed = dj_database_url.parse(url)
    # The cluster must land on exactly this database, or it works on the developer's data.
    assert (parsed["NAME"], parsed["HOST"], parsed["USER"]) == (s["NAME"], s["HOST"] or "", s["USER"] or ""), url
    return url


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the test item, so fixtures know in teardown whether it failed.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def cluster(request, transactional_db, tmp_path):
    """`manage.py qcluster` on the test databases, plus the outbox sweeper production schedules.

    The cluster sees what the test commits: depending on `transactional_db` makes the test's data
    committed, and makes the databases be flushed only after the cluster has stopped.
    """
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url("default"),
        "FINANCE_DATABASE_URL": database_url("finance"),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("REDIS_URL", None)  # this cluster takes its tasks from the ORM broker, as the test process does
    log_path = tmp_path / "qcluster.log"
    with open(log_path, "wb") as log:
        # Its own session: the workers it forks can be killed with it if it hangs on stop.
        process = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)

    started = False
    try:
        # A first task proves the cluster works on the test databases before the test relies on it.
        task_id = async_task("os.getpid")

        def answered():
            if process.poll() is not None:
                raise AssertionError(f"qcluster exited with {process.returncode}")
            return fetch(task_id)

        task = wait_until(answered, timeout=STARTUP_SECONDS, message="the django-q2 cluster to run a first task")
        assert task.success and task.result != os.getpid(), task.result
        started = True
        with _sweeping():
            yield process
    finally:
        _stop(process)
        if not started or _failed(request.node) or process.returncode not in (0, -signal.SIGTERM):
            print(f"--- qcluster output (exit {process.returncode}) ---\n{log_path.read_text()}")


@contextmanager
def _sweeping():
    """Enqueue `sweep_outbox` every SWEEP_SECONDS, as the schedule would. A change held back in the
    instant its invoice's header is delivered is not woken with the others; only a sweep hands it out."""
    stop = threading.Event()

    def run():
        try:
            while not stop.wait(SWEEP_SECONDS):
                async_task("projinv.dualwrite.tasks.sweep_outbox")
        finally:
            connections.close_all()  # this thread's own; the test databases are flushed next

    thread = threading.Thread(target=run, name="e2e-sweeper", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


def _failed(item) -> bool:
    return any(getattr(getattr(item, f"report_{when}", None), "failed", False) for when in ("setup", "call"))


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # graceful: the sentinel stops its workers
        try:
            process.wait(timeout=15)
            return
        except subprocess.TimeoutExpired:
            pass
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # the group of the process we started, workers included
    process.wait(timeout=10)
