"""Proforma invoices: create from the backlog, keep totals, confirm (domain.md §2.5–2.7)."""

from itertools import groupby

from django.db import connection, transaction
from django.db.models import DecimalField, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from projinv.domain import DomainError

from ..models import (
    Actual,
    AdjustmentStatus,
    BillingStatus,
    BillingType,
    Invoice,
    InvoiceLine,
    InvoiceLineDetail,
    Milestone,
    ProjectContract,
    TransactionClass,
    TransactionType,
)
from ..reasons import CodedError, Reason
from ..signals import proforma_confirmed
from .milestones import billable_parts, refresh_invoice_status


class NothingToInvoice(CodedError):
    """Nothing is ready: no invoice is made (a scheduled run counts that as a successful run)."""


def next_invoice_number() -> str:
    # A database sequence: unique across concurrent requests; gaps are fine on the Dataverse side.
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('dataverse_invoice_number')")
        return f"INV-{cursor.fetchone()[0]:06d}"


@transaction.atomic
def create_proforma_invoices(*, contract_id: int, by, invoice_date=None, contract_line_ids=None,
                             cutoff=None) -> list[Invoice]:
    """Put every Ready-to-invoice transaction of one contract on new drafts: one per contract
    customer that has some (domain.md §2.5, BR-14). A scheduled run limits it to its contract lines
    and to transactions dated up to the cut-off (BR-11)."""
    # Locking the contract serialises invoice creation per contract: two clicks, one set of invoices.
    contract = ProjectContract.objects.select_for_update().get(pk=contract_id)
    if contract.status != ProjectContract.Status.ACTIVE:
        raise CodedError(Reason.CONTRACT_NOT_ACTIVE, number=contract.number)
    ready = (Actual.objects.select_for_update()
             .filter(contract=contract, transaction_type=TransactionType.UNBILLED_SALES,
                     adjustment_status=AdjustmentStatus.NONE, billing_status=BillingStatus.READY_TO_INVOICE))
    if contract_line_ids is not None:
        ready = ready.filter(contract_line_id__in=contract_line_ids)
    if cutoff is not None:
        ready = ready.filter(transaction_date__lte=cutoff)
    ready = {customer_id: list(actuals) for customer_id, actuals in
             groupby(ready.order_by("customer_id", "transaction_date", "pk"), key=lambda actual: actual.customer_id)}
    # Ready milestones, dated up to the run date of a scheduled run (domain.md §2.5).
    milestones = Milestone.objects.select_for_update().filter(
        contract_line__contract=contract, invoice_status=Milestone.InvoiceStatus.READY)
    if contract_line_ids is not None:
        milestones = milestones.filter(contract_line_id__in=contract_line_ids)
    if cutoff is not None:
        milestones = milestones.filter(milestone_date__lte=invoice_date or cutoff)
    parts = billable_parts(list(milestones.order_by("milestone_date", "pk")), contract)
    if not ready and not parts:
        raise NothingToInvoice(Reason.NOTHING_READY, number=contract.number)
    contract_lines = list(contract.lines.all())
    invoices = []
    for customer_id in sorted(set(ready) | set(parts)):
        invoice = Invoice.objects.create(
            number=next_invoice_number(), name=contract.name, contract=contract, customer_id=customer_id,
            currency=contract.currency, invoice_date=invoice_date or timezone.localdate(), created_by=by,
        )
        InvoiceLine.objects.bulk_create(InvoiceLine(invoice=invoice, contract_line=line) for line in contract_lines)
        add_details(invoice=invoice, actuals=ready.get(customer_id, []))
        add_milestone_details(invoice=invoice, parts=parts.get(customer_id, []))
        recompute_totals(invoice=invoice)
        invoices.append(invoice)
    return invoices


def create_proforma_invoice(*, contract_id: int, by, invoice_date=None) -> Invoice:
    """The invoice of a contract with one customer (a convenience for its callers)."""
    invoices = create_proforma_invoices(contract_id=contract_id, by=by, invoice_date=invoice_date)
    if len(invoices) != 1:
        raise DomainError(_("Contract has several customers: %(count)d invoices were created.")
                          % {"count": len(invoices)})
    return invoices[0]


def add_details(*, invoice: Invoice, actuals: list[Actual]) -> None:
    """One detail per unbilled actual, on the invoice line of its contract line; the actual is now
    on this draft (Customer invoice created, stamped with the invoice)."""
    if not actuals:
        return
    lines = {line.contract_line_id: line for line in InvoiceLine.objects.filter(invoice=invoice)}
    InvoiceLineDetail.objects.bulk_create(
        InvoiceLineDetail(
            invoice_line=lines[actual.contract_line_id], invoice=invoice, actual=actual,
            transaction_class=actual.transaction_class, billing_type=actual.billing_type,
            transaction_date=actual.transaction_date, description=actual.description,
            quantity=actual.quantity, price=actual.price, amount=actual.amount, currency=actual.currency,
        )
        for actual in actuals
    )
    Actual.objects.filter(pk__in=[a.pk for a in actuals]).update(
        billing_status=BillingStatus.CUSTOMER_INVOICE_CREATED, invoice=invoice
    )


def add_milestone_details(*, invoice: Invoice, parts) -> None:
    """One detail per (milestone, amount left for this customer, tax); the milestones are now on a draft."""
    if not parts:
        return
    lines = {line.contract_line_id: line for line in InvoiceLine.objects.filter(invoice=invoice)}
    InvoiceLineDetail.objects.bulk_create(
        InvoiceLineDetail(
            invoice_line=lines[milestone.contract_line_id], invoice=invoice, milestone=milestone,
            transaction_class=TransactionClass.MILESTONE, billing_type=BillingType.CHARGEABLE,
            transaction_date=milestone.milestone_date, description=milestone.name, quantity=1, price=amount,
            amount=amount, tax=tax, currency=invoice.currency,
        )
        for milestone, amount, tax in parts
    )
    refresh_invoice_status(milestone_ids=[milestone.pk for milestone, _a, _t in parts])


def recompute_totals(*, invoice: Invoice) -> None:
    """Recompute line and header totals from the details in two statements (BR-20)."""
    zero = Value(0, output_field=DecimalField())

    def detail_sum(expression):
        return Coalesce(
            Subquery(
                InvoiceLineDetail.objects.filter(invoice_line=OuterRef("pk"), billing_type=BillingType.CHARGEABLE)
                .values("invoice_line").annotate(total=Sum(expression)).values("total")
            ),
            zero,
        )

    InvoiceLine.objects.filter(invoice=invoice).update(
        amount=detail_sum("amount"), tax=detail_sum("tax"), extended_amount=detail_sum(F("amount") + F("tax"))
    )
    totals = InvoiceLine.objects.filter(invoice=invoice).aggregate(amount=Sum("amount"), tax=Sum("tax"))
    invoice.amount, invoice.tax = totals["amount"] or 0, totals["tax"] or 0
    invoice.total = invoice.amount + invoice.tax
    invoice.save(update_fields=["amount", "tax", "total"])


@transaction.atomic
def confirm_proforma(*, invoice_id: int, by) -> Invoice:
    """Confirm a draft: one-way; the billing actuals are created by the signal's receiver."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
    if invoice.is_editable and not InvoiceLineDetail.objects.filter(invoice=invoice).exists():
        raise CodedError(Reason.NO_DETAILS, number=invoice.number)
    invoice.mark_confirmed(by=by)  # raises InvalidTransition unless Draft or In review
    proforma_confirmed.send(sender=Invoice, invoice=invoice)
    return invoice



@transaction.atomic
def set_in_review(*, invoice_id: int, in_review: bool, by) -> Invoice:
    """Draft ⇄ In review (domain.md §4.1); both stay editable and confirmable."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
    invoice.mark_in_review() if in_review else invoice.mark_draft()  # raise InvalidTransition otherwise
    return invoice
