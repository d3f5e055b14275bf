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


def copy_insert(model: type[models.Model], objs: Sequence[models.Model], *, using: str | None = None) -> list:
    """Insert `objs` (unsaved instances) with COPY; give each its primary key, in list order."""
    objs = list(objs)
    if not objs:
        return objs
    using = using or router.db_for_write(model)
    connection = connections[using]
    opts = model._meta
    pk = opts.pk
    fields = list(opts.concrete_fields)
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                       [opts.db_table, pk.column, len(objs)])
        keys = sorted(row[0] for row in cursor.fetchall())
        for obj, key in zip(objs, keys, strict=True):
            setattr(obj, pk.attname, key)
        try:
            for obj in objs:
                # Related objects saved since they were assigned (or earlier in this list) give their keys
                # now, as in bulk_create; an unsaved one is refused the same way, before anything is written.
                obj._prepare_related_fields_for_save(operation_name="copy_insert")
        except ValueError:
            for obj in objs:
                setattr(obj, pk.attname, None)
            raise
        converters = [_converter(f, connection) for f in fields]
        auto_now = [f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        attnames = [f.attname for f in fields]
        with cursor.cursor.copy(f"COPY {connection.ops.quote_name(opts.db_table)} ({columns}) FROM STDIN") as copy:
            for obj in objs:
                for field in auto_now:
                    field.pre_save(obj, add=True)
                values = [getattr(obj, name) for name in attnames]
                copy.write_row([value if convert is None or value is None else convert(value)
                                for value, convert in zip(values, converters, strict=True)])
    for obj in objs:
        obj._state.adding = False
        obj._state.db = using
    return objs

