"""The error queue and the activity log: what a person does with changes.

Failed changes are Open until someone takes them (Processing) and Solved when a retry delivers
them or someone dismisses them with a reason. Delivered changes are the activity log: they can
be replayed (a new change with the same payload; the receiving side's keys make it harmless)
and are pruned after DUALWRITE["LOG_RETENTION_DAYS"].
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from finance.models import ImportRun
from projinv.domain import DomainError

from . import relay
from .filters import ChangeFilter
from .models import Change

Status, Triage = Change.Status, Change.Triage


def _model(source):
    try:
        return relay.CHANGE_MODELS[source]
    except KeyError:
        raise DomainError(_("Unknown outbox %(source)s.") % {"source": source}) from None


def error_groups(source: str) -> list[dict]:
    """Failed changes grouped by their error text, most frequent first."""
    return list(
        _model(source).objects.filter(status=Status.FAILED).values("map_code", "last_error")
        .annotate(count=Count("pk"), oldest=Min("created_at"), newest=Max("created_at"))
        .order_by("-count", "oldest")
    )


def take(*, source: str, change_ids, by: str) -> int:
    return _model(source).objects.filter(pk__in=change_ids, status=Status.FAILED).update(
        triage=Triage.PROCESSING, taken_by=by)


def retry(*, source: str, change_ids, by: str) -> int:
    """Queue failed (or stuck pending) changes again now, with a fresh set of attempts."""
    model = _model(source)
    with transaction.atomic(using=model.objects.db):
        ids = list(model.objects.filter(pk__in=change_ids, status__in=[Status.FAILED, Status.PENDING])
                   .values_list("pk", flat=True))
        # Whoever retries an untaken failure takes it; a successful delivery then marks it solved by them.
        model.objects.filter(pk__in=ids, triage=Triage.OPEN).update(triage=Triage.PROCESSING, taken_by=by)
        model.objects.filter(pk__in=ids).update(
            status=Status.PENDING, next_attempt_at=timezone.now(), claimed_at=None, attempts=0)
        transaction.on_commit(lambda: relay.enqueue_many(source, ids), using=model.objects.db, robust=True)
    return len(ids)


def retry_all(*, source: str, by: str) -> int:
    ids = _model(source).objects.filter(status=Status.FAILED).values_list("pk", flat=True)
    return retry(source=source, change_ids=list(ids), by=by)


def dismiss(*, source: str, change_ids, by: str, reason: str) -> int:
    if not reason.strip():
        raise DomainError(_("Say why the changes are dismissed: the reason is kept with them."))
    return _model(source).objects.filter(pk__in=change_ids, status=Status.FAILED).update(
        status=Status.DISMISSED, triage=Triage.SOLVED, solved_by=by, resolution=reason.strip())


def replay(*, source: str, change_ids, by: str) -> int:
    """Send delivered changes again as new changes (safe: delivery is idempotent on business keys)."""
    model = _model(source)
    with transaction.atomic(using=model.objects.db):
        originals = list(model.objects.filter(pk__in=change_ids, status=Status.DELIVERED).order_by("pk"))
        copies = model.objects.bulk_create(
            model(map_code=c.map_code, key=c.key, ordering_key=c.ordering_key, priority=c.priority,
                  payload=c.payload, row_count=c.row_count, replay_of=c.pk, taken_by=by)
            for c in originals
        )
        ids = [c.pk for c in copies]
        transaction.on_commit(lambda: relay.enqueue_many(source, ids), using=model.objects.db, robust=True)
    return len(ids)


REPLAY_LIMIT = 10_000  # changes one "replay by filter" sends again; narrow the filter for more


def replay_matching(*, source: str, filters, by: str) -> int:
    """Replay every delivered change the activity log's filter (`filters`: its query values) shows."""
    model = _model(source)
    chosen = ChangeFilter(filters, queryset=model.objects.filter(status=Status.DELIVERED))
    if not chosen.is_valid():  # an unknown value would be dropped, and the replay would take everything
        raise DomainError(_("The filter is not valid, so nothing was replayed: %(errors)s")
                          % {"errors": "; ".join(str(e) for errors in chosen.errors.values() for e in errors)})
    matching = chosen.qs.order_by("pk")
    return replay(source=source, change_ids=list(matching.values_list("pk", flat=True)[:REPLAY_LIMIT]), by=by)


def prune_activity_log(*, now=None) -> int:
    """Delete delivered and dismissed changes older than the retention period, in both outboxes."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.DUALWRITE["LOG_RETENTION_DAYS"])
    deleted = 0
    for model in relay.CHANGE_MODELS.values():
        count, _by_model = model.objects.filter(status__in=[Status.DELIVERED, Status.DISMISSED],
                                                created_at__lt=cutoff).delete()
        deleted += count
    # Finance's troubleshooting log is kept as long (domain.md §6.2: 90 days), runs with their issues.
    # (a run that made journals stays: they point at it.)
    count, _by_model = ImportRun.objects.filter(started_at__lt=cutoff, journals__isnull=True).delete()
    return deleted + count
