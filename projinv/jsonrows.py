"""A batch of rows for one SQL statement to read, as a JSON document (the bridge's payloads).

The inbound services are set-based: each writes a batch with one statement that reads the rows
with `json_to_recordset`. The bridge hands a batched change over as its outbox stored it, text
with the keys in the source system's words, and names the key of each column the receiver reads;
the statement renames as it reads. So 20,000 actuals are not parsed, renamed and encoded again in
Python on their way (D78). Called with a list of dicts instead (a test, a replay), the list is
encoded once.

Amounts stay exact: PostgreSQL reads JSON numbers into `numeric` columns digit for digit, and
`as_list` parses them as `Decimal`.
"""

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

import psycopg
from django.core.serializers.json import DjangoJSONEncoder


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


@dataclass(frozen=True)
class JsonRows:
    document: str  # a JSON array of flat objects
    # Column -> the document's key for it. None: the keys are the columns' own names. A mapping
    # names every column the document has: a column it leaves out reads as NULL.
    keys: Mapping[str, str] | None = None

    @classmethod
    def of(cls, rows: "JsonRows | Iterable[dict]") -> "JsonRows":
        """What an inbound service was called with, as JsonRows (a list is encoded, once)."""
        if isinstance(rows, JsonRows):
            return rows
        return cls(json.dumps(list(rows), cls=DjangoJSONEncoder))

    def source(self, columns: Mapping[str, str], *, alias: str = "r", placeholder: str = "%s") -> str:
        """A FROM item: the rows as `alias`, with `columns` ({column: SQL type}) under their own names.
        The statement's parameter at `placeholder` is `self.document`."""
        keys = self.keys if self.keys is not None else {column: column for column in columns}
        present = {column: kind for column, kind in columns.items() if column in keys}
        record = ", ".join(f"{_quoted(keys[column])} {kind}" for column, kind in present.items()) or "_ json"
        select = ", ".join(f"x.{_quoted(keys[column])} AS {_quoted(column)}" if column in present
                           else f"NULL::{kind} AS {_quoted(column)}" for column, kind in columns.items())
        return f"(SELECT {select} FROM json_to_recordset({placeholder}::json) AS x({record})) AS {alias}"

    def as_list(self) -> list[dict]:
        """The rows in Python, keyed by column: for a service that checks a few rows one by one."""
        rows = json.loads(self.document, parse_float=Decimal)
        if self.keys is None:
            return rows
        column_of = {key: column for column, key in self.keys.items()}
        return [{column_of[key]: value for key, value in row.items() if key in column_of} for row in rows]


def execute(connection, sql: str, params) -> psycopg.Cursor:
    """Run a statement that reads a document, with its parameters bound by the server.

    Django's cursors bind on the client: the document would be escaped in Python and sent inside
    the statement's text, and PostgreSQL would parse 16 MB of SQL literal (20,000 actuals), a fifth
    of the bridge's time. Same connection, same transaction; errors come as Django's, as from
    `connection.cursor()`. `connection` is Django's (`connections["finance"]`).
    """
    connection.ensure_connection()
    cursor = psycopg.Cursor(connection.connection)
    with connection.wrap_database_errors:
        cursor.execute(sql, params)
    return cursor
