"""Whole-system invariants across both databases (issue #5). Each check returns its violations.

Work still in flight is not a violation: changes younger than the grace period are left alone
(the schedule uses DUALWRITE["STUCK_MINUTES"]; tests and the command can use 0).
"""

from dataclasses import asdict, dataclass
from datetime import timedelta

from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from dataverse.models import Actual, BillingStatus, BillingType, Invoice, InvoiceLineDetail, TransactionType
from finance.models import ActualStaging, InvoiceProposal, InvoiceProposalLine, LedgerEntry

from .models import InvariantCheck

SAMPLE = 20  # offenders named per rule; the count says how many there are


@dataclass
class Violation:
    rule: str
    count: int
    examples: list


def _violation(rule, offenders):
    offenders = list(offenders)
    return [Violation(rule, len(offenders), [str(o) for o in offenders[:SAMPLE]])] if offenders else []


def billed_actuals_invoiced_once(cutoff):
    """Every billed sale is on exactly one confirmed (or posted) invoice and one proposal line."""
    billed = Actual.objects.filter(transaction_type=TransactionType.BILLED_SALES, skip_sync=False,
                                   created_at__lt=cutoff)
    not_confirmed = billed.exclude(invoice__status__in=[Invoice.Status.CONFIRMED, Invoice.Status.POSTED])
    violations = _violation("billed sale not on a confirmed invoice", not_confirmed.values_list("uuid", flat=True))
    on_lines = dict(InvoiceProposalLine.objects.values_list("staging__dataverse_actual_id")
                    .annotate(n=Count("pk")).values_list("staging__dataverse_actual_id", "n"))
    uuids = list(billed.values_list("uuid", flat=True))
    violations += _violation("billed sale without a proposal line", [u for u in uuids if u not in on_lines])
    violations += _violation("billed sale on more than one proposal line", [u for u, n in on_lines.items() if n > 1])
    return violations


def invoice_totals_match_details(cutoff):
    chargeable = Q(billing_type=BillingType.CHARGEABLE)
    detail_sum = (InvoiceLineDetail.objects.filter(chargeable, invoice=OuterRef("pk")).values("invoice")
                  .annotate(total=Sum(F("amount") + F("tax"))).values("total"))
    wrong = Invoice.objects.annotate(expected=Coalesce(Subquery(detail_sum), 0)).exclude(total=F("expected"))
    line_sum = InvoiceProposalLine.objects.filter(proposal=OuterRef("pk"), billing_type=BillingType.CHARGEABLE).values(
        "proposal").annotate(total=Sum("amount")).values("total")
    wrong_proposals = InvoiceProposal.objects.exclude(status=InvoiceProposal.Status.HEADER_ONLY).annotate(
        expected=Coalesce(Subquery(line_sum), 0)).exclude(amount=F("expected"))
    return (_violation("proforma total differs from its details", wrong.values_list("number", flat=True))
            + _violation("proposal amount differs from its lines", wrong_proposals.values_list("number", flat=True)))


def vouchers_balance(cutoff):
    unbalanced = (LedgerEntry.objects.values("voucher__number", "currency")
                  .annotate(cur=Sum("amount"), mst=Sum("accounting_amount"))
                  .filter(~Q(cur=0) | ~Q(mst=0)))
    return _violation("voucher does not balance", (row["voucher__number"] for row in unbalanced))


def posted_proposals_written_back(cutoff):
    posted = dict(InvoiceProposal.objects.filter(status=InvoiceProposal.Status.POSTED, posted_at__lt=cutoff)
                  .values_list("number", "invoice__number"))
    summaries = dict(Invoice.objects.filter(number__in=posted).values_list("number", "customer_invoice_number"))
    not_summarised = [n for n, invoice in posted.items() if summaries.get(n) != invoice]
    invoiced = set(ActualStaging.objects.filter(invoice_number__in=posted, status=ActualStaging.Status.INVOICED)
                   .values_list("dataverse_actual_id", flat=True))
    without_voucher = Actual.objects.filter(uuid__in=invoiced, voucher="").values_list("uuid", flat=True)
    return (_violation("posted proposal not written back to its proforma", not_summarised)
            + _violation("invoiced actual without its voucher in Dataverse", without_voucher))


def nothing_both_unbilled_and_billed(cutoff):
    open_statuses = [BillingStatus.UNBILLED_SALES_CREATED, BillingStatus.READY_TO_INVOICE]
    both = Actual.objects.filter(
        transaction_type=TransactionType.UNBILLED_SALES, adjustment_status="", billing_status__in=open_statuses,
        connections_as_second__transaction1__transaction_type=TransactionType.BILLED_SALES,
    ).values_list("uuid", flat=True).distinct()
    return _violation("unbilled sale still open although billed", both)


CHECKS = [billed_actuals_invoiced_once, invoice_totals_match_details, vouchers_balance,
          posted_proposals_written_back, nothing_both_unbilled_and_billed]


def check_invariants(*, grace_minutes: int, triggered_by: str) -> InvariantCheck:
    cutoff = timezone.now() - timedelta(minutes=grace_minutes)
    violations = [v for check in CHECKS for v in check(cutoff)]
    return InvariantCheck.objects.create(ok=not violations, violations=[asdict(v) for v in violations],
                                         triggered_by=triggered_by)
