"""Revise a confirmed invoice: a corrective draft whose details say what should finally be billed
(domain.md §2.10). Confirming it credits and re-bills (see billing.py)."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from projinv.domain import DomainError, InvalidTransition

from ..models import Actual, AdjustmentStatus, Invoice, InvoiceLine, InvoiceLineDetail, TransactionType
from .invoicing import next_invoice_number, recompute_totals


@transaction.atomic
def revise_invoice(*, invoice_id: int, by, detail_ids=None, into_invoice_id=None) -> Invoice:
    """Copy all (or the selected) details' billed sales, at quantity 0, onto a corrective draft: a new
    one, or an existing draft of the same contract and customer."""
    original = Invoice.objects.select_for_update().get(pk=invoice_id)
    if original.status not in (Invoice.Status.CONFIRMED, Invoice.Status.POSTED):
        raise InvalidTransition(_("Invoice %(number)s is %(status)s: only a confirmed invoice can be revised.")
                                % {"number": original.number, "status": original.get_status_display()})
    billed = Actual.objects.select_for_update(of=("self",)).filter(
        invoice=original, transaction_type=TransactionType.BILLED_SALES, adjustment_status=AdjustmentStatus.NONE,
        quantity__gt=0, correction_detail__isnull=True)
    if detail_ids:
        billed = billed.filter(invoice_line_detail_id__in=detail_ids)
    billed = list(billed.order_by("pk"))
    if not billed:
        raise DomainError(_("Nothing on %(number)s is left to correct: every billed sale selected is already "
                            "corrected or on a corrective draft.") % {"number": original.number})

    if into_invoice_id:
        target = Invoice.objects.select_for_update().get(pk=into_invoice_id)
        if not target.is_editable or (target.contract_id, target.customer_id) != (original.contract_id,
                                                                                 original.customer_id):
            raise DomainError(_("Corrections can only be added to a draft of the same contract and customer."))
        target.has_corrections = True
        target.save(update_fields=["has_corrections"])
    else:
        target = Invoice.objects.create(
            number=next_invoice_number(), name=_("Correction of %(number)s") % {"number": original.number},
            contract_id=original.contract_id, customer_id=original.customer_id, currency=original.currency,
            invoice_date=timezone.localdate(), created_by=by, has_corrections=True, corrects=original,
        )
        InvoiceLine.objects.bulk_create(InvoiceLine(invoice=target, contract_line=line)
                                        for line in original.contract.lines.all())
    lines = {line.contract_line_id: line for line in InvoiceLine.objects.filter(invoice=target)}
    InvoiceLineDetail.objects.bulk_create(
        InvoiceLineDetail(
            invoice_line=lines[sale.contract_line_id], invoice=target, corrected_billed=sale,
            milestone_id=sale.milestone_id,
            transaction_class=sale.transaction_class, billing_type=sale.billing_type,
            transaction_date=sale.transaction_date, description=sale.description, quantity=0, price=sale.price,
            amount=-sale.amount, currency=sale.currency,  # quantity 0: "credit everything" until edited
        )
        for sale in billed
    )
    recompute_totals(invoice=target)
    return target
