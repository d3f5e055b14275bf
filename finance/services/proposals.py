"""The accountant's work on a proposal before posting (domain.md §2.9.1–2): accounting edits only."""

from datetime import date, timedelta

from django.db import connections, transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from projinv.domain import DomainError, InvalidTransition

from ..models import (
    ActualStaging,
    InvoiceProposal,
    ItemSalesTaxGroup,
    LegalEntity,
    ProjectTransaction,
    SalesTaxGroup,
)
from ..selectors import payment_days
from .importing import LINE_TAX, RELEASE_ON_ACCOUNT_SQL, TAX_RATE_JOINS


def _open_proposal(proposal_id: int, *, allow_header_only=False) -> InvoiceProposal:
    proposal = InvoiceProposal.objects.select_for_update().get(pk=proposal_id)
    allowed = {InvoiceProposal.Status.OPEN} | ({InvoiceProposal.Status.HEADER_ONLY} if allow_header_only else set())
    if proposal.status not in allowed:
        raise InvalidTransition(_("Proposal %(number)s is %(status)s and cannot be changed.")
                                % {"number": proposal.number, "status": proposal.get_status_display()})
    return proposal


@transaction.atomic(using="finance")
def set_dates(*, proposal_id: int, invoice_date: date, due_date: date | None, by: str) -> InvoiceProposal:
    """Change the invoice date (the due date follows the terms of payment) or override the due date."""
    proposal = _open_proposal(proposal_id, allow_header_only=True)
    if invoice_date is None:
        raise DomainError(_("An invoice date is required."))
    if due_date is None or (invoice_date != proposal.invoice_date and due_date == proposal.due_date):
        # A new invoice date recalculates the due date from the terms of payment and drops a manual
        # one (BR-25), unless a new due date is given with it.
        due_date = invoice_date + timedelta(days=payment_days(legal_entity=proposal.legal_entity,
                                                              customer_number=proposal.customer_number))
    if due_date < invoice_date:
        raise DomainError(_("The due date cannot be before the invoice date."))
    proposal.invoice_date, proposal.due_date = invoice_date, due_date
    proposal.save(update_fields=["invoice_date", "due_date"])
    return proposal


@transaction.atomic(using="finance")
def delete_all_lines(*, proposal_id: int, by: str) -> int:
    """Delete all lines (domain.md §2.9.2): the proposal is a header again, its transactions and
    staging rows are free, and the next Import from staging re-creates the lines."""
    proposal = _open_proposal(proposal_id)
    lines = proposal.lines.all()
    ProjectTransaction.objects.filter(pk__in=lines.values("project_transaction"),
                                      status=ProjectTransaction.Status.INVOICE_PROPOSAL).update(
        status=ProjectTransaction.Status.POSTED)
    ActualStaging.objects.filter(pk__in=lines.values("staging")).update(status=ActualStaging.Status.RECEIVED)
    with connections["finance"].cursor() as cursor:
        cursor.execute(RELEASE_ON_ACCOUNT_SQL, {"proposal": proposal.pk})  # as net invoiced before it (D51)
    count, _deleted = lines.delete()
    proposal.status, proposal.amount, proposal.tax, proposal.lines_imported_at = (
        InvoiceProposal.Status.HEADER_ONLY, 0, 0, None)
    proposal.save(update_fields=["status", "amount", "tax", "lines_imported_at"])
    return count


RETAX_SQL = f"""
UPDATE finance_invoiceproposalline l
   SET sales_tax_group = %(sales)s, item_tax_group = %(item)s,
       tax = {LINE_TAX.format(line="l", chargeable="l.chargeable")}
  FROM finance_invoiceproposal p
  JOIN finance_legalentity le ON le.code = p.legal_entity
  {TAX_RATE_JOINS.format(sales_group="%(sales)s", item_group="%(item)s")}
 WHERE l.proposal_id = p.id AND p.id = %(proposal)s AND l.id = ANY(%(lines)s)
"""


@transaction.atomic(using="finance")
def set_tax_groups(*, proposal_id: int, line_ids, sales_tax_group: str, item_tax_group: str, by: str) -> int:
    """Change the sales tax group and item sales tax group of lines; their tax and the total follow."""
    proposal = _open_proposal(proposal_id)
    entity = LegalEntity.objects.get(code=proposal.legal_entity)
    for model, code, label in ((SalesTaxGroup, sales_tax_group, _("sales tax group")),
                               (ItemSalesTaxGroup, item_tax_group, _("item sales tax group"))):
        if code and not model.objects.filter(legal_entity=entity, code=code).exists():
            raise DomainError(_("There is no %(what)s %(code)s in %(entity)s.")
                              % {"what": label, "code": code, "entity": entity.code})
    line_ids = list(proposal.lines.filter(pk__in=line_ids).values_list("pk", flat=True))
    if not line_ids:
        raise DomainError(_("Select the lines to change."))
    with connections["finance"].cursor() as cursor:
        cursor.execute(RETAX_SQL, {"sales": sales_tax_group, "item": item_tax_group, "proposal": proposal.pk,
                                   "lines": line_ids})
        changed = cursor.rowcount
    proposal.tax = proposal.lines.filter(chargeable=True).aggregate(t=Sum("tax"))["t"] or 0
    proposal.save(update_fields=["tax"])
    return changed
