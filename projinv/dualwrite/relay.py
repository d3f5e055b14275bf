"""Deliver outbox changes to the other system: at least once, effectively once.

A change is claimed by compare-and-set before delivery, so two workers (or a task delivered
twice by the broker) never deliver it at the same time; a claim that outlives
DUALWRITE["CLAIM_SECONDS"] (a killed worker) is void and the sweeper hands the change out again.
Failures back off exponentially; after DUALWRITE["MAX_ATTEMPTS"] the change waits in the error
queue for a person to retry it.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone
from django_q.tasks import async_task

from .maps import DATAVERSE, FINANCE, MAPS
from .models import Change, DataverseChange, FinanceChange

log = logging.getLogger(__name__)

CHANGE_MODELS: dict[str, type[Change]] = {DATAVERSE: DataverseChange, FINANCE: FinanceChange}


def enqueue_many(source: str, change_ids: list[int]) -> None:
    for change_id in change_ids:
        async_task("projinv.dualwrite.tasks.deliver_change", source, change_id, group="dualwrite")


def _deliverable(model, now):
    expired = now - timedelta(seconds=settings.DUALWRITE["CLAIM_SECONDS"])
    return model.objects.filter(status=Change.Status.PENDING, next_attempt_at__lte=now).filter(
        Q(claimed_at=None) | Q(claimed_at__lt=expired)
    )


def deliver(*, source: str, change_id: int) -> bool:
    """Deliver one change if it is still pending and nobody holds it. Returns True if delivered."""
    model = CHANGE_MODELS[source]
    now = timezone.now()
    claimed = _deliverable(model, now).filter(pk=change_id).update(claimed_at=now, attempts=F("attempts") + 1)
    if claimed != 1:
        return False  # delivered already, held by another worker, or not due yet
    change = model.objects.get(pk=change_id)
    try:
        MAPS[change.map_code].deliver_payload(change.payload)
    except Exception as exc:  # noqa: BLE001 - any failure is recorded for a person to see
        _record_failure(model, change, exc)
        return False
    # Guarded by the claim: a worker whose claim expired and was taken over does not overwrite.
    model.objects.filter(pk=change_id, claimed_at=now).update(
        status=Change.Status.DELIVERED, delivered_at=timezone.now(), claimed_at=None, last_error=""
    )
    return True


def _record_failure(model, change: Change, exc: Exception) -> None:
    log.warning("Delivery of %s %s failed (attempt %s): %s", change.map_code, change.key, change.attempts, exc)
    policy = settings.DUALWRITE
    values = {"claimed_at": None, "last_error": f"{type(exc).__name__}: {exc}"}
    if change.attempts >= policy["MAX_ATTEMPTS"]:
        values["status"] = Change.Status.FAILED
    else:
        backoff = policy["BACKOFF_SECONDS"] * 2 ** (change.attempts - 1)
        values["next_attempt_at"] = timezone.now() + timedelta(seconds=backoff)
    model.objects.filter(pk=change.pk, claimed_at=change.claimed_at).update(**values)


def due_changes(source: str, *, limit: int = 1000) -> list[int]:
    """Pending changes that are due and unclaimed, headers before rows, oldest first."""
    model = CHANGE_MODELS[source]
    ids = list(_deliverable(model, timezone.now()).order_by("pk").values_list("pk", "map_code")[:limit])
    return [pk for pk, code in sorted(ids, key=lambda item: (MAPS[item[1]].priority, item[0]))]


def sweep() -> int:
    """Hand out again everything due: lost broker messages, killed workers, retries after backoff."""
    count = 0
    for source in CHANGE_MODELS:
        ids = due_changes(source)
        enqueue_many(source, ids)
        count += len(ids)
    return count


def deliver_due() -> int:
    """Deliver everything due, in order, in this process (the tests' and the admin's drain)."""
    delivered = 0
    for source in (DATAVERSE, FINANCE):
        for change_id in due_changes(source):
            delivered += deliver(source=source, change_id=change_id)
    return delivered


def retry(*, source: str, change_ids) -> int:
    """A person retries changes from the error queue (or pending ones) now."""
    model = CHANGE_MODELS[source]
    count = model.objects.filter(pk__in=change_ids).exclude(status=Change.Status.DELIVERED).update(
        status=Change.Status.PENDING, next_attempt_at=timezone.now(), claimed_at=None, attempts=0
    )
    enqueue_many(source, list(change_ids))
    return count
