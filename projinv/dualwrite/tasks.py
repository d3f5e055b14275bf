"""django-q2 tasks of the bridge: each takes ids and calls one service; all are idempotent."""

from . import errors, relay


def deliver_change(source: str, change_id: int) -> bool:
    return relay.deliver(source=source, change_id=change_id)


def sweep_outbox() -> int:
    return relay.sweep()


def prune_activity_log() -> int:
    return errors.prune_activity_log()


def check_invariants() -> bool:
    from django.conf import settings

    from .invariants import check_invariants as run

    return run(grace_minutes=settings.DUALWRITE["STUCK_MINUTES"], triggered_by="schedule").ok
