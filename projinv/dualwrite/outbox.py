"""Write changes into the source system's outbox, inside the caller's transaction."""

from django.conf import settings
from django.db import transaction

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


def record_many(table_map: TableMap, items) -> list[Change]:
    states.refuse_if_stopped(table_map)  # raises: the caller's transaction rolls back
    model = relay.CHANGE_MODELS[table_map.source]
    using = model.objects.db
    changes = copy_insert(model, [
        model(map_code=table_map.code, key=key, payload=payload, row_count=count, priority=table_map.priority,
              ordering_key=table_map.ordering_key(payload))
        for key, payload, count in items
    ], using=using)
    ids = [c.pk for c in changes]
    if ids:
        # Only after commit: a worker must never see (or miss) a change that might still roll back.
        # Robust: if the broker is down, the committed change waits for the sweeper, and the caller's
        # business action (already committed) does not fail.
        transaction.on_commit(lambda: relay.enqueue_many(table_map.source, ids), using=using, robust=True)
    return changes


def _chunk_key(table_map: TableMap, chunk: list[dict]) -> str:
    first = str(chunk[0][table_map.key_field])
    more = f" (+{len(chunk) - 1})" if len(chunk) > 1 else ""
    return first[:KEY_LENGTH - len(more)] + more
