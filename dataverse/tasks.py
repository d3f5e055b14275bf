"""django-q2 tasks of Dataverse: each takes ids and calls one service."""

from .services import bulk


def confirm_scheduled(invoice_id: int, user_id: int) -> str:
    return bulk.confirm_scheduled(invoice_id=invoice_id, user_id=user_id)
