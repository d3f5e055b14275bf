"""Actuals: the immutable ledger of Dataverse (domain.md §3.1, §4.2, §4.3).

Actuals are only ever created by services (approval, confirmation) and corrected by reversal.
Apart from the descriptions, the only fields that change after creation are the billing status
(through the backlog and invoicing services) and the accounting details that the bridge writes
back from finance.
"""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from projinv.money import CurrencyField, MoneyField


class TransactionType(models.TextChoices):
    COST = "cost", _("Cost")
    UNBILLED_SALES = "unbilled_sales", _("Unbilled sales")
    BILLED_SALES = "billed_sales", _("Billed sales")


class TransactionClass(models.TextChoices):
    TIME = "time", _("Time")
    EXPENSE = "expense", _("Expense")
    MATERIAL = "material", _("Material")
    MILESTONE = "milestone", _("Milestone")
    FEE = "fee", _("Fee")


class BillingType(models.TextChoices):
    CHARGEABLE = "chargeable", _("Chargeable")
    NON_CHARGEABLE = "non_chargeable", _("Non-chargeable")
    COMPLIMENTARY = "complimentary", _("Complimentary")
    NOT_AVAILABLE = "not_available", _("Not available")


class BillingStatus(models.TextChoices):
    UNBILLED_SALES_CREATED = "unbilled_sales_created", _("Unbilled sales created")
    READY_TO_INVOICE = "ready_to_invoice", _("Ready to invoice")
    CUSTOMER_INVOICE_CREATED = "customer_invoice_created", _("Customer invoice created")
    CUSTOMER_INVOICE_POSTED = "customer_invoice_posted", _("Customer invoice posted")
    CANCELED = "canceled", _("Canceled")


class AdjustmentStatus(models.TextChoices):
    NONE = "", "—"
    IN_PROCESS = "in_process", _("In process")
    ADJUSTED = "adjusted", _("Adjusted")
    UNADJUSTABLE = "unadjustable", _("Unadjustable")


# Unbilled sales still open in the billing backlog: not invoiced yet, or adjusted (shown with why).
# The backlog page filters with exactly this condition and its partial indexes are built on it:
# PostgreSQL uses a partial index only when it can prove the query's filter implies the index's.
OPEN_BILLING_STATUSES = [BillingStatus.UNBILLED_SALES_CREATED, BillingStatus.READY_TO_INVOICE,
                         BillingStatus.CUSTOMER_INVOICE_CREATED]
IN_BACKLOG = models.Q(transaction_type=TransactionType.UNBILLED_SALES, skip_sync=False) & (
    models.Q(billing_status__in=OPEN_BILLING_STATUSES) | models.Q(adjustment_status=AdjustmentStatus.ADJUSTED))


class Actual(models.Model):
    uuid = models.UUIDField(_("actual ID"), default=uuid.uuid4, unique=True, editable=False)
    transaction_type = models.CharField(_("transaction type"), max_length=20, choices=TransactionType.choices)
    transaction_class = models.CharField(_("transaction class"), max_length=20, choices=TransactionClass.choices)
    billing_type = models.CharField(_("billing type"), max_length=20, choices=BillingType.choices)
    billing_status = models.CharField(_("billing status"), max_length=30, choices=BillingStatus.choices, blank=True)
    adjustment_status = models.CharField(
        _("adjustment status"), max_length=20, choices=AdjustmentStatus.choices, blank=True, default=""
    )
    # Set by the system only: reversals of unbilled sales made at confirmation never reach finance.
    skip_sync = models.BooleanField(_("skip sync"), default=False)

    # References (D77). Only the project is a database constraint. Every other reference is set by a
    # service from rows it has just read under their own constraints (the entry, the contract line, the
    # invoice line detail), and 13 more constraints, checked at commit, cost 0.7 s per 20,000 actuals
    # (a confirmation of 10,000 details). Django's PROTECT still refuses to delete what an actual points
    # at (nothing here deletes them anyway), and every reference keeps its index for the lookups.
    project = models.ForeignKey("dataverse.Project", models.PROTECT, related_name="actuals")
    task = models.ForeignKey("dataverse.ProjectTask", models.PROTECT, db_constraint=False, null=True, blank=True,
                             related_name="+")
    resource = models.ForeignKey("dataverse.Resource", models.PROTECT, db_constraint=False, null=True, blank=True,
                                 related_name="+")
    role = models.ForeignKey("dataverse.ResourceRole", models.PROTECT, db_constraint=False, null=True, blank=True,
                             related_name="+")
    customer = models.ForeignKey("dataverse.Customer", models.PROTECT, db_constraint=False, null=True, blank=True,
                                 related_name="+")
    contract = models.ForeignKey("dataverse.ProjectContract", models.PROTECT, db_constraint=False, null=True,
                                 blank=True, related_name="actuals")
    contract_line = models.ForeignKey("dataverse.ContractLine", models.PROTECT, db_constraint=False, null=True,
                                      blank=True, related_name="actuals")
    time_entry = models.ForeignKey("dataverse.TimeEntry", models.PROTECT, db_constraint=False, null=True, blank=True,
                                   related_name="actuals")
    # The expense, material or fee entry it comes from (time has `time_entry`).
    entry = models.ForeignKey("dataverse.Entry", models.PROTECT, db_constraint=False, null=True, blank=True,
                              related_name="actuals")
    # A milestone's billed sale: the milestone it bills (finance has it as an on-account transaction).
    milestone = models.ForeignKey("dataverse.Milestone", models.PROTECT, db_constraint=False, null=True, blank=True,
                                  related_name="billed_sales")
    transaction_category = models.ForeignKey("dataverse.TransactionCategory", models.PROTECT, db_constraint=False,
                                             null=True, blank=True, related_name="+",
                                             verbose_name=_("transaction category"))
    # The proforma invoice an unbilled sale was put on (stamped when the detail is created).
    invoice = models.ForeignKey("dataverse.Invoice", models.PROTECT, db_constraint=False, null=True, blank=True,
                                related_name="+")
    # For a billed sale (or its reversal): the unbilled sale it invoices as finance knows it, i.e. the
    # one journalized there as WIP (decision D20). Finance builds the proposal line on it.
    invoiced_actual = models.ForeignKey("self", models.PROTECT, db_constraint=False, null=True, blank=True,
                                        related_name="+", verbose_name=_("invoices"))
    # For billed sales and reversals: the invoice line detail that produced them.
    invoice_line_detail = models.ForeignKey("dataverse.InvoiceLineDetail", models.PROTECT, db_constraint=False,
                                            null=True, blank=True, related_name="billing_actuals")

    transaction_date = models.DateField(_("transaction date"))
    accounting_date = models.DateField(_("accounting date"))
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=4)
    unit = models.CharField(_("unit"), max_length=10, default="hour")
    price = MoneyField(_("price"))
    amount = MoneyField(_("amount"))
    currency = CurrencyField(_("currency"))
    description = models.CharField(_("description"), max_length=500, blank=True)
    external_description = models.CharField(_("external description"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # Accounting details, written back by the bridge after finance posts (domain.md §2.9).
    voucher = models.CharField(_("voucher"), max_length=30, blank=True)
    posting_date = models.DateField(_("posting date"), null=True, blank=True)
    exchange_rate = models.DecimalField(_("exchange rate"), max_digits=18, decimal_places=8, null=True, blank=True)
    accounting_amount = MoneyField(_("amount in accounting currency"), null=True, blank=True, default=None)
    accounting_currency = CurrencyField(_("accounting currency"), blank=True)
    sales_tax_amount = MoneyField(_("sales tax amount"), null=True, blank=True, default=None)
    written_back_at = models.DateTimeField(_("written back"), null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("actual")
        verbose_name_plural = _("actuals")
        permissions = [("manage_backlog", _("Can mark actuals ready to invoice"))]
        indexes = [
            # The billing backlog: open unbilled sales per contract.
            models.Index(fields=["contract", "billing_status"], name="actual_backlog",
                         condition=models.Q(transaction_type="unbilled_sales", adjustment_status="")),
            # Reconciliation: synced actuals still waiting for their accounting details.
            models.Index(fields=["created_at"], name="actual_without_voucher",
                         condition=models.Q(skip_sync=False, voucher="")),
            # ... and the first of them by id, the order the page lists them in (D33).
            models.Index(fields=["id"], name="actual_without_voucher_by_id",
                         condition=models.Q(skip_sync=False, voucher="")),
            # The billing backlog page, newest first, whole or for one contract (D33).
            models.Index(fields=["id"], name="actual_in_backlog", condition=IN_BACKLOG),
            models.Index(fields=["contract", "id"], name="actual_in_backlog_by_contract", condition=IN_BACKLOG),
            # An invoice's synced billed sales: the pipeline tracker and the reconciliation (D33).
            models.Index(fields=["invoice"], name="actual_billed_by_invoice", include=["amount", "written_back_at"],
                         condition=models.Q(transaction_type=TransactionType.BILLED_SALES, skip_sync=False)),
        ]

    def __str__(self):
        return f"{self.get_transaction_type_display()} {self.quantity} {self.amount} {self.currency}"


class TransactionConnection(models.Model):
    """A typed link between two actuals, so any actual can be traced (domain.md §3.1)."""

    class Role(models.TextChoices):
        UNBILLED_SALES = "unbilled_sales", _("Unbilled sales")
        COST = "cost", _("Cost")
        BILLED_SALES = "billed_sales", _("Billed sales")
        REVERSING = "reversing", _("Reversing")
        ORIGINAL = "original", _("Original")
        REPLACING = "replacing", _("Replacing")

    transaction1 = models.ForeignKey(Actual, models.PROTECT, related_name="connections_as_first")
    transaction1_role = models.CharField(max_length=20, choices=Role.choices)
    transaction2 = models.ForeignKey(Actual, models.PROTECT, related_name="connections_as_second")
    transaction2_role = models.CharField(max_length=20, choices=Role.choices)

    class Meta:
        verbose_name = _("transaction connection")
        verbose_name_plural = _("transaction connections")
        constraints = [
            models.UniqueConstraint(fields=["transaction1", "transaction2"], name="one_connection_per_pair"),
        ]
