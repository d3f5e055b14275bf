"""django-q2 tasks of Dataverse: each takes ids and calls one service."""

from django.contrib.auth import get_user_model

from .services import bulk, schedules


def confirm_scheduled(invoice_id: int, user_id: int) -> str:
    return bulk.confirm_scheduled(invoice_id=invoice_id, user_id=user_id)


def run_invoice_schedules() -> int:
    """The daily invoice run, as the system user (the first superuser, like Dataverse's owner of the job)."""
    system = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
    return len(schedules.run_invoice_schedules(by=system))
