"""Bulk work across contracts and invoices: create invoices, confirm invoices (domain.md §2.5, §2.7).

Bulk confirmation is scheduled and then done by the workers one invoice at a time, each in its own
transaction with its own status, so one failure never stops the others and there is no cap of 250.
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _
from django_q.tasks import async_task

from projinv.domain import DomainError

from ..models import Invoice, ProjectContract
from .invoicing import confirm_proforma, create_proforma_invoices

Bulk = Invoice.BulkStatus


@dataclass
class ContractResult:
    contract: str
    invoices: list[str]
    error: str = ""


def create_invoices_for(*, contract_ids, by) -> list[ContractResult]:
    """One call of create_proforma_invoices per contract, each on its own: nothing ready is not fatal."""
    results = []
    for contract in ProjectContract.objects.filter(pk__in=contract_ids).order_by("number"):
        try:
            invoices = create_proforma_invoices(contract_id=contract.pk, by=by)
        except DomainError as error:
            results.append(ContractResult(contract.number, [], str(error)))
        else:
            results.append(ContractResult(contract.number, [i.number for i in invoices]))
    return results


@transaction.atomic
def schedule_confirmation(*, invoice_ids, by) -> int:
    """Mark drafts Scheduled and hand each to a worker after commit. Returns how many were scheduled."""
    ids = list(Invoice.objects.filter(pk__in=invoice_ids, status__in=Invoice.EDITABLE)
               .exclude(bulk_status__in=[Bulk.SCHEDULED, Bulk.PROCESSING]).values_list("pk", flat=True))
    if not ids:
        raise DomainError(_("None of the selected invoices is a draft waiting to be confirmed."))
    Invoice.objects.filter(pk__in=ids).update(bulk_status=Bulk.SCHEDULED, bulk_message="")
    transaction.on_commit(lambda: [async_task("dataverse.tasks.confirm_scheduled", pk, by.pk,
                                              group="bulk-confirmation") for pk in ids])
    return len(ids)


def confirm_scheduled(*, invoice_id: int, user_id: int) -> str:
    """The worker's part: Scheduled → Processing → Complete, or Failed with the reason (the invoice
    stays a draft). Running it twice, or after it finished, changes nothing."""
    claimed = Invoice.objects.filter(pk=invoice_id, bulk_status=Bulk.SCHEDULED).update(bulk_status=Bulk.PROCESSING)
    if not claimed:
        return Invoice.objects.filter(pk=invoice_id).values_list("bulk_status", flat=True).first() or ""
    try:
        confirm_proforma(invoice_id=invoice_id, by=get_user_model().objects.get(pk=user_id))
    except DomainError as error:
        Invoice.objects.filter(pk=invoice_id).update(bulk_status=Bulk.FAILED, bulk_message=str(error)[:500])
        return Bulk.FAILED
    Invoice.objects.filter(pk=invoice_id).update(bulk_status=Bulk.COMPLETE)
    return Bulk.COMPLETE
