"""A batch of rows for one SQL statement to read: what the bridge hands an inbound service.

The inbound services are set-based: each writes a batch with one statement whose `{rows}` is a
FROM item `r` with the columns the statement reads, under the receiver's names. Where the rows
come from is the batch's business:

- `JsonRows`: a JSON document (a test's or a caller's list of dicts, encoded once), read with
  `json_to_recordset`; its keys may be in the source system's words, renamed as they are read.
- Rows that live in another database (the relay's claimed outbox changes, D82) are streamed in
  with `COPY` into a temporary table, read from there: `copy_in` does that for any batch that
  can produce `COPY … TO STDOUT` blocks.

Amounts stay exact either way: PostgreSQL reads JSON numbers and COPY text into `numeric` columns
digit for digit.
"""

import contextlib
import itertools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import psycopg
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.transaction import TransactionManagementError


def quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


@dataclass(frozen=True)
class Bound:
    """A batch as one statement reads it."""

    source: str  # the FROM item `r`
    params: dict = field(default_factory=dict)  # the parameters `source` needs
    table: str = ""  # the temporary table holding the rows, if any: dropped once the statement ran


class Batch(Protocol):
    def bind(self, connection, columns: Mapping[str, str]) -> Bound:
        """The batch as `r` with `columns` ({column: SQL type}), on `connection` (Django's)."""


@dataclass(frozen=True)
class JsonRows:
    document: str  # a JSON array of flat objects
    # Column -> the document's key for it. None: the keys are the columns' own names. A mapping
    # names every column the document has: a column it leaves out reads as NULL.
    keys: Mapping[str, str] | None = None

    def source(self, columns: Mapping[str, str], *, alias: str = "r", placeholder: str = "%(rows)s") -> str:
        """A FROM item: the rows as `alias`, with `columns` ({column: SQL type}) under their own names.
        The statement's parameter at `placeholder` is `self.document`."""
        keys = self.keys if self.keys is not None else {column: column for column in columns}
        present = {column: kind for column, kind in columns.items() if column in keys}
        record = ", ".join(f"{quoted(keys[column])} {kind}" for column, kind in present.items()) or "_ json"
        select = ", ".join(f"x.{quoted(keys[column])} AS {quoted(column)}" if column in present
                           else f"NULL::{kind} AS {quoted(column)}" for column, kind in columns.items())
        return f"(SELECT {select} FROM json_to_recordset({placeholder}::json) AS x({record})) AS {alias}"

    def bind(self, connection, columns: Mapping[str, str]) -> Bound:
        return Bound(self.source(columns), {"rows": self.document})


def of(rows: "Batch | Iterable[dict]") -> Batch:
    """What an inbound service was called with, as a batch (a list of dicts is encoded, once)."""
    if hasattr(rows, "bind"):
        return rows
    return JsonRows(json.dumps(list(rows), cls=DjangoJSONEncoder))


def execute(connection, statement: str, rows: "Batch | Iterable[dict]", columns: Mapping[str, str],
            params: dict | None = None) -> psycopg.Cursor:
    """Run `statement`, its `{rows}` the batch read as `r` with `columns`, its other parameters named.

    The parameters are bound by the server, not by Django's cursor, which binds on the client: a
    document would be escaped in Python and sent inside the statement's text, and PostgreSQL would
    parse 16 MB of SQL literal (20,000 actuals), a fifth of the bridge's time. It runs on
    `connection` (Django's: `connections["finance"]`) inside the caller's transaction (in a savepoint),
    or in one of its own when there is none; errors come as Django's, as from `connection.cursor()`.
    Returns the cursor, its results unread.
    """
    with transaction.atomic(using=connection.alias):  # a batch copied in lives in a transaction
        bound = of(rows).bind(connection, columns)
        connection.ensure_connection()
        cursor = psycopg.Cursor(connection.connection)
        with connection.wrap_database_errors:
            cursor.execute(statement.format(rows=bound.source), {**(params or {}), **bound.params})
            if bound.table:  # not left to the commit: a caller's transaction may make many deliveries
                with connection.connection.cursor() as cleanup:
                    cleanup.execute(f"DROP TABLE pg_temp.{bound.table}")
    return cursor


def read(connection, rows: "Batch | Iterable[dict]", columns: Mapping[str, str]) -> list[dict]:
    """The batch's rows in Python, keyed by column, in its types: for a look at a few rows."""
    with execute(connection, "SELECT * FROM {rows}", rows, columns) as cursor:
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


_tables = itertools.count(1)


# Types COPY text carries as they are: a JSON value or an array would need its own text form.
SCALAR_TYPES = {"uuid", "text", "date", "numeric", "boolean", "timestamptz", "integer", "bigint"}


def copy_in(connection, columns: Mapping[str, str], present: list[str],
            blocks: Callable[[list[str]], Iterator[bytes]]) -> Bound:
    """Load a batch into a temporary table of `connection` with COPY; return it bound as `r`.

    `blocks(wanted)` yields `COPY … TO STDOUT` text of the `wanted` columns in that order: those of the
    batch's own (`present`) that the statement reads, in the statement's order. The others read as
    NULL. It must run in a transaction (`execute` holds one), which drops the table if nobody did.
    """
    if not connection.in_atomic_block:
        raise TransactionManagementError("a batch is copied in inside a transaction")
    wanted = [column for column in columns if column in present]
    if not wanted:
        raise ValueError("the batch has none of the columns the statement reads")
    if unsupported := {columns[column] for column in wanted} - SCALAR_TYPES:
        raise ValueError(f"a batch copied in carries scalar columns only, not {sorted(unsupported)}")
    table = f"batch_{next(_tables)}"
    definition = ", ".join(f"{quoted(column)} {columns[column]}" for column in wanted)
    connection.ensure_connection()
    with connection.wrap_database_errors, connection.connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {table} ({definition}) ON COMMIT DROP")
        # Closed here, not when the garbage collector gets to it: a failure must end the source's COPY too.
        with cursor.copy(f"COPY {table} ({', '.join(map(quoted, wanted))}) FROM STDIN") as copy, \
                contextlib.closing(blocks(wanted)) as stream:
            for block in stream:
                copy.write(block)
    select = ", ".join(f"b.{quoted(column)}" if column in wanted else f"NULL::{kind} AS {quoted(column)}"
                       for column, kind in columns.items())
    return Bound(f"(SELECT {select} FROM pg_temp.{table} b) AS r", table=table)
