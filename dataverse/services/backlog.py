"""The billing backlog: mark unbilled sales Ready to invoice or not (domain.md §2.4, §4.2)."""

from django.db import transaction
from django.utils.translation import gettext as _

from projinv.domain import DomainError

from ..models import Actual, BillingStatus, BillingType, TransactionType


@transaction.atomic
def mark_ready_to_invoice(*, actual_ids, ready: bool, by) -> int:
    """Move the selected unbilled sales between Unbilled sales created and Ready to invoice.

    All or nothing: when any selected actual may not move, nothing moves and the error says why.
    Returns how many changed (those already in the wanted state count as done).
    """
    source, target = (
        (BillingStatus.UNBILLED_SALES_CREATED, BillingStatus.READY_TO_INVOICE)
        if ready
        else (BillingStatus.READY_TO_INVOICE, BillingStatus.UNBILLED_SALES_CREATED)
    )
    selected = Actual.objects.select_for_update().filter(pk__in=actual_ids).order_by("pk")
    rows = list(selected.values("pk", "transaction_type", "adjustment_status", "billing_type", "billing_status"))
    if len(rows) != len(set(actual_ids)):
        raise DomainError(_("Some of the selected actuals no longer exist."))
    for row in rows:
        reason = None
        if row["transaction_type"] != TransactionType.UNBILLED_SALES:
            reason = _("only unbilled sales can be invoiced")
        elif row["adjustment_status"]:
            reason = _("it has been adjusted")
        elif row["billing_type"] != BillingType.CHARGEABLE:
            reason = _("it is not chargeable")
        elif row["billing_status"] not in (source, target):
            reason = _("it is already on an invoice")
        if reason:
            raise DomainError(_("Actual %(pk)s cannot be changed: %(reason)s.") % {"pk": row["pk"], "reason": reason})
    return Actual.objects.filter(pk__in=actual_ids, billing_status=source).update(billing_status=target)
