"""Scheduled invoice runs (domain.md §2.5): the recurring job that makes invoices on their run date.

Single-flight (a PostgreSQL advisory lock: "the recurring job must be started only once") and
idempotent: a schedule row runs once, under a row lock, so running the same day twice, or two runs
at once, makes no second invoice.
"""

from itertools import groupby

from django.db import connection, transaction
from django.utils import timezone

from projinv.domain import DomainError

from ..models import InvoiceSchedule
from ..reasons import Reason, code_of
from .invoicing import NothingToInvoice, create_proforma_invoices

RUN_LOCK = 0x70726F6A696E7632  # "projinv2"
Status = InvoiceSchedule.RunStatus


def run_invoice_schedules(*, today=None, by) -> list[InvoiceSchedule]:
    """Run every schedule row due by `today` that has not run; returns the rows it ran."""
    today = today or timezone.localdate()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [RUN_LOCK])
            if not cursor.fetchone()[0]:
                return []  # another run is at it; it will do these rows
        due = list(InvoiceSchedule.objects.select_for_update(skip_locked=True, of=("self",))
                   .filter(run_status=Status.NOT_RUN, run_date__lte=today)
                   .select_related("contract_line").order_by("contract_line__contract_id", "run_date", "pk"))
        # Lines of one contract that share a run date go onto one invoice (per contract customer).
        for (contract_id, _run_date), rows in groupby(due, key=lambda r: (r.contract_line.contract_id, r.run_date)):
            _run(contract_id, list(rows), by=by)
    return due


def _run(contract_id, rows, *, by):
    now = timezone.now()
    try:
        with transaction.atomic():  # a savepoint: a failed run leaves the others standing
            invoices = create_proforma_invoices(contract_id=contract_id, by=by, invoice_date=rows[0].run_date,
                                                contract_line_ids=[r.contract_line_id for r in rows],
                                                cutoff=rows[0].cutoff_date)
        status, code, params = Status.SUCCESSFUL, Reason.INVOICES_CREATED, {
            "numbers": ", ".join(i.number for i in invoices)}
    except NothingToInvoice as nothing:  # nothing to bill means no invoice: a successful run (§2.5)
        status, (code, params) = Status.SUCCESSFUL, code_of(nothing)
    except DomainError as error:
        status, (code, params) = Status.FAILED, code_of(error)
    # A code and parameters, put into words when read (dataverse/reasons.py): the job has no reader.
    InvoiceSchedule.objects.filter(pk__in=[r.pk for r in rows]).update(
        run_status=status, result_code=code, result_params={k: str(v)[:500] for k, v in params.items()}, ran_at=now)
