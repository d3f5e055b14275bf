"""Column lists for set-based SQL (INSERT … SELECT), taken from the models.

Django keeps field defaults in Python, not in the database, so a hand-written INSERT must name
every NOT NULL column. Building the list from the model means a field added by someone else
tomorrow gets its default here instead of breaking the statement. Used by the services' set-based
paths (confirmation) and by the benchmark's generator and floors.
"""

import json
import uuid

from django.db import models
from django.utils import timezone
from psycopg import sql

# Python-side defaults that must be evaluated per row in SQL.
_PER_ROW_DEFAULTS = {uuid.uuid4: "gen_random_uuid()", timezone.now: "now()"}


def _default_sql(field: models.Field) -> str:
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return "now()"
    if field.has_default() and callable(field.default) and field.default in _PER_ROW_DEFAULTS:
        return _PER_ROW_DEFAULTS[field.default]
    value = field.get_default()  # the default, else "" for a text column, else None
    if value is None and not field.null:
        raise ValueError(f"{field.model.__name__}.{field.name} has no default: the statement must give it a value")
    if isinstance(value, str):
        value = str(value)  # a TextChoices member: adapt the plain string
    if isinstance(value, (dict, list)):  # a JSONField default; no braces, some callers format the SQL
        if not value:
            return "jsonb_build_object()" if isinstance(value, dict) else "jsonb_build_array()"
        return sql.Literal(json.dumps(value)).as_string(None) + "::jsonb"
    return sql.Literal(value).as_string(None)


def literal(value) -> str:
    """A constant as an SQL literal (quoted by psycopg), for statements whose parameters are taken."""
    return sql.Literal(value).as_string(None)


def columns(model) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def select_list(model, values: dict[str, str]) -> tuple[list[str], str]:
    """Column names and the matching SELECT expressions: `values` (by attname) or the defaults."""
    fields = columns(model)
    unknown = set(values) - {f.attname for f in fields}
    if unknown:
        raise ValueError(f"{model.__name__} has no columns {sorted(unknown)}")
    names = [f.column for f in fields]
    exprs = [values.get(f.attname) or _default_sql(f) for f in fields]
    return names, ",\n       ".join(exprs)


def insert_select(model, values: dict[str, str], rest: str, *, table: str | None = None,
                  suffix: str = "") -> str:
    """`INSERT INTO table (every column) SELECT values-or-defaults <rest> <suffix>`."""
    names, exprs = select_list(model, values)
    table = table or model._meta.db_table
    return f"INSERT INTO {table} ({', '.join(names)})\nSELECT {exprs}\n{rest}\n{suffix}"
