"""Write changes into the source system's outbox, inside the caller's transaction."""

from django.conf import settings
from django.db import connections, transaction
from django.db.models import F, QuerySet

from projinv import sqlgen
from projinv.bulk import copy_insert

from . import relay, states
from .maps import TableMap
from .models import KEY_LENGTH, Change


def record(table_map: TableMap, *, key: str, payload) -> Change:
    return record_many(table_map, [(key, payload, 1)])[0]


def record_rows(table_map: TableMap, rows: list[dict]) -> list[Change]:
    """Queue rows of a batched map in chunks, so that 10,000 rows travel as 10 deliveries.

    Rows are chunked per ordering value (an invoice's rows apart from rows of none): a chunk mixing
    them would have no ordering key, and nothing would then deliver it before what must follow it
    (a correction's credited remainder has no invoice; its billed sales' connections do).
    """
    if not rows:
        return []  # nothing to send: not even a stopped map has a reason to refuse
    size = settings.DUALWRITE["CHUNK_ROWS"]
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(table_map.ordering_key([row]), []).append(row)
    chunks = [group[i:i + size] for group in groups.values() for i in range(0, len(group), size)]
    return record_many(table_map, [(_chunk_key(table_map, chunk), chunk, len(chunk)) for chunk in chunks])


# The chunks of `record_rows`, made by the database from the rows' query: per ordering value, CHUNK_ROWS
# rows a change, keyed by the first row's key and how many follow.
RECORD_QUERY_SQL = """
WITH rows AS (
    SELECT to_jsonb(q) - 'outbox_row' AS row, coalesce({ordering}::text, '') AS ordering, q.{key}::text AS key,
           row_number() OVER (PARTITION BY {ordering} ORDER BY q.outbox_row) - 1 AS n
      FROM ({query}) q),
chunks AS (
    SELECT ordering, jsonb_agg(row ORDER BY n) AS payload, count(*) AS row_count,
           (array_agg(key ORDER BY n))[1] AS first_key, min(n) AS first
      FROM rows GROUP BY ordering, n / {size})
{insert}
RETURNING id
"""
MORE = "CASE WHEN row_count > 1 THEN ' (+' || (row_count - 1) || ')' ELSE '' END"


def record_query(table_map: TableMap, rows: QuerySet) -> list[int]:
    """Queue the rows of a queryset as `record_rows` would, without reading them into Python: the
    database builds the payloads (otherwise 10,000 actuals are 10,000 dicts and 10 MB of JSON here).

    `rows` is a `.values(**fields)` queryset of the map's source fields; rows go in primary-key order.
    Amounts travel as JSON numbers, read back as Decimal (`PayloadDecoder`).
    """
    states.refuse_if_stopped(table_map)
    model = relay.CHANGE_MODELS[table_map.source]
    query, params = rows.values(*rows.query.values_select, *rows.query.annotation_select,
                                outbox_row=F("pk")).order_by().query.sql_with_params()
    # Literals, not parameters: the row query's own parameters are positional.
    insert = sqlgen.insert_select(model, {
        "map_code": sqlgen.literal(table_map.code), "priority": str(int(table_map.priority)),
        "payload": "payload", "row_count": "row_count",
        "key": f"left(first_key, {KEY_LENGTH} - length({MORE})) || {MORE}",
        "ordering_key": "ordering" if table_map.ordering_field else "''",
    }, "FROM chunks ORDER BY ordering, first")
    ordering = f"q.{table_map.ordering_field}" if table_map.ordering_field else "NULL"
    sql = RECORD_QUERY_SQL.format(ordering=ordering, key=table_map.key_field,
                                  query=query, size=int(settings.DUALWRITE["CHUNK_ROWS"]), insert=insert)
    using = model.objects.db
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        ids = [row[0] for row in cursor.fetchall()]
    _hand_out_after_commit(table_map, ids, using)
    return ids


def record_many(table_map: TableMap, items) -> list[Change]:
    states.refuse_if_stopped(table_map)  # raises: the caller's transaction rolls back
    model = relay.CHANGE_MODELS[table_map.source]
    using = model.objects.db
    changes = copy_insert(model, [
        model(map_code=table_map.code, key=key, payload=payload, row_count=count, priority=table_map.priority,
              ordering_key=table_map.ordering_key(payload))
        for key, payload, count in items
    ], using=using)
    _hand_out_after_commit(table_map, [c.pk for c in changes], using)
    return changes


def _hand_out_after_commit(table_map: TableMap, ids: list[int], using: str) -> None:
    # Only after commit: a worker must never see (or miss) a change that might still roll back.
    # Robust: if the broker is down, the committed change waits for the sweeper, and the caller's
    # business action (already committed) does not fail.
    if ids:
        transaction.on_commit(lambda: relay.enqueue_many(table_map.source, ids), using=using, robust=True)


def _chunk_key(table_map: TableMap, chunk: list[dict]) -> str:
    first = str(chunk[0][table_map.key_field])
    more = f" (+{len(chunk) - 1})" if len(chunk) > 1 else ""
    return first[:KEY_LENGTH - len(more)] + more
