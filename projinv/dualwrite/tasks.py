"""django-q2 tasks of the bridge: each takes ids and calls one service; all are idempotent."""

from . import relay


def deliver_change(source: str, change_id: int) -> bool:
    return relay.deliver(source=source, change_id=change_id)


def sweep_outbox() -> int:
    return relay.sweep()
