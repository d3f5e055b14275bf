"""Compare the two systems: per invoice, per period, and the actuals still without a voucher.

Reads both databases (only the bridge may) with a few aggregate queries per page, and offers
resyncs that are safe to press twice: they queue the same changes again, and the receiving
side's business keys make a second delivery a no-op.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import Count, F, Max, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dataverse import selectors as dataverse_selectors
from dataverse.models import OPEN_BILLING_STATUSES, Actual, AdjustmentStatus, Invoice, TransactionType
from finance import selectors as finance_selectors
from finance.models import ActualStaging, InvoiceProposal, ProjectInvoice, ProjectTransaction

from . import outbox
from .maps import ACTUALS, ACTUALS_WRITE_BACK, INVOICE_PROPOSAL_V2, TRANSACTION_CONNECTIONS


@dataclass
class Stage:
    name: str
    at: datetime | None
    lag: timedelta | None = None
    stuck: bool = False
    progress: str = ""  # "n / m" while a large invoice travels in chunks


STAGES = [_("Confirmed"), _("Header synced"), _("Actuals staged"), _("Lines imported"), _("Posted"),
          _("Written back")]


def pipeline(invoice_number: str) -> list[Stage]:
    """Where one invoice is on its way: each stage with its time, the lag from the previous, and
    a stuck flag when the next stage has not come DUALWRITE["STUCK_MINUTES"] after the last one."""
    invoice = Invoice.objects.filter(number=invoice_number).values("confirmed_at", "posted_at").first() or {}
    proposal = (InvoiceProposal.objects.filter(number=invoice_number)
                .values("received_at", "lines_imported_at", "posted_at", "expected_line_count").first() or {})
    staged = ActualStaging.objects.filter(invoice_number=invoice_number,
                                          transaction_type=TransactionType.BILLED_SALES).aggregate(
        n=Count("pk"), last=Max("received_at"))
    written = Actual.objects.filter(invoice__number=invoice_number, transaction_type=TransactionType.BILLED_SALES,
                                    skip_sync=False).aggregate(
        total=Count("pk"), missing=Count("pk", filter=Q(written_back_at=None)), last=Max("written_back_at"))
    all_staged = proposal and staged["n"] == proposal["expected_line_count"] and staged["n"]
    times = [
        invoice.get("confirmed_at"),
        proposal.get("received_at"),
        staged["last"] if all_staged else None,
        proposal.get("lines_imported_at"),
        proposal.get("posted_at"),
        max(filter(None, [invoice.get("posted_at"), written["last"]]), default=None)
        if invoice.get("posted_at") and not written["missing"] else None,
    ]
    progress = ["", "", f"{staged['n']} / {proposal['expected_line_count']}" if proposal else "", "", "",
                f"{written['total'] - written['missing']} / {written['total']}"]
    threshold = timedelta(minutes=settings.DUALWRITE["STUCK_MINUTES"])
    now, stages, previous = timezone.now(), [], None
    for name, at, done in zip(STAGES, times, progress, strict=True):
        # Only the first missing stage can be stuck: the ones after it are simply not there yet.
        stuck = at is None and previous is not None and now - previous > threshold
        stages.append(Stage(str(name), at, at - previous if at and previous else None, stuck, done))
        previous = at
    return stages


def _billed(invoice_ids) -> dict[int, dict]:
    """Count and amount of the invoices' synced billed sales, per invoice id: one grouped query on
    the partial index of billed sales by invoice (D33), without joining the invoices."""
    qs = Actual.objects.filter(transaction_type=TransactionType.BILLED_SALES, skip_sync=False,
                               invoice_id__in=invoice_ids)
    return {row["invoice_id"]: row for row in qs.order_by().values("invoice_id").annotate(
        count=Count("pk"), amount=Sum("amount"))}


def compare_invoices(invoice_numbers) -> list[dict]:
    """Proforma vs proposal vs posted invoice totals, billed actuals vs proposal lines."""
    proformas = {i["number"]: i for i in Invoice.objects.filter(number__in=invoice_numbers)
                 .values("pk", "number", "amount", "total", "currency", "status", "confirmed_at")}
    proposals = {p["number"]: p for p in InvoiceProposal.objects.filter(number__in=invoice_numbers).annotate(
        line_count=Count("lines"), line_amount=Sum("lines__amount")).values(
        "pk", "number", "amount", "tax", "status", "line_count", "line_amount")}
    posted = {p["proposal__number"]: p for p in ProjectInvoice.objects.filter(
        proposal__number__in=invoice_numbers).values("proposal__number", "number", "amount", "tax", "total")}
    billed = _billed([proforma["pk"] for proforma in proformas.values()])
    rows = []
    for number in sorted(proformas):
        proforma, proposal = proformas[number], proposals.get(number, {})
        invoice, sales = posted.get(number, {}), billed.get(proforma["pk"], {"count": 0, "amount": 0})
        row = {
            "number": number, "proforma": proforma, "proposal": proposal, "invoice": invoice,
            "billed_count": sales["count"], "billed_amount": sales["amount"] or 0,
            "line_count": proposal.get("line_count", 0), "line_amount": proposal.get("line_amount") or 0,
        }
        row["differences"] = [d for d in _differences(row) if d]
        rows.append(row)
    return rows


def _differences(row):
    """Amounts are compared before tax: finance computes the tax (domain.md §10 Q3, decision D24)."""
    proposal, invoice = row["proposal"], row["invoice"]
    yield None if proposal else _("no proposal in finance")
    if proposal and proposal["status"] != InvoiceProposal.Status.HEADER_ONLY:
        yield None if proposal["amount"] == row["proforma"]["amount"] else _(
            "proposal total differs from the proforma")
        yield None if row["line_count"] == row["billed_count"] else _("proposal lines ≠ billed actuals (count)")
        yield None if row["line_amount"] == row["billed_amount"] else _("proposal lines ≠ billed actuals (amount)")
    elif proposal:
        yield _("proposal has no lines yet")
    if invoice:
        yield None if invoice["amount"] == row["proforma"]["amount"] else _("posted invoice differs from the proforma")


INVOICES_PER_PAGE = 100


def compare_period(first_day: date, *, page=1) -> Page:
    """One page of the invoices confirmed in the month of `first_day`, in number order, each compared
    (`compare_invoices`). A month can hold thousands of invoices: comparing and listing them all took
    1.5 s for 6,000 (issue #6's volumes), and no one reads a table that long."""
    next_month = (first_day.replace(day=28) + timedelta(days=4)).replace(day=1)
    numbers = (Invoice.objects.filter(confirmed_at__date__gte=first_day, confirmed_at__date__lt=next_month)
               .order_by("number").values_list("number", flat=True))
    page = Paginator(numbers, INVOICES_PER_PAGE).get_page(page)
    page.object_list = compare_invoices(list(page.object_list))
    return page


def actuals_without_voucher(*, older_than_minutes=None, limit=200):
    """Synced actuals with no accounting details yet, older than the threshold. No time window.

    The count, and the first `limit` of them by id as plain rows (pk, transaction type and its
    label, project, invoice, created, amount, currency): read on the partial index of the same rows
    by id, with no model instance built and no `get_FOO_display()` per row (D33)."""
    minutes = settings.DUALWRITE["STUCK_MINUTES"] if older_than_minutes is None else older_than_minutes
    qs = Actual.objects.filter(skip_sync=False, voucher="", created_at__lt=timezone.now() - timedelta(minutes=minutes))
    examples = list(qs.order_by("pk").values("pk", "transaction_type", "created_at", "amount", "currency",
                                             project_number=F("project__number"),
                                             invoice_number=F("invoice__number"))[:limit])
    labels = {value: str(label) for value, label in TransactionType.choices}
    for row in examples:
        row["transaction_type_label"] = labels.get(row["transaction_type"], row["transaction_type"])
    return qs.count(), examples


def backlog_vs_wip() -> list[dict]:
    """Per project: Dataverse's open unbilled sales against finance's posted, not yet invoiced WIP."""
    # The backlog's open statuses, as its partial index has them: the sums read backlog rows only (D33).
    backlog = dict(Actual.objects.filter(transaction_type=TransactionType.UNBILLED_SALES, skip_sync=False,
                                         adjustment_status=AdjustmentStatus.NONE,
                                         billing_status__in=OPEN_BILLING_STATUSES)
                   .values_list("project__number").annotate(total=Sum("amount")).values_list("project__number",
                                                                                              "total"))
    wip = dict(ProjectTransaction.objects.filter(transaction_type=TransactionType.UNBILLED_SALES,
                                                 status=ProjectTransaction.Status.POSTED)
               .values_list("project_number").annotate(total=Sum("amount")).values_list("project_number", "total"))
    return [{"project": p, "backlog": backlog.get(p, 0), "wip": wip.get(p, 0),
             "difference": (backlog.get(p) or 0) - (wip.get(p) or 0)} for p in sorted(set(backlog) | set(wip))]


def wip_summary() -> dict:
    """The backlog against WIP as the page shows it: the projects that differ, how many are in step,
    and the totals (thousands of projects in step are no news; finance's WIP report lists them all)."""
    rows = backlog_vs_wip()
    differing = [row for row in rows if row["difference"]]
    return {"differing": differing, "in_step": len(rows) - len(differing),
            "backlog": sum(row["backlog"] for row in rows), "wip": sum(row["wip"] for row in rows)}


RESYNC_LIMIT = 10_000  # actuals one "resync all without voucher" queues again


def resync_actuals(actual_ids=None) -> dict:
    """Queue the actuals to finance again, and their accounting details back where finance has them.

    None: every actual the reconciliation page lists as without its voucher (up to RESYNC_LIMIT).
    """
    if actual_ids is None:
        actual_ids = [a["pk"] for a in actuals_without_voucher(limit=RESYNC_LIMIT)[1]]
    with transaction.atomic():
        sent = outbox.record_rows(ACTUALS, dataverse_selectors.synced_actual_rows(actual_ids))
        # After the actuals, as at confirmation: a billed sale is linked by its connection only.
        outbox.record_rows(TRANSACTION_CONNECTIONS, dataverse_selectors.transaction_connection_rows(actual_ids))
    uuids = Actual.objects.filter(pk__in=actual_ids).values_list("uuid", flat=True)
    posted = ActualStaging.objects.filter(dataverse_actual_id__in=list(uuids)).exclude(voucher="")
    with transaction.atomic(using="finance"):
        back = outbox.record_rows(ACTUALS_WRITE_BACK,
                                  finance_selectors.accounting_details(posted.values_list("pk", flat=True)))
    return {"to_finance": sum(c.row_count for c in sent), "back": sum(c.row_count for c in back)}


def resync_invoice(invoice_number: str) -> dict:
    """Queue an invoice's header (if finance lacks it) and billed sales again, and their write-back."""
    invoice = Invoice.objects.select_related("contract", "customer").get(number=invoice_number)
    if invoice.confirmed_at and not InvoiceProposal.objects.filter(number=invoice_number).exists():
        with transaction.atomic():
            outbox.record(INVOICE_PROPOSAL_V2, key=invoice.number, payload=dataverse_selectors.invoice_header(invoice))
    ids = Actual.objects.filter(invoice=invoice, transaction_type=TransactionType.BILLED_SALES,
                                skip_sync=False).values_list("pk", flat=True)
    return resync_actuals(list(ids))
