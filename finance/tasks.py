"""django-q2 tasks of finance: the periodic jobs. Each calls one service."""

from .services.importing import import_from_staging as run_import


def import_from_staging() -> int:
    return run_import(triggered_by="schedule").pk
