"""Whole-system invariants across both databases (issue #5). Each check returns its violations.

Work still in flight is not a violation: changes younger than the grace period are left alone
(the schedule uses DUALWRITE["STUCK_MINUTES"]; tests and the command can use 0).
"""

from dataclasses import asdict, dataclass
from datetime import timedelta

from django.db import connections
from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from dataverse.models import Actual, BillingStatus, BillingType, Invoice, InvoiceLineDetail, TransactionType
from finance.models import InvoiceProposal, InvoiceProposalLine, LedgerEntry

from .models import InvariantCheck

SAMPLE = 20  # offenders named per rule; the count says how many there are


@dataclass
class Violation:
    rule: str
    count: int
    examples: list


def _violation(rule, offenders, *, count=None):
    """A rule's violation from (a sample of) its offenders; `count` when the sample is not all of them."""
    offenders = list(offenders)
    count = len(offenders) if count is None else count
    return [Violation(rule, count, [str(o) for o in offenders[:SAMPLE]])] if count else []


# Per invoice: how many synced billed sales, and an order-independent checksum of their keys. The two
# databases cannot be joined, so each side aggregates by invoice and only invoices whose aggregates
# differ are looked at row by row: memory grows with the invoices and the offenders, not the actuals.
BILLED_BY_INVOICE_SQL = """
SELECT i.number, count(*), sum(hashtextextended(a.uuid::text, 0))
  FROM dataverse_actual a JOIN dataverse_invoice i ON i.id = a.invoice_id
 WHERE a.transaction_type = 'billed_sales' AND NOT a.skip_sync AND a.created_at < %s
 GROUP BY i.number
"""
LINES_BY_PROPOSAL_SQL = """
SELECT p.number, count(*), sum(hashtextextended(s.dataverse_actual_id::text, 0))
  FROM finance_invoiceproposalline l
  JOIN finance_invoiceproposal p ON p.id = l.proposal_id
  JOIN finance_actualstaging s ON s.id = l.staging_id
 WHERE p.number = ANY(%s)
 GROUP BY p.number
"""


def _rows(using, sql, params):
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def billed_actuals_invoiced_once(cutoff):
    """Every billed sale is on exactly one confirmed (or posted) invoice and one proposal line.

    "At most one line" is the database's: one staging row per actual, one line per staging row.
    """
    billed = Actual.objects.filter(transaction_type=TransactionType.BILLED_SALES, skip_sync=False,
                                   created_at__lt=cutoff)
    not_confirmed = billed.exclude(invoice__status__in=[Invoice.Status.CONFIRMED, Invoice.Status.POSTED])
    violations = _violation("billed sale not on a confirmed invoice",
                            not_confirmed.values_list("uuid", flat=True)[:SAMPLE], count=not_confirmed.count())
    expected = {number: (count, checksum) for number, count, checksum in
                _rows("default", BILLED_BY_INVOICE_SQL, [cutoff])}
    found = {number: (count, checksum) for number, count, checksum in
             _rows("finance", LINES_BY_PROPOSAL_SQL, [list(expected)])}
    differing = sorted(number for number, aggregate in expected.items() if found.get(number) != aggregate)
    described = (f"{n}: {expected[n][0]} billed, {found.get(n, (0,))[0]} on proposal lines" for n in differing)
    return violations + _violation("billed sales differ from the proposal lines", described, count=len(differing))


def invoice_totals_match_details(cutoff):
    chargeable = Q(billing_type=BillingType.CHARGEABLE)
    detail_sum = (InvoiceLineDetail.objects.filter(chargeable, invoice=OuterRef("pk")).values("invoice")
                  .annotate(total=Sum(F("amount") + F("tax"))).values("total"))
    wrong = Invoice.objects.annotate(expected=Coalesce(Subquery(detail_sum), 0)).exclude(total=F("expected"))
    # Finance's chargeability is its line property's (D42), not Dataverse's billing type.
    line_sum = InvoiceProposalLine.objects.filter(proposal=OuterRef("pk"), chargeable=True).values(
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
    # The invoiced staging rows of a posted proposal are exactly its invoice's synced billed sales.
    without_voucher = (Actual.objects.filter(invoice__number__in=posted, transaction_type=TransactionType.BILLED_SALES,
                                             skip_sync=False, voucher="")
                       .values("invoice__number").annotate(n=Count("pk")).order_by("invoice__number"))
    described = [f"{row['invoice__number']}: {row['n']}" for row in without_voucher]
    return (_violation("posted proposal not written back to its proforma", not_summarised)
            + _violation("invoiced actuals without their voucher in Dataverse", described,
                         count=sum(row["n"] for row in without_voucher)))


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
