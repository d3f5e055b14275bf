"""Post a project invoice proposal: invoice, customer transaction, balanced voucher (domain.md §2.9)."""

import logging
from dataclasses import dataclass
from datetime import date

from django.db import connections, transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from projinv.domain import DomainError
from projinv.money import round_money

from ..models import (
    CustomerTransaction,
    ExchangeRate,
    FiscalPeriod,
    InvoiceProposal,
    LedgerEntry,
    LegalEntity,
    NumberSequence,
    ProjectInvoice,
    ProjectTransaction,
    Voucher,
)
from ..signals import accounting_details_ready, proposal_posted
from .importing import RELEASE_ON_ACCOUNT_SQL

log = logging.getLogger(__name__)

WRITE_ACCOUNTING_DETAILS_SQL = """
UPDATE finance_actualstaging s
   SET status = 'invoiced', voucher = %(voucher)s, posting_date = %(date)s, exchange_rate = %(rate)s,
       accounting_amount = projinv_round_money(s.amount * %(rate)s, %(accounting_currency)s),
       accounting_currency = %(accounting_currency)s, sales_tax_amount = l.tax
  FROM finance_invoiceproposalline l
 WHERE l.staging_id = s.id AND l.proposal_id = %(proposal)s
RETURNING s.id
"""


def exchange_rate(*, from_currency: str, to_currency: str, on: date):
    if from_currency == to_currency:
        return 1
    rate = (
        ExchangeRate.objects.filter(from_currency=from_currency, to_currency=to_currency, valid_from__lte=on)
        .order_by("-valid_from").values_list("rate", flat=True).first()
    )
    if rate is None:
        raise DomainError(
            _("No exchange rate from %(from)s to %(to)s on %(date)s.") % {"from": from_currency, "to": to_currency,
                                                                           "date": on}
        )
    return rate


def open_posting_date(legal_entity: LegalEntity, on: date) -> date:
    """The date to post on: `on`, or, when it falls in a closed period, the first day of the next open
    period if the legal entity allows it (BR-24); otherwise the posting is refused."""
    closed = FiscalPeriod.objects.filter(legal_entity=legal_entity, closed=True, start__lte=on, end__gte=on).first()
    if closed is None:
        return on
    next_open = (FiscalPeriod.objects.filter(legal_entity=legal_entity, closed=False, start__gt=closed.end)
                 .order_by("start").values_list("start", flat=True).first())
    if not legal_entity.roll_to_open_period or next_open is None:
        raise DomainError(_("No open fiscal period for %(date)s in %(entity)s (%(period)s is closed).")
                          % {"date": on, "entity": legal_entity.code, "period": closed.name})
    return next_open


@transaction.atomic(using="finance")
def post_proposal(*, proposal_id: int, by: str) -> ProjectInvoice:
    proposal = InvoiceProposal.objects.select_for_update().get(pk=proposal_id)
    proposal.mark_posted(by=by)  # raises InvalidTransition unless Open
    legal_entity = LegalEntity.objects.select_related("posting_setup").filter(code=proposal.legal_entity).first()
    if legal_entity is None or not hasattr(legal_entity, "posting_setup"):
        raise DomainError(_("Legal entity %(code)s has no posting set-up: set it up, then post.")
                          % {"code": proposal.legal_entity})
    setup = legal_entity.posting_setup
    accounting_currency = legal_entity.accounting_currency
    posting_date = open_posting_date(legal_entity, proposal.invoice_date)
    rate = exchange_rate(from_currency=proposal.currency, to_currency=accounting_currency, on=posting_date)

    lines = proposal.lines.all()
    # Each chargeable line is converted and rounded on its own; the AR debit is their sum, so the
    # voucher balances. Non-chargeable lines show on the invoice and make no revenue. Revenue goes to
    # invoiced revenue, a milestone's to its profile's on-account account (D49).
    zero = round_money(0, accounting_currency)
    revenues: dict[str, list] = {}
    for posting_type, amount in lines.filter(chargeable=True).values_list("revenue_posting", "amount"):
        mst, cur = revenues.setdefault(posting_type, [zero, 0])
        revenues[posting_type] = [mst + round_money(amount * rate, accounting_currency), cur + amount]
    revenue = sum((mst for mst, _cur in revenues.values()), start=zero)
    tax = round_money(proposal.tax * rate, accounting_currency)
    # WIP is reversed at the rate it was accrued with (domain.md §2.9.4), not today's.
    # The WIP this invoice consumes: its lines' transactions still on a proposal (a credit's are
    # already invoiced, their WIP long gone).
    consumed = ProjectTransaction.objects.filter(pk__in=lines.values("project_transaction"),
                                                 status=ProjectTransaction.Status.INVOICE_PROPOSAL)
    # Only WIP that was accrued (its journal voucher exists) is reversed, whatever the set-up says today.
    accrued = consumed.filter(voucher__in=Voucher.objects.values("number")).aggregate(
        mst=Sum("accounting_amount"), cur=Sum("amount"))

    voucher = Voucher.objects.create(
        number=_next_voucher_number(), legal_entity=legal_entity.code, date=posting_date,
        source=Voucher.Source.PROJECT_INVOICE, description=proposal.number,
    )

    def entry(account, posting_type, amount_mst, amount_cur):
        return LedgerEntry(voucher=voucher, account=account, posting_type=posting_type, amount=amount_cur,
                           currency=proposal.currency, accounting_amount=amount_mst,
                           accounting_currency=accounting_currency)

    P = LedgerEntry.PostingType
    entries = [entry(setup.customer_balance, P.CUSTOMER_BALANCE, revenue + tax, proposal.total)]
    for posting_type, (mst, cur) in sorted(revenues.items()) or [(P.INVOICED_REVENUE, (zero, 0))]:
        if not getattr(setup, posting_type):
            raise DomainError(_("The posting set-up of %(entity)s has no account for %(posting_type)s.")
                              % {"entity": legal_entity.code, "posting_type": P(posting_type).label})
        entries.append(entry(getattr(setup, posting_type), posting_type, -mst, -cur))
    if proposal.tax:
        entries.append(entry(setup.sales_tax, P.SALES_TAX, -tax, -proposal.tax))
    if accrued["mst"]:
        entries += [entry(setup.wip_sales_value, P.WIP_SALES_VALUE, -accrued["mst"], -accrued["cur"]),
                    entry(setup.accrued_revenue, P.ACCRUED_REVENUE, accrued["mst"], accrued["cur"])]
    LedgerEntry.objects.bulk_create(entries)
    if sum(e.accounting_amount for e in entries) != 0:  # by construction; refuse rather than post
        raise DomainError(_("Voucher %(voucher)s does not balance.") % {"voucher": voucher.number})

    invoice = ProjectInvoice.objects.create(
        legal_entity=legal_entity.code, proposal=proposal, voucher=voucher, customer_number=proposal.customer_number,
        number=NumberSequence.take(legal_entity=legal_entity, code="project_invoice", prefix="PINV-"),
        invoice_date=posting_date, due_date=max(proposal.due_date or posting_date, posting_date),
        currency=proposal.currency, amount=proposal.amount, tax=proposal.tax, total=proposal.total,
        exchange_rate=rate, accounting_total=revenue + tax, is_credit_note=proposal.total < 0,
    )
    CustomerTransaction.objects.create(
        legal_entity=legal_entity.code, customer_number=proposal.customer_number, invoice=invoice, voucher=voucher,
        date=invoice.invoice_date, due_date=invoice.due_date, amount=invoice.total, currency=invoice.currency,
        accounting_amount=invoice.accounting_total,
    )
    consumed.update(status=ProjectTransaction.Status.INVOICED)
    with connections["finance"].cursor() as cursor:
        cursor.execute(RELEASE_ON_ACCOUNT_SQL, {"proposal": proposal.pk})  # invoiced, or open again (D51)
        cursor.execute(WRITE_ACCOUNTING_DETAILS_SQL, {
            "voucher": voucher.number, "date": invoice.invoice_date, "rate": rate,
            "accounting_currency": accounting_currency, "proposal": proposal.pk,
        })
        staging_ids = [row[0] for row in cursor.fetchall()]
    accounting_details_ready.send(sender=InvoiceProposal, staging_ids=staging_ids)
    proposal_posted.send(sender=InvoiceProposal, proposal=proposal, invoice=invoice)
    return invoice


def _next_voucher_number() -> str:
    with connections["finance"].cursor() as cursor:
        cursor.execute("SELECT 'V-' || lpad(nextval('finance_voucher_number')::text, 8, '0')")
        return cursor.fetchone()[0]


@dataclass
class PostingResult:
    proposal: str
    invoice: str = ""
    error: str = ""


def post_proposals(*, proposal_ids, by: str) -> list[PostingResult]:
    """Post many proposals, each in its own transaction: one that fails leaves the others posted, and
    says why (the batch of domain.md §2.9.4; a proposal is never split)."""
    results = []
    for proposal in InvoiceProposal.objects.filter(pk__in=proposal_ids).order_by("pk").only("pk", "number"):
        try:
            invoice = post_proposal(proposal_id=proposal.pk, by=by)
        except DomainError as error:
            results.append(PostingResult(proposal.number, error=str(error)))
        except Exception as error:  # noqa: BLE001 - one proposal's failure never stops the batch
            log.exception("Posting proposal %s failed", proposal.number)
            results.append(PostingResult(proposal.number, error=f"{type(error).__name__}: {error}"))
        else:
            results.append(PostingResult(proposal.number, invoice=invoice.number))
    return results
