"""Deliver outbox changes to the other system: at least once, effectively once, in order.

A change is claimed by compare-and-set before delivery, so two workers (or a task delivered
twice by the broker) never deliver it at the same time; a claim that outlives
DUALWRITE["CLAIM_SECONDS"] (a killed worker) is void and the sweeper hands the change out again.

A claimed change is held back, without using up an attempt, while its map is paused or stopped,
or while an earlier change with the same ordering key (the invoice's header before its actuals)
is undelivered. Failures back off exponentially; after DUALWRITE["MAX_ATTEMPTS"] the change waits
in the error queue for a person.
"""

import logging
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.db.models import F, Q
from django.utils import timezone
from django_q.tasks import async_task

from projinv import batches

from . import alerts, states
from .maps import DATAVERSE, FINANCE, MAPS, TableMap
from .models import Change, DataverseChange, FinanceChange

log = logging.getLogger(__name__)

CHANGE_MODELS: dict[str, type[Change]] = {DATAVERSE: DataverseChange, FINANCE: FinanceChange}
HOLD_SECONDS = 2  # how soon a held-back change is looked at again


def enqueue_many(source: str, change_ids: list[int]) -> None:
    for change_id in change_ids:
        async_task("projinv.dualwrite.tasks.deliver_change", source, change_id, group="dualwrite")


def _expired(now):
    """Claims made before this are void: their worker is taken to be dead."""
    return now - timedelta(seconds=settings.DUALWRITE["CLAIM_SECONDS"])


def _deliverable(model, now):
    return model.objects.filter(status=Change.Status.PENDING, next_attempt_at__lte=now).filter(
        Q(claimed_at=None) | Q(claimed_at__lt=_expired(now))
    )


# A delivery is three round trips besides the payload's own: claim (with the change and what blocks
# it), the map's state, and the acknowledgement (with the followers it frees). At a hundred rows a
# change, the write-back of 100 invoices is 200 deliveries: each query saved is a fifth of the floor.
# SQL of `_deliverable`, and of `_blocking` (a change `b` that must arrive before the change `{c}`).
DUE = """{c}.status = 'pending' AND {c}.next_attempt_at <= %(now)s
       AND ({c}.claimed_at IS NULL OR {c}.claimed_at < %(expired)s)"""
BEFORE = """{c}.ordering_key <> '' AND b.ordering_key = {c}.ordering_key AND b.status IN ('pending', 'failed')
          AND (b.priority < {c}.priority OR (b.priority = {c}.priority AND b.id < {c}.id))"""
# A batched map's payload is not read here: it goes from the outbox to the receiver in COPY (D82).
CLAIMED_COLUMNS = """c.id, c.map_code, c.key, c.ordering_key, c.priority,
       CASE WHEN c.map_code = ANY(%(batched)s) THEN NULL ELSE c.payload END AS payload,
       c.attempts, c.triage, c.row_count"""
CLAIMED_FIELDS = ("id", "map_code", "key", "ordering_key", "priority", "payload", "attempts", "triage", "row_count")

CLAIM_SQL = f"""
WITH claimed AS (
    UPDATE {{table}} c SET claimed_at = %(now)s, attempts = c.attempts + 1
     WHERE c.id = %(id)s AND {DUE.format(c="c")}
    RETURNING {CLAIMED_COLUMNS})
SELECT claimed.*, b.id, b.map_code
  FROM claimed
  LEFT JOIN LATERAL (
       SELECT b.id, b.map_code FROM {{table}} b WHERE {BEFORE.format(c="claimed")}
        ORDER BY b.priority, b.id LIMIT 1) b ON true
"""
# Guarded by the claim: a worker whose claim expired and was taken over does not overwrite. The
# followers freed are those held behind a change (a new one has its own task queued already).
ACK_SQL = """
WITH done AS (
    UPDATE {table} SET status = 'delivered', delivered_at = now(), claimed_at = NULL, last_error = '',
           waiting = '{{}}'::jsonb, duration_ms = %(duration)s,
           solved_by = CASE WHEN triage <> '' THEN taken_by ELSE solved_by END,
           triage = CASE WHEN triage <> '' THEN 'solved' ELSE triage END
     WHERE id = ANY(%(ids)s) AND claimed_at = %(now)s
    RETURNING ordering_key),
woken AS (
    UPDATE {table} f SET next_attempt_at = now()
      FROM done
     WHERE done.ordering_key <> '' AND f.ordering_key = done.ordering_key AND f.status = 'pending'
       AND f.claimed_at IS NULL AND f.id <> ALL(%(ids)s) AND f.waiting ? 'change'
    RETURNING f.id)
SELECT (SELECT count(*) FROM done), ARRAY(SELECT DISTINCT id FROM woken ORDER BY id)
"""
# More due changes of a batched map, to go with a claimed one in one delivery: those nothing is
# waiting for (no undelivered change before them with their ordering key), up to BATCH_ROWS rows.
CLAIM_MORE_SQL = f"""
WITH locked AS (
    SELECT x.id, x.row_count, x.priority, x.next_attempt_at FROM {{table}} x
     WHERE x.map_code = %(map_code)s AND x.id <> %(id)s AND {DUE.format(c="x")}
       AND NOT EXISTS (SELECT 1 FROM {{table}} b WHERE {BEFORE.format(c="x")})
     ORDER BY x.priority, x.next_attempt_at, x.id
     LIMIT 100 FOR UPDATE SKIP LOCKED),
picked AS (
    SELECT id FROM (SELECT id, sum(row_count) OVER (ORDER BY priority, next_attempt_at, id) AS rows FROM locked) r
     WHERE rows <= %(budget)s)
UPDATE {{table}} c SET claimed_at = %(now)s, attempts = c.attempts + 1
  FROM picked WHERE c.id = picked.id
RETURNING {CLAIMED_COLUMNS}
"""


def _batched() -> list[str]:
    return [code for code, table_map in MAPS.items() if table_map.batched]


def _claimed(model, row, now) -> Change:
    values = dict(zip(CLAIMED_FIELDS, row, strict=True))
    if values["payload"] is not None:  # Django reads jsonb as text: decode it as a queryset would
        values["payload"] = model._meta.get_field("payload").from_db_value(values["payload"], None, None)
    return model(**values, claimed_at=now)


# The rows of changes, in the order given (`o.n`) and each change's in its own (`x.m`), as COPY text:
# jsonb_to_recordset reads the stored jsonb without parsing it again, and every value leaves as text
# (an amount's digits as they are) for the receiver's COPY to read into its own types.
OUTBOX_ROWS_SQL = """
COPY (SELECT {select}
        FROM unnest({ids}::bigint[]) WITH ORDINALITY AS o(id, n)
        JOIN {table} c ON c.id = o.id
       CROSS JOIN LATERAL ROWS FROM (jsonb_to_recordset(c.payload) AS ({record})) WITH ORDINALITY AS x({names}, m)
       ORDER BY o.n, x.m) TO STDOUT
"""


@dataclass(frozen=True)
class OutboxRows:
    """The rows of claimed changes of a batched map, as one batch for the receiving service: streamed
    by COPY out of the outbox's database into the receiver's, never decoded here (D82)."""

    model: type[Change]
    ids: tuple[int, ...]  # in delivery order
    keys: Mapping[str, str]  # the receiver's column -> the payload's key for it

    @classmethod
    def of(cls, model, table_map: TableMap, changes: list[Change]) -> "OutboxRows":
        return cls(model, tuple(c.pk for c in changes), table_map.columns)

    def bind(self, connection, columns: Mapping[str, str]) -> batches.Bound:
        if connection.alias == self.model.objects.db:
            raise ValueError("an outbox's changes are delivered to the other system's database")
        return batches.copy_in(connection, columns, list(self.keys), self._blocks)

    def _blocks(self, columns: list[str]) -> Iterator[bytes]:
        source = connections[self.model.objects.db]
        keys = [batches.quoted(self.keys[column]) for column in columns]
        statement = OUTBOX_ROWS_SQL.format(
            select=", ".join(f"x.{key}" for key in keys), ids="%s", table=self.model._meta.db_table,
            record=", ".join(f"{key} text" for key in keys), names=", ".join(keys))
        source.ensure_connection()
        # A stream cut short is cancelled on the server, which would abort a transaction the outbox's
        # connection is in: the savepoint takes that instead.
        with transaction.atomic(using=source.alias), source.wrap_database_errors, source.connection.cursor() as cursor:
            with cursor.copy(statement, [list(self.ids)]) as copy:
                yield from copy


def _claim(model, change_id: int, now):
    """Claim a due change: (the change, the earliest undelivered change it must wait for), or None."""
    with connections[model.objects.db].cursor() as cursor:
        cursor.execute(CLAIM_SQL.format(table=model._meta.db_table),
                       {"id": change_id, "now": now, "expired": _expired(now), "batched": _batched()})
        row = cursor.fetchone()
    if row is None:
        return None
    *fields, blocker_id, blocker_map = row
    change = _claimed(model, fields, now)
    return change, ({"change": blocker_id, "map": blocker_map, "key": change.ordering_key} if blocker_id else None)


def _claim_more(model, change: Change, now) -> list[Change]:
    """Due changes of the same batched map to deliver with `change`, claimed (D38)."""
    budget = settings.DUALWRITE["BATCH_ROWS"] - change.row_count
    if budget <= 0:
        return []
    with connections[model.objects.db].cursor() as cursor:
        cursor.execute(CLAIM_MORE_SQL.format(table=model._meta.db_table), {
            "map_code": change.map_code, "now": now, "expired": _expired(now), "id": change.pk, "budget": budget,
            "batched": _batched()})
        return sorted((_claimed(model, row, now) for row in cursor.fetchall()), key=lambda c: (c.priority, c.pk))


def _give_back(model, ids: list[int], now) -> None:
    """Claims given back uncounted: a batch failed, and each of its changes will go on its own."""
    model.objects.filter(pk__in=ids, claimed_at=now).update(claimed_at=None, attempts=F("attempts") - 1)


def _blocking(model, change: Change):
    """The earliest undelivered change that must arrive before this one, if any."""
    if not change.ordering_key:
        return None
    return (
        model.objects.filter(ordering_key=change.ordering_key,
                             status__in=[Change.Status.PENDING, Change.Status.FAILED])
        .filter(Q(priority__lt=change.priority) | Q(priority=change.priority, pk__lt=change.pk))
        .order_by("priority", "pk").first()
    )


def _hold(model, change: Change, *, now, waiting: dict) -> None:
    """Give the claim back without counting an attempt: nothing failed, it is just not its turn."""
    model.objects.filter(pk=change.pk, claimed_at=now).update(
        claimed_at=None, attempts=F("attempts") - 1, waiting=waiting,
        next_attempt_at=timezone.now() + timedelta(seconds=HOLD_SECONDS),
    )


def deliver(*, source: str, change_id: int) -> bool:
    """Deliver a change if it is due, its map runs, and nothing before it is pending (with other due
    changes of its map, when the map is batched)."""
    return bool(deliver_batch(source=source, change_id=change_id))


def deliver_batch(*, source: str, change_id: int) -> list[int]:
    """`deliver`, returning the ids of the changes delivered (the change and those that went with it),
    or none: a loop over due changes then skips those instead of claiming each in vain."""
    model = CHANGE_MODELS[source]
    now = timezone.now()
    claimed = _claim(model, change_id, now)
    if claimed is None:
        return []  # delivered already, held by another worker, or not due yet
    change, blocker = claimed
    table_map = MAPS[change.map_code]
    if (state := states.state_of(table_map.code)) != states.State.RUNNING:
        _hold(model, change, now=now, waiting={"map_state": state})
        return []
    if blocker:
        _hold(model, change, now=now, waiting=blocker)
        # The blocker may have been delivered between our claim and our hold, its worker waking
        # followers while we still held the claim: look again, so this change does not wait for a sweep.
        if not _blocking(model, change):
            release_held(source, model, [change.pk])
        return []
    # A batched map's due changes travel together: one inbound call, one acknowledgement (D38).
    batch = [change, *_claim_more(model, change, now)] if table_map.batched else [change]
    started = time.monotonic()
    try:
        _deliver(model, table_map, batch)
    except Exception as exc:  # noqa: BLE001 - any failure is recorded for a person to see
        if len(batch) == 1:
            _record_failure(model, source, change, exc)
            return []
        # Whichever of them failed: the others go back, this one is tried alone, so that a failure
        # is recorded on the change it belongs to.
        others = [c.pk for c in batch[1:]]
        _give_back(model, others, now)
        enqueue_many(source, others)
        batch = [change]
        try:
            _deliver(model, table_map, batch)
        except Exception as exc:  # noqa: BLE001
            _record_failure(model, source, change, exc)
            return []
    with connections[model.objects.db].cursor() as cursor:
        cursor.execute(ACK_SQL.format(table=model._meta.db_table), {
            "ids": [c.pk for c in batch], "now": now, "duration": int((time.monotonic() - started) * 1000)})
        marked, woken = cursor.fetchone()
    if not marked:
        return []  # our claim expired and another worker took over: it reports the delivery
    enqueue_many(source, woken)  # held behind these: they may go now, rather than at the next sweep
    return [c.pk for c in batch]


def _deliver(model, table_map: TableMap, batch: list[Change]) -> None:
    if table_map.batched:
        table_map.deliver(OutboxRows.of(model, table_map, batch))
    else:
        table_map.deliver_payload(batch[0].payload)


def release_held(source: str, model, ids: list[int]) -> None:
    """Make held changes due now and hand them to the workers."""
    if ids:
        model.objects.filter(pk__in=ids, status=Change.Status.PENDING, claimed_at=None).update(
            next_attempt_at=timezone.now())
        enqueue_many(source, ids)


def _record_failure(model, source: str, change: Change, exc: Exception) -> None:
    error = f"{type(exc).__name__}: {exc}"
    log.warning("Delivery of %s %s failed (attempt %s): %s", change.map_code, change.key, change.attempts, error)
    policy = settings.DUALWRITE
    values = {"claimed_at": None, "last_error": error, "waiting": {}}
    if change.attempts >= policy["MAX_ATTEMPTS"]:
        values.update(status=Change.Status.FAILED, triage=Change.Triage.OPEN)
    else:
        backoff = policy["BACKOFF_SECONDS"] * 2 ** (change.attempts - 1)
        values["next_attempt_at"] = timezone.now() + timedelta(seconds=backoff)
    model.objects.filter(pk=change.pk, claimed_at=change.claimed_at).update(**values)
    alerts.failure_recorded(map_code=change.map_code, source=source, change_id=change.pk, error=error)


def due_changes(source: str, *, limit: int = 1000) -> list[int]:
    """Pending changes that are due and unclaimed, of running maps (a resume releases the others),
    in ordering priority and then the order they happened."""
    model = CHANGE_MODELS[source]
    held_maps = states.not_running()
    due = _deliverable(model, timezone.now()).exclude(map_code__in=held_maps)
    return list(due.order_by("priority", "next_attempt_at", "pk").values_list("pk", flat=True)[:limit])


def _each_reachable_source():
    """Each outbox on its own: one system being down must not stop the other's changes."""
    for source in (DATAVERSE, FINANCE):
        try:
            yield source, due_changes(source)
        except DatabaseError as exc:
            log.warning("The %s outbox cannot be read now: %s", source, exc)


def sweep() -> int:
    """Hand out again everything due: lost broker messages, killed workers, retries after backoff."""
    count = 0
    for source, ids in _each_reachable_source():
        enqueue_many(source, ids)
        count += len(ids)
    return count


def deliver_due() -> int:
    """Deliver everything due, in order, in this process (the tests' drain). Returns the deliveries made."""
    delivered = 0
    for source, ids in _each_reachable_source():
        delivered += len(deliver_each(source, ids))
    return delivered


def deliver_each(source: str, ids: list[int]) -> list[list[int]]:
    """Deliver the changes in order, skipping those that went in an earlier one's batch; returns each
    delivery's ids."""
    done: set[int] = set()
    deliveries = []
    for change_id in ids:
        if change_id not in done and (batch := deliver_batch(source=source, change_id=change_id)):
            done.update(batch)
            deliveries.append(batch)
    return deliveries
