"""The benchmark's own database pair, on whatever server the project is configured for.

The names derive from the configured `default` database (`projinv` → `projinv_bench` and
`projinv_bench_finance`), so two checkouts sharing an external server do not collide, and the
developer's and the tests' databases are never touched.
"""

from urllib.parse import quote

import dj_database_url
import psycopg
from django.conf import settings
from psycopg import sql


def server_settings() -> dict:
    """Host, port and credentials of the configured `default` database (embedded or external)."""
    return dict(settings.DATABASES["default"])


def bench_names(base: str | None = None) -> dict[str, str]:
    base = base or f"{server_settings()['NAME']}_bench"
    return {"default": base, "finance": f"{base}_finance"}


def _conninfo(server: dict, dbname: str) -> dict:
    info = {"dbname": dbname, "user": server.get("USER") or None, "password": server.get("PASSWORD") or None,
            "host": server.get("HOST") or None, "port": server.get("PORT") or None}
    return {k: v for k, v in info.items() if v is not None}


def _maintenance_connection(server: dict):
    # The maintenance database when we may use it; else the configured one (a restricted account).
    for dbname in ("postgres", server["NAME"]):
        try:
            return psycopg.connect(**_conninfo(server, dbname), autocommit=True)
        except psycopg.OperationalError:
            if dbname == server["NAME"]:
                raise
    raise AssertionError("unreachable")


def recreate(names: dict[str, str], server: dict | None = None) -> None:
    """Drop (closing any leftover session) and create the bench databases: every run starts empty."""
    server = server or server_settings()
    with _maintenance_connection(server) as conn:
        for name in names.values():
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop(names: dict[str, str], server: dict | None = None) -> None:
    server = server or server_settings()
    with _maintenance_connection(server) as conn:
        for name in names.values():
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def url(name: str, server: dict | None = None) -> str:
    """A DATABASE_URL for `name` on the same server, as dj-database-url reads it back."""
    server = server or server_settings()
    host = server.get("HOST") or ""
    if host.startswith("/"):  # the embedded server's Unix socket directory
        host = quote(host, safe="")
    elif ":" in host:  # an IPv6 address
        host = f"[{host}]"
    auth = quote(server.get("USER") or "", safe="")
    if server.get("PASSWORD"):
        auth += ":" + quote(server["PASSWORD"], safe="")
    port = f":{server['PORT']}" if server.get("PORT") else ""
    result = f"postgres://{auth}@{host}{port}/{quote(name, safe='')}"
    parsed = dj_database_url.parse(result)
    # The child must land on exactly this database, or it would benchmark (and drop) another one.
    if (parsed["NAME"], parsed["HOST"] or "") != (name, server.get("HOST") or ""):
        raise ValueError(f"cannot express the database {name!r} as a URL: {result}")
    return result


def environment(names: dict[str, str]) -> dict[str, str]:
    return {"DATABASE_URL": url(names["default"]), "FINANCE_DATABASE_URL": url(names["finance"])}


def copy_between(source, select_sql, target, table: str, columns: list[str], params: dict | None = None) -> int:
    """Stream `COPY (select) TO STDOUT` on one database into `COPY table FROM STDIN` on another.

    `source` and `target` are Django connections; `params` fill `{name}` placeholders of the
    select as literals. Used to move generated data across the two systems (which share no
    transaction and no foreign key) at COPY speed. Returns the rows copied.
    """
    select = sql.SQL(select_sql)
    if params:
        select = select.format(**{k: sql.Literal(v) for k, v in params.items()})
    copy_out = sql.SQL("COPY ({}) TO STDOUT").format(select)
    copy_in = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns)))
    source.ensure_connection()
    target.ensure_connection()
    with source.connection.cursor() as out_cursor, target.connection.cursor() as in_cursor:
        with out_cursor.copy(copy_out) as out_copy, in_cursor.copy(copy_in) as in_copy:
            for block in out_copy:
                in_copy.write(block)
        return in_cursor.rowcount
