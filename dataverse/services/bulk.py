"""Bulk work across contracts and invoices: create invoices, confirm invoices (domain.md §2.5, §2.7).

Bulk confirmation is scheduled and then done by the workers one invoice at a time, each in its own
transaction with its own status, so one failure never stops the others and there is no cap of 250.
"""

import logging
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _
from django_q.tasks import async_task

from projinv.domain import DomainError

from ..models import Invoice, ProjectContract
from ..reasons import code_of
from .invoicing import confirm_proforma, create_proforma_invoices

Bulk = Invoice.BulkStatus
log = logging.getLogger(__name__)


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
               .exclude(bulk_status=Bulk.SCHEDULED).values_list("pk", flat=True))
    if not ids:
        raise DomainError(_("None of the selected invoices is a draft waiting to be confirmed."))
    Invoice.objects.filter(pk__in=ids).update(bulk_status=Bulk.SCHEDULED, bulk_reason="", bulk_params=None)
    transaction.on_commit(lambda: [async_task("dataverse.tasks.confirm_scheduled", pk, by.pk,
                                              group="bulk-confirmation") for pk in ids], robust=True)
    return len(ids)


def confirm_scheduled(*, invoice_id: int, user_id: int) -> str:
    """The worker's part: Scheduled → Complete, or Failed with the reason (the invoice stays a draft).

    The status and the confirmation commit together, under the invoice's row lock, so a crash or a
    timeout leaves the invoice Scheduled (the task runs again), never half-done. Running it twice, or
    after it finished, changes nothing.
    """
    try:
        with transaction.atomic():
            invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
            if invoice.bulk_status != Bulk.SCHEDULED:
                return invoice.bulk_status
            confirm_proforma(invoice_id=invoice_id, by=get_user_model().objects.get(pk=user_id))
            Invoice.objects.filter(pk=invoice_id).update(bulk_status=Bulk.COMPLETE)
            return Bulk.COMPLETE
    except DomainError as error:
        code, params = code_of(error)
    except Exception as error:  # noqa: BLE001 - recorded for a person to see; the invoice stays a draft
        log.exception("Bulk confirmation of invoice %s failed", invoice_id)
        code, params = code_of(error)
    # A code and its parameters, put into words when a person reads them (dataverse/reasons.py).
    Invoice.objects.filter(pk=invoice_id, bulk_status=Bulk.SCHEDULED).update(
        bulk_status=Bulk.FAILED, bulk_reason=code, bulk_params={k: str(v)[:500] for k, v in params.items()})
    return Bulk.FAILED
