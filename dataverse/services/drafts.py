"""Editing a draft proforma invoice (domain.md §2.6): details, deletion, refresh. Totals follow."""

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from projinv.domain import DomainError, InvalidTransition
from projinv.money import round_money

from ..models import (
    Actual,
    AdjustmentStatus,
    BillingStatus,
    BillingType,
    Invoice,
    InvoiceLine,
    InvoiceLineDetail,
    Milestone,
    ResourceRole,
    TransactionCategory,
    TransactionClass,
    TransactionType,
)
from .invoicing import add_details, add_milestone_details, recompute_totals
from .milestones import billable_parts, refresh_invoice_status

EDITABLE_BILLING_TYPES = (BillingType.CHARGEABLE, BillingType.NON_CHARGEABLE, BillingType.COMPLIMENTARY)
# The classes a detail may be added by hand in (domain.md §2.6, "Invoice Editing Updates").
MANUAL_CLASSES = (TransactionClass.TIME, TransactionClass.EXPENSE, TransactionClass.MATERIAL, TransactionClass.FEE)


def _editable_invoice(invoice_id) -> Invoice:
    invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
    if not invoice.is_editable:
        raise InvalidTransition(_("Invoice %(number)s is %(status)s: it can no longer be changed.")
                                % {"number": invoice.number, "status": invoice.get_status_display()})
    return invoice


def _check_price_tax_and_billing_type(price, tax, billing_type) -> None:
    if price is None or price < 0:
        raise DomainError(_("The price cannot be negative."))
    if tax is None or tax < 0:
        raise DomainError(_("The tax cannot be negative."))
    if billing_type not in EDITABLE_BILLING_TYPES:
        raise DomainError(_("%(type)s is not a billing type a detail can have.") % {"type": billing_type})


@transaction.atomic
def update_detail(*, detail_id: int, by, quantity: Decimal, price: Decimal, billing_type: str,
                  tax: Decimal = Decimal(0), description: str = "") -> InvoiceLineDetail:
    """Change what a T&M detail bills: the quantity, price, billing type, tax and description."""
    detail = InvoiceLineDetail.objects.select_related("invoice", "corrected_billed").get(pk=detail_id)
    invoice = _editable_invoice(detail.invoice_id)
    if quantity is None or quantity < 0:
        raise DomainError(_("The quantity cannot be negative."))
    if quantity == 0 and not detail.is_correction:
        # Billing nothing would leave the work's WIP in finance for ever: take it off the invoice instead.
        raise DomainError(_("To bill none of it, remove the detail from the invoice: it goes back to the backlog."))
    _check_price_tax_and_billing_type(price, tax, billing_type)
    if detail.is_correction and billing_type != detail.billing_type:
        raise DomainError(_("The billing type of a correction cannot be changed (fix 6006562)."))
    if detail.milestone_id and not detail.is_correction and (quantity, price) != (detail.quantity, detail.price):
        raise DomainError(_("A milestone bills its amount: only its billing type, tax and description can change."))
    if detail.milestone_id and detail.is_correction and (
            quantity not in (0, 1) or round_money(quantity * price, invoice.currency) > detail.corrected_billed.amount):
        # Partial milestone credit: what should finally stand is an amount (quantity 1 at that price) no
        # higher than what was billed; the milestones of a line keep summing to its value (BR-13).
        raise DomainError(_("A milestone correction bills quantity 0 (a full credit) or 1 at the amount that should "
                            "finally stand, at most the %(amount)s billed.")
                          % {"amount": detail.corrected_billed.amount})
    detail.quantity, detail.price, detail.billing_type = quantity, price, billing_type
    detail.amount = round_money(quantity * price, invoice.currency)
    if detail.is_correction:  # what this invoice adds is the difference to what was billed
        detail.amount -= detail.corrected_billed.amount
    detail.tax, detail.description = round_money(tax, invoice.currency), description
    detail.save(update_fields=["quantity", "price", "billing_type", "amount", "tax", "description"])
    recompute_totals(invoice=invoice)
    return detail


@transaction.atomic
def delete_detail(*, detail_id: int, by) -> Invoice:
    """Take a detail off the draft; its actual goes back to the backlog, Ready to invoice (Q10)."""
    detail = InvoiceLineDetail.objects.get(pk=detail_id)
    invoice = _editable_invoice(detail.invoice_id)
    if detail.actual_id:  # a correction detail has no actual of its own: dropping it just drops the correction
        Actual.objects.filter(pk=detail.actual_id).update(billing_status=BillingStatus.READY_TO_INVOICE,
                                                          invoice=None)
    detail.delete()
    refresh_invoice_status(milestone_ids=[detail.milestone_id])  # a milestone goes back to Ready
    recompute_totals(invoice=invoice)
    return invoice


@transaction.atomic
def refresh_invoice(*, invoice_id: int, by) -> int:
    """Pull onto the draft the contract's Ready actuals that no invoice holds yet. Returns how many."""
    invoice = _editable_invoice(invoice_id)
    late = list(
        Actual.objects.select_for_update()
        .filter(contract_id=invoice.contract_id, customer_id=invoice.customer_id,
                transaction_type=TransactionType.UNBILLED_SALES, adjustment_status=AdjustmentStatus.NONE,
                billing_status=BillingStatus.READY_TO_INVOICE)
        .order_by("transaction_date", "pk")
    )
    milestones = list(Milestone.objects.select_for_update().filter(
        contract_line__contract_id=invoice.contract_id, invoice_status=Milestone.InvoiceStatus.READY)
        .select_related("contract_line__contract").order_by("milestone_date", "pk"))
    parts = billable_parts(milestones, invoice.contract).get(invoice.customer_id, []) if milestones else []
    if late or parts:
        add_details(invoice=invoice, actuals=late)
        add_milestone_details(invoice=invoice, parts=parts)
        recompute_totals(invoice=invoice)
    return len(late) + len(parts)


@transaction.atomic
def add_manual_detail(*, invoice_line_id: int, by, transaction_class: str, quantity: Decimal, price: Decimal,
                      billing_type: str, transaction_date, role_id: int | None = None,
                      category_id: int | None = None, tax: Decimal = Decimal(0),
                      description: str = "") -> InvoiceLineDetail:
    """Add a detail by hand to a line of a draft (domain.md §2.6): it has no actual until the invoice
    is confirmed, when its actuals are made as §2.7 says for its line's billing method (D70)."""
    line = InvoiceLine.objects.select_related("contract_line").get(pk=invoice_line_id)
    invoice = _editable_invoice(line.invoice_id)
    contract_line = line.contract_line
    if transaction_class not in MANUAL_CLASSES:
        raise DomainError(_("A detail added by hand is time, expense, material or a fee."))
    if not contract_line.includes(transaction_class):
        raise DomainError(_("Contract line %(line)s does not include %(class)s.")
                          % {"line": contract_line.name, "class": TransactionClass(transaction_class).label})
    if quantity is None or quantity <= 0:
        raise DomainError(_("The quantity must be more than zero."))
    _check_price_tax_and_billing_type(price, tax, billing_type)
    if transaction_date is None:
        raise DomainError(_("Give the date of the work or cost."))
    role = category = None
    if transaction_class == TransactionClass.TIME:
        # Time is priced and reported by role (its actuals carry one, as approved time does).
        role = ResourceRole.objects.filter(pk=role_id).first() if role_id else None
        if role is None:
            raise DomainError(_("Time needs a role."))
    if category_id or transaction_class != TransactionClass.TIME:
        category = TransactionCategory.objects.filter(pk=category_id).first() if category_id else None
        if category is None or category.transaction_class != transaction_class:
            raise DomainError(_("Choose a %(class)s category.")
                              % {"class": TransactionClass(transaction_class).label.lower()})
    detail = InvoiceLineDetail.objects.create(
        invoice_line=line, invoice=invoice, transaction_class=transaction_class, billing_type=billing_type,
        role=role, transaction_category=category,
        unit="hour" if transaction_class == TransactionClass.TIME else category.unit,
        transaction_date=transaction_date, description=description, quantity=quantity, price=price,
        amount=round_money(quantity * price, invoice.currency), tax=round_money(tax, invoice.currency),
        currency=invoice.currency,
    )
    recompute_totals(invoice=invoice)
    return detail
