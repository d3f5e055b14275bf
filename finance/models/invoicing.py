"""Invoice proposals, posted project invoices and customer transactions (domain.md §2.8, §2.9, §4.9)."""

from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from projinv.domain import InvalidTransition
from projinv.money import CurrencyField, MoneyField

from .. import messages


class InvoiceProposal(models.Model):
    class Status(models.TextChoices):
        HEADER_ONLY = "header_only", _("Header only (no lines yet)")
        OPEN = "open", _("Open")
        POSTED = "posted", _("Posted")

    # Equal to the Dataverse proforma invoice ID: one proposal per proforma (BR-01).
    number = models.CharField(_("proposal ID"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    legal_entity = models.CharField(_("legal entity"), max_length=10)
    customer_number = models.CharField(_("customer"), max_length=20)
    contract_number = models.CharField(_("project contract"), max_length=20)
    currency = CurrencyField(_("currency"))
    invoice_date = models.DateField(_("invoice date"))
    due_date = models.DateField(_("due date"), null=True, blank=True)
    accounting_date = models.DateField(_("accounting date"))
    # What Dataverse declared for the invoice: the import refuses to build lines on a mismatch (BR-03).
    expected_line_count = models.PositiveIntegerField(_("billed sales declared"))
    dataverse_amount = MoneyField(_("amount in Dataverse"))
    amount = MoneyField(_("amount"))  # Σ line amounts; 0.00 until the lines are imported
    tax = MoneyField(_("sales tax"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.HEADER_ONLY)
    # Why the last import made no lines: a message code and its parameters, shown translated (D48).
    import_code = models.CharField(_("import message"), max_length=40, blank=True)
    import_params = models.JSONField(_("import message details"), default=dict, blank=True)
    lines_imported_at = models.DateTimeField(_("lines imported"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    posted_at = models.DateTimeField(_("posted"), null=True, blank=True)
    posted_by = models.CharField(_("posted by"), max_length=150, blank=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("project invoice proposal")
        verbose_name_plural = _("project invoice proposals")
        permissions = [("post_proposal", _("Can post invoice proposals"))]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("finance:proposal_detail", args=[self.pk])

    @property
    def import_message(self) -> str:
        return messages.render(self.import_code, self.import_params)

    @property
    def total(self):
        return self.amount + self.tax

    def mark_posted(self, *, by: str):
        if self.status != self.Status.OPEN:
            raise InvalidTransition(
                _("Proposal %(number)s is %(status)s and cannot be posted.")
                % {"number": self.number, "status": self.get_status_display()}
            )
        self.status, self.posted_at, self.posted_by = self.Status.POSTED, timezone.now(), by
        self.save(update_fields=["status", "posted_at", "posted_by"])


class InvoiceProposalLine(models.Model):
    proposal = models.ForeignKey(InvoiceProposal, models.PROTECT, related_name="lines")
    # One proposal line per billed sale (BR-05): a second import cannot duplicate it.
    staging = models.OneToOneField("finance.ActualStaging", models.PROTECT, related_name="proposal_line")
    # What the line invoices: a posted project transaction, or a milestone's on-account transaction.
    project_transaction = models.ForeignKey("finance.ProjectTransaction", models.PROTECT, related_name="+",
                                            null=True, blank=True)
    on_account = models.ForeignKey("finance.OnAccountTransaction", models.PROTECT, related_name="proposal_lines",
                                   null=True, blank=True)
    # Where the line's revenue posts: invoiced revenue, or for a milestone the profile's on-account
    # invoicing (WIP invoiced on account on the balance, or invoiced revenue on account), D49.
    revenue_posting = models.CharField(_("revenue posting"), max_length=30, default="invoiced_revenue")
    transaction_class = models.CharField(_("transaction class"), max_length=20)
    billing_type = models.CharField(_("billing type"), max_length=20, default="chargeable")
    # The line property mapped from the billing type: only chargeable lines make revenue and tax; the
    # others show on the invoice at no charge (D22, D42).
    line_property = models.CharField(_("line property"), max_length=20, blank=True)
    chargeable = models.BooleanField(_("chargeable"), default=True)
    transaction_date = models.DateField(_("date"))
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=4)
    price = MoneyField(_("sales price"))
    amount = MoneyField(_("amount"))
    tax = MoneyField(_("sales tax"))
    currency = CurrencyField(_("currency"))
    # The only fields an accountant may change on a line (domain.md §2.9.1); the tax follows them.
    sales_tax_group = models.CharField(_("sales tax group"), max_length=20, blank=True)
    item_tax_group = models.CharField(_("item sales tax group"), max_length=20, blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("proposal line")
        verbose_name_plural = _("proposal lines")
        constraints = [models.CheckConstraint(
            name="proposal_line_invoices_one_thing",
            condition=models.Q(project_transaction__isnull=True) ^ models.Q(on_account__isnull=True))]


class ProjectInvoice(models.Model):
    """A posted project invoice (or credit note). Immutable."""

    legal_entity = models.CharField(_("legal entity"), max_length=10)
    number = models.CharField(_("invoice"), max_length=30)
    proposal = models.OneToOneField(InvoiceProposal, models.PROTECT, related_name="invoice")
    voucher = models.OneToOneField("finance.Voucher", models.PROTECT, related_name="project_invoice")
    customer_number = models.CharField(_("customer"), max_length=20)
    invoice_date = models.DateField(_("invoice date"))
    due_date = models.DateField(_("due date"))
    currency = CurrencyField(_("currency"))
    amount = MoneyField(_("amount"))
    tax = MoneyField(_("sales tax"))
    total = MoneyField(_("total"))
    exchange_rate = models.DecimalField(_("exchange rate"), max_digits=18, decimal_places=8)
    accounting_total = MoneyField(_("total in accounting currency"))
    is_credit_note = models.BooleanField(_("credit note"), default=False)
    posted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("project invoice")
        verbose_name_plural = _("project invoices")
        constraints = [models.UniqueConstraint(fields=["legal_entity", "number"], name="one_invoice_number_per_entity")]

    def __str__(self):
        return self.number


class CustomerTransaction(models.Model):
    """The open accounts-receivable item of a posted invoice."""

    legal_entity = models.CharField(_("legal entity"), max_length=10)
    customer_number = models.CharField(_("customer"), max_length=20)
    invoice = models.OneToOneField(ProjectInvoice, models.PROTECT, related_name="customer_transaction")
    voucher = models.ForeignKey("finance.Voucher", models.PROTECT, related_name="+")
    date = models.DateField(_("date"))
    due_date = models.DateField(_("due date"))
    amount = MoneyField(_("amount"))
    currency = CurrencyField(_("currency"))
    accounting_amount = MoneyField(_("accounting amount"))

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("customer transaction")
        verbose_name_plural = _("customer transactions")
