"""The actuals a confirmation creates, per invoice line detail (domain.md §2.7).

- Quantity, price and billing type unchanged: the original unbilled sale is posted; its negative
  reversal and a billed sale for the detail are created.
- Anything changed (quantity down or up, price, billing type): the original is Adjusted and
  reversed; a replacement unbilled sale for what the detail bills, with its reversal and its billed
  sale; and when the quantity went down on a chargeable detail, the same for the remainder as
  non-chargeable (8 h edited to 6 h: billed 6 h chargeable and 2 h non-chargeable).

Reversals and replacement unbilled sales never go to finance (decision D20, domain.md §10 Q1):
finance has the original unbilled sale posted as WIP, every billed sale names that original as the
transaction it invoices, and posting the invoice reverses the original's WIP in full.

A detail added by hand on the draft has no actual yet: see `BillingPlan.bill_manual`.

Unchanged details, nearly all of a large invoice, are billed by two set-based statements
(`BILL_UNCHANGED_SQL`, `CONNECT_UNCHANGED_SQL`): the same rows `BillingPlan.reverse` and
`BillingPlan.bill` would make, without building 20,000 model instances. The plan takes the rest.

A correction detail (domain.md §2.10) credits a billed sale: the billed sale is Adjusted and a
billed-sales reversal is created (it goes to finance as a credit line); what should finally stand is
re-billed through a new unbilled sale; a credited remainder returns to the backlog as a new unbilled
sale. Those new unbilled sales do go to finance (D23): the original's WIP was consumed by the first
invoice, so they are new WIP there.
"""

from dataclasses import dataclass, field

from django.db import connection
from django.utils import timezone

from projinv import sqlgen
from projinv.bulk import copy_insert
from projinv.money import round_money

from ..models import (
    Actual,
    AdjustmentStatus,
    BillingStatus,
    BillingType,
    Invoice,
    InvoiceLineDetail,
    TransactionClass,
    TransactionConnection,
    TransactionType,
)
from ..signals import actuals_created
from .milestones import refresh_invoice_status

Role = TransactionConnection.Role


@dataclass
class BillingPlan:
    """The new actuals of one confirmation and the connections between them, made in two statements."""

    invoice: Invoice
    accounting_date: object
    actuals: list = field(default_factory=list)
    connections: list = field(default_factory=list)

    def _new(self, like: Actual, detail: InvoiceLineDetail, **values) -> Actual:
        actual = Actual(**{
            "transaction_class": like.transaction_class, "project_id": like.project_id, "task_id": like.task_id,
            "resource_id": like.resource_id, "role_id": like.role_id, "customer_id": like.customer_id,
            "contract_id": like.contract_id, "contract_line_id": like.contract_line_id,
            "time_entry_id": like.time_entry_id, "entry_id": like.entry_id,
            "transaction_category_id": like.transaction_category_id, "milestone_id": like.milestone_id,
            "invoice_id": self.invoice.pk,
            "invoice_line_detail_id": detail.pk,
            "transaction_date": like.transaction_date, "currency": like.currency, "unit": like.unit,
            "billing_status": BillingStatus.CUSTOMER_INVOICE_POSTED, "description": detail.description,
            "accounting_date": self.accounting_date, **values,
        })
        self.actuals.append(actual)
        return actual

    def connect(self, first, first_role, second, second_role):
        self.connections.append((first, first_role, second, second_role))

    def reverse(self, unbilled: Actual, detail) -> Actual:
        reversal = self._new(unbilled, detail, transaction_type=TransactionType.UNBILLED_SALES,
                             billing_type=unbilled.billing_type, adjustment_status=AdjustmentStatus.UNADJUSTABLE,
                             skip_sync=True, quantity=-unbilled.quantity, price=unbilled.price,
                             amount=-unbilled.amount)
        self.connect(reversal, Role.REVERSING, unbilled, Role.ORIGINAL)
        return reversal

    def replace(self, original: Actual, detail, *, quantity, billing_type, price, synced=False,
                **values) -> Actual:
        replacement = self._new(original, detail, transaction_type=TransactionType.UNBILLED_SALES,
                                billing_type=billing_type, skip_sync=not synced, quantity=quantity, price=price,
                                amount=round_money(quantity * price, original.currency), **values)
        self.connect(replacement, Role.REPLACING, original, Role.ORIGINAL)
        return replacement

    def bill(self, unbilled: Actual, detail, *, invoices: Actual) -> Actual:
        """A billed sale for `unbilled`; finance builds its line on `invoices` (its WIP there)."""
        billed = self._new(unbilled, detail, transaction_type=TransactionType.BILLED_SALES,
                           billing_type=unbilled.billing_type, quantity=unbilled.quantity, price=unbilled.price,
                           amount=unbilled.amount, invoiced_actual=invoices)
        self.connect(billed, Role.BILLED_SALES, unbilled, Role.UNBILLED_SALES)
        return billed

    def reverse_billed(self, billed: Actual, detail) -> Actual:
        """A credit: the negative of a billed sale, on the same transaction in finance."""
        reversal = self._new(billed, detail, transaction_type=TransactionType.BILLED_SALES,
                             billing_type=billed.billing_type, adjustment_status=AdjustmentStatus.UNADJUSTABLE,
                             quantity=-billed.quantity, price=billed.price, amount=-billed.amount,
                             invoiced_actual_id=billed.invoiced_actual_id)
        self.connect(reversal, Role.REVERSING, billed, Role.ORIGINAL)
        return reversal

    def correct(self, detail: InvoiceLineDetail) -> None:
        """Credit the billed sale and re-bill what should finally stand (domain.md §2.10.3)."""
        billed, final = detail.corrected_billed, detail.quantity
        self.reverse_billed(billed, detail)
        if final:
            rebill = self.replace(billed, detail, quantity=final, billing_type=billed.billing_type,
                                  price=detail.price, synced=True)
            self.reverse(rebill, detail)
            self.bill(rebill, detail, invoices=rebill)
        if final < billed.quantity:  # the credited rest goes back to the backlog, chargeable
            self.replace(billed, detail, quantity=billed.quantity - final, billing_type=BillingType.CHARGEABLE,
                         price=billed.price, synced=True, invoice_id=None,
                         billing_status=BillingStatus.UNBILLED_SALES_CREATED)

    def bill_milestone(self, detail: InvoiceLineDetail) -> Actual:
        """A milestone's billed sale, class Milestone: no unbilled sale behind it (domain.md §2.7)."""
        milestone, line = detail.milestone, detail.invoice_line.contract_line
        like = Actual(transaction_class=TransactionClass.MILESTONE, project_id=line.project_id,
                      customer_id=self.invoice.customer_id, contract_id=self.invoice.contract_id,
                      contract_line_id=line.pk, milestone_id=milestone.pk, transaction_date=milestone.milestone_date,
                      currency=detail.currency, unit="each")
        return self._new(like, detail, transaction_type=TransactionType.BILLED_SALES,
                         billing_type=detail.billing_type, quantity=detail.quantity, price=detail.price,
                         amount=detail.amount)

    def bill_manual(self, detail: InvoiceLineDetail) -> None:
        """A detail added by hand (domain.md §2.7): on a T&M line an unbilled sale, its reversal and a
        billed sale, all for the detail's amount; on an FP line a billed sale only (D70).

        The new unbilled sale goes to finance (skip sync off): finance never had WIP for this work, so
        it journalizes the sale and the billed sale is invoiced on it, like a re-billed correction (D23)."""
        line = detail.invoice_line.contract_line
        like = Actual(transaction_class=detail.transaction_class, project_id=line.project_id, role_id=detail.role_id,
                      customer_id=self.invoice.customer_id, contract_id=self.invoice.contract_id,
                      contract_line_id=line.pk, transaction_category_id=detail.transaction_category_id,
                      transaction_date=detail.transaction_date, currency=detail.currency, unit=detail.unit or "hour")
        values = {"billing_type": detail.billing_type, "quantity": detail.quantity, "price": detail.price,
                  "amount": detail.amount}
        if line.billing_method == line.BillingMethod.FIXED_PRICE:
            self._new(like, detail, transaction_type=TransactionType.BILLED_SALES, **values)
            return
        unbilled = self._new(like, detail, transaction_type=TransactionType.UNBILLED_SALES, **values)
        self.reverse(unbilled, detail)
        self.bill(unbilled, detail, invoices=unbilled)

    def correct_milestone(self, detail: InvoiceLineDetail) -> None:
        """Credit a billed sale with no unbilled sale behind it (a milestone's, or a detail added by hand
        on an FP line) and bill what should finally stand, in full or in part: whatever a milestone has
        credited is its to bill again (it goes back to Ready)."""
        billed = detail.corrected_billed
        self.reverse_billed(billed, detail)
        final = round_money(detail.quantity * detail.price, billed.currency)
        if final:
            rebill = self._new(billed, detail, transaction_type=TransactionType.BILLED_SALES,
                               billing_type=billed.billing_type, quantity=detail.quantity, price=detail.price,
                               amount=final)
            self.connect(rebill, Role.REPLACING, billed, Role.ORIGINAL)

    def save(self) -> list[int]:
        # Billed sales may name a replacement made in this plan as the sale they invoice: those
        # replacements need their keys first, so unbilled actuals go in one COPY, billed in another.
        billed = [a for a in self.actuals if a.transaction_type == TransactionType.BILLED_SALES]
        copy_insert(Actual, [a for a in self.actuals if a.transaction_type != TransactionType.BILLED_SALES])
        copy_insert(Actual, billed)
        copy_insert(TransactionConnection, [
            TransactionConnection(transaction1=a, transaction1_role=ra, transaction2=b, transaction2_role=rb)
            for a, ra, b, rb in self.connections
        ])
        return [a.pk for a in self.actuals]


# What sorts a detail: one that bills its actual as it is goes by SQL, every other kind by the plan.
SORT_FIELDS = ("pk", "actual_id", "corrected_billed_id", "milestone_id", "quantity", "price", "billing_type",
               "actual__quantity", "actual__price", "actual__billing_type")

_REVERSAL, _BILLED = "k.kind = 'reversal'", "k.kind = 'billed'"
BILL_UNCHANGED_SQL = sqlgen.insert_select(Actual, {
    # As BillingPlan._new copies `like` (the original), then reverse() and bill() on it.
    **{name: f"o.{name}" for name in (
        "transaction_class", "project_id", "task_id", "resource_id", "role_id", "customer_id", "contract_id",
        "contract_line_id", "time_entry_id", "entry_id", "transaction_category_id", "milestone_id",
        "transaction_date", "currency", "unit", "billing_type", "price")},
    "invoice_id": "d.invoice_id", "invoice_line_detail_id": "d.id", "description": "d.description",
    "billing_status": f"'{BillingStatus.CUSTOMER_INVOICE_POSTED}'", "accounting_date": "%(accounting_date)s",
    "transaction_type": f"CASE WHEN {_BILLED} THEN '{TransactionType.BILLED_SALES}' "
                        f"ELSE '{TransactionType.UNBILLED_SALES}' END",
    "adjustment_status": f"CASE WHEN {_REVERSAL} THEN '{AdjustmentStatus.UNADJUSTABLE}' ELSE '' END",
    "skip_sync": _REVERSAL,
    "quantity": f"CASE WHEN {_REVERSAL} THEN -o.quantity ELSE o.quantity END",
    "amount": f"CASE WHEN {_REVERSAL} THEN -o.amount ELSE o.amount END",
    "invoiced_actual_id": f"CASE WHEN {_BILLED} THEN o.id END",
}, """FROM dataverse_invoicelinedetail d
  JOIN dataverse_actual o ON o.id = d.actual_id
 CROSS JOIN (VALUES (1, 'reversal'), (2, 'billed')) AS k(n, kind)
 WHERE d.id = ANY(%(details)s)
 ORDER BY k.n, d.id""", suffix="RETURNING id")

CONNECT_UNCHANGED_SQL = sqlgen.insert_select(TransactionConnection, {
    "transaction1_id": "n.id", "transaction2_id": "d.actual_id",
    "transaction1_role": f"CASE WHEN n.skip_sync THEN '{Role.REVERSING}' ELSE '{Role.BILLED_SALES}' END",
    "transaction2_role": f"CASE WHEN n.skip_sync THEN '{Role.ORIGINAL}' ELSE '{Role.UNBILLED_SALES}' END",
}, """FROM dataverse_actual n JOIN dataverse_invoicelinedetail d ON d.id = n.invoice_line_detail_id
 WHERE n.id = ANY(%(new)s)
 ORDER BY n.id""")


def bill_unchanged(detail_ids: list[int], *, accounting_date) -> list[int]:
    """Reverse and bill, in SQL, the actuals of details that bill them unchanged."""
    if not detail_ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(BILL_UNCHANGED_SQL, {"details": detail_ids, "accounting_date": accounting_date})
        new_ids = sorted(row[0] for row in cursor.fetchall())
        cursor.execute(CONNECT_UNCHANGED_SQL, {"new": new_ids})
    return new_ids


def replacement_parts(detail: InvoiceLineDetail, original: Actual):
    """(quantity, billing type, price) of each replacement unbilled sale of an edited detail."""
    parts = [(detail.quantity, detail.billing_type, detail.price)]
    if detail.billing_type == original.billing_type == BillingType.CHARGEABLE and detail.quantity < original.quantity:
        parts.append((original.quantity - detail.quantity, BillingType.NON_CHARGEABLE, original.price))
    return [part for part in parts if part[0]]


def create_billing_actuals(*, invoice: Invoice) -> list[int]:
    accounting_date = timezone.localdate(invoice.confirmed_at)  # BR-25
    unchanged, others, invoiced, milestone_ids = [], [], [], []
    for pk, actual_id, corrected_id, milestone_id, *terms in (
            InvoiceLineDetail.objects.filter(invoice=invoice).order_by("pk").values_list(*SORT_FIELDS)):
        milestone_ids.append(milestone_id)
        if actual_id is None or corrected_id is not None:
            others.append(pk)  # a milestone, a detail added by hand, a correction
            continue
        invoiced.append(actual_id)
        # Quantity, price and billing type as the actual has them: billed as it is.
        (unchanged if terms[:3] == terms[3:] else others).append(pk)
    new_ids = bill_unchanged(unchanged, accounting_date=accounting_date)

    details = list(InvoiceLineDetail.objects.filter(pk__in=others)
                   .select_related("actual", "corrected_billed", "milestone", "invoice_line__contract_line")
                   .order_by("pk")) if others else []
    plan = BillingPlan(invoice=invoice, accounting_date=accounting_date)
    adjusted = []
    for detail in details:
        if detail.is_correction:
            adjusted.append(detail.corrected_billed_id)
            # A billed sale with no unbilled sale behind it (a milestone's, a detail added by hand on a
            # fixed-price line) is credited and re-billed as a billed sale: an FP line has no unbilled sales.
            if detail.corrected_billed.milestone_id or detail.corrected_billed.invoiced_actual_id is None:
                plan.correct_milestone(detail)
            else:
                plan.correct(detail)
            continue
        if detail.milestone_id:
            plan.bill_milestone(detail)
            continue
        if detail.is_manual:
            plan.bill_manual(detail)
            continue
        original = detail.actual  # edited on the draft: adjusted, reversed, replaced and billed
        adjusted.append(original.pk)
        plan.reverse(original, detail)
        for quantity, billing_type, price in replacement_parts(detail, original):
            replacement = plan.replace(original, detail, quantity=quantity, billing_type=billing_type, price=price)
            plan.reverse(replacement, detail)
            plan.bill(replacement, detail, invoices=original)
    new_ids += plan.save()
    # In primary-key order, as the write-back locks them: the two wait for each other, never deadlock.
    list(Actual.objects.select_for_update().filter(pk__any=invoiced + adjusted).order_by("pk").values_list("pk"))
    Actual.objects.filter(pk__any=invoiced).update(billing_status=BillingStatus.CUSTOMER_INVOICE_POSTED)
    Actual.objects.filter(pk__any=adjusted).update(adjustment_status=AdjustmentStatus.ADJUSTED)
    # Billed in full → Customer invoice posted; credited (in full or in part) → Ready again (§4.5).
    refresh_invoice_status(milestone_ids=milestone_ids)
    actuals_created.send(sender=Actual, actual_ids=new_ids)
    return new_ids
