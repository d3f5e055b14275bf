"""Bulk inserts through PostgreSQL's COPY: the hot paths' replacement for `bulk_create`.

`bulk_create` sends every column of every row as a parameter that Django prepares field by field
and psycopg quotes in Python (PostgreSQL's UNNEST arrays); at 30,000 actuals a confirmation spent
most of its time there. COPY streams the rows in psycopg's C adapters instead. The keys come from
the table's own sequence first, in one query, so callers get them as `bulk_create` gives them
(and rows that point at each other can be written in one pass). Like `bulk_create`, no model
signals are sent; the database's own triggers and constraints apply as for any insert.
"""

from collections.abc import Sequence

from django.db import connections, models, router
from django.utils import timezone

# Field types whose Python value psycopg writes as it is: no per-value preparation needed.
_AS_IS = (models.IntegerField, models.DecimalField, models.DateField, models.BooleanField, models.UUIDField,
          models.FloatField, models.DurationField, models.ForeignKey)


def _converter(field: models.Field, connection):
    """How to turn the attribute into the value COPY writes (None stays None)."""
    if isinstance(field, (models.CharField, models.TextField)):
        return str  # choices are str enums: write their value, not their name
    if isinstance(field, _AS_IS) and not isinstance(field, models.DateTimeField):
        return None
    # The rest (JSON with the field's encoder, date-times made aware...) as Django prepares them.
    return lambda value, f=field: f.get_db_prep_save(value, connection)


def _next_keys(cursor, opts, count: int) -> list[int]:
    cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                   [opts.db_table, opts.pk.column, count])
    return sorted(row[0] for row in cursor.fetchall())


def _copy(cursor, connection, opts, fields, rows) -> None:
    """COPY `rows` (lists of attribute values, in `fields` order) into the model's table."""
    converters = [_converter(f, connection) for f in fields]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with cursor.cursor.copy(f"COPY {connection.ops.quote_name(opts.db_table)} ({columns}) FROM STDIN") as copy:
        for values in rows:
            copy.write_row([value if convert is None or value is None else convert(value)
                            for value, convert in zip(values, converters, strict=True)])


def copy_insert(model: type[models.Model], objs: Sequence[models.Model], *, using: str | None = None) -> list:
    """Insert `objs` (unsaved instances) with COPY; give each its primary key, in list order."""
    objs = list(objs)
    if not objs:
        return objs
    using = using or router.db_for_write(model)
    connection = connections[using]
    opts = model._meta
    fields = list(opts.concrete_fields)
    with connection.cursor() as cursor:
        for obj, key in zip(objs, _next_keys(cursor, opts, len(objs)), strict=True):
            setattr(obj, opts.pk.attname, key)
        try:
            for obj in objs:
                # Related objects saved since they were assigned (or earlier in this list) give their keys
                # now, as in bulk_create; an unsaved one is refused the same way, before anything is written.
                obj._prepare_related_fields_for_save(operation_name="copy_insert")
        except ValueError:
            for obj in objs:
                setattr(obj, opts.pk.attname, None)
            raise
        auto_now = [f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
        attnames = [f.attname for f in fields]

        def values():
            for obj in objs:
                for field in auto_now:
                    field.pre_save(obj, add=True)
                yield [getattr(obj, name) for name in attnames]

        _copy(cursor, connection, opts, fields, values())
    for obj in objs:
        obj._state.adding = False
        obj._state.db = using
    return objs


def copy_rows(model: type[models.Model], rows: Sequence[dict], *, using: str | None = None) -> list[int]:
    """Insert plain rows (dicts of attribute names: `project_id`, not `project`) with COPY.

    For the hottest path, where building 20,000 model instances costs more than writing them (an
    approval of 10,000 entries). A missing field takes its default, as a new instance would; each
    row gets its primary key under the pk's attribute name. Returns the keys, in list order. As with
    `copy_insert`, nothing is validated here: the caller builds rows the model would accept.
    """
    if not rows:
        return []
    using = using or router.db_for_write(model)
    connection = connections[using]
    opts = model._meta
    fields = list(opts.concrete_fields)
    unknown = set().union(*rows) - {f.attname for f in fields}
    if unknown:
        raise ValueError(f"copy_rows: {model.__name__} has no field {', '.join(sorted(unknown))}")
    now = timezone.now()
    # Per field: its default when constant (taken once), else the callable that makes one per row.
    defaults = {}
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            defaults[field.attname] = (now, False)
        elif field.has_default() and callable(field.default):
            defaults[field.attname] = (field.default, True)
        else:
            defaults[field.attname] = (field.get_default(), False)
    with connection.cursor() as cursor:
        keys = _next_keys(cursor, opts, len(rows))
        for row, key in zip(rows, keys, strict=True):
            row[opts.pk.attname] = key

        def values():
            for row in rows:
                yield [row[name] if name in row else (default() if per_row else default)
                       for name, (default, per_row) in defaults.items()]

        _copy(cursor, connection, opts, fields, values())
    return keys
