"""Proforma invoices, their lines and details (domain.md §2.5–2.7, §3.1, §4.1)."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from projinv.domain import InvalidTransition
from projinv.money import CurrencyField, MoneyField

from ..reasons import CodedTransition, Reason, describe
from .actuals import BillingType, TransactionClass


class Invoice(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        IN_REVIEW = "in_review", _("In review")
        CONFIRMED = "confirmed", _("Confirmed")
        POSTED = "posted", _("Posted")  # posted in finance (the enhanced summary, domain.md §10 Q4)

    EDITABLE = (Status.DRAFT, Status.IN_REVIEW)

    number = models.CharField(_("invoice ID"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)
    contract = models.ForeignKey("dataverse.ProjectContract", models.PROTECT, related_name="invoices",
                                 verbose_name=_("contract"))
    customer = models.ForeignKey("dataverse.Customer", models.PROTECT, related_name="invoices",
                                 verbose_name=_("customer"))
    currency = CurrencyField(_("currency"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    invoice_date = models.DateField(_("invoice date"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    # Bulk confirmation runs in the workers, one invoice at a time (domain.md §4.1).
    class BulkStatus(models.TextChoices):
        NONE = "", "—"
        SCHEDULED = "scheduled", _("Scheduled")
        PROCESSING = "processing", _("Processing")
        COMPLETE = "complete", _("Complete")
        FAILED = "failed", _("Failed")

    bulk_status = models.CharField(_("bulk confirmation"), max_length=10, choices=BulkStatus.choices, blank=True,
                                   default="")
    # Why it failed, as a code and parameters: the worker has no reader's language (dataverse/reasons.py).
    bulk_reason = models.CharField(_("bulk confirmation reason"), max_length=30, blank=True, default="")
    # Null rather than {} when there is no reason: set-based inserts (the bench's) leave it out.
    bulk_params = models.JSONField(_("bulk confirmation details"), null=True, blank=True, default=None)
    # A corrective invoice (domain.md §2.10): it credits, and may re-bill, billed sales of `corrects`.
    has_corrections = models.BooleanField(_("has corrections"), default=False)
    corrects = models.ForeignKey("self", models.PROTECT, null=True, blank=True, related_name="corrections",
                                 verbose_name=_("corrects invoice"))

    # Totals are derived from the details (BR-20). They are stored, not typed in: they are
    # recomputed in one statement on every change so that lists never sum 10,000 details.
    amount = MoneyField(_("amount"))
    tax = MoneyField(_("tax"))
    total = MoneyField(_("total amount"))

    # The enhanced proforma invoice summary, written back when finance posts (domain.md §2.9.6).
    customer_invoice_number = models.CharField(_("customer invoice"), max_length=30, blank=True)
    customer_invoice_date = models.DateField(_("customer invoice date"), null=True, blank=True)
    posted_tax_amount = MoneyField(_("invoice tax in finance"), null=True, blank=True, default=None)
    posted_at = models.DateTimeField(_("posted in finance"), null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("proforma invoice")
        verbose_name_plural = _("proforma invoices")
        permissions = [
            ("create_proforma", _("Can create proforma invoices")),
            ("confirm_invoice", _("Can confirm proforma invoices")),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("dataverse:invoice_detail", args=[self.pk])

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE

    @property
    def bulk_message(self) -> str:
        """The bulk confirmation's reason in words, in the reader's language."""
        return describe(self.bulk_reason, self.bulk_params or {})

    def mark_in_review(self):
        """Draft → In review (domain.md §4.1): still editable, flagged for a reviewer."""
        self._move(self.Status.DRAFT, self.Status.IN_REVIEW)

    def mark_draft(self):
        """In review → Draft."""
        self._move(self.Status.IN_REVIEW, self.Status.DRAFT)

    def _move(self, source, target):
        if self.status != source:
            raise InvalidTransition(
                _("Invoice %(number)s is %(status)s: only a %(source)s invoice can become %(target)s.")
                % {"number": self.number, "status": self.get_status_display(),
                   "source": self.Status(source).label, "target": self.Status(target).label})
        self.status = target
        self.save(update_fields=["status"])

    def mark_confirmed(self, *, by):
        if not self.is_editable:
            raise CodedTransition(Reason.NOT_EDITABLE, number=self.number, status=self.status)
        self.status, self.confirmed_by, self.confirmed_at = self.Status.CONFIRMED, by, timezone.now()
        self.save(update_fields=["status", "confirmed_by", "confirmed_at"])

    def check_postable(self):
        """Only a confirmed invoice is posted by finance (a posted one again: a redelivery)."""
        if self.status not in (self.Status.CONFIRMED, self.Status.POSTED):
            raise InvalidTransition(
                _("Invoice %(number)s is %(status)s; only a confirmed invoice can be posted.")
                % {"number": self.number, "status": self.get_status_display()}
            )

    def mark_posted(self, *, customer_invoice_number, customer_invoice_date, tax_amount):
        """Record finance's posting. A second, identical write-back changes nothing."""
        self.check_postable()
        if self.status == self.Status.POSTED:
            return False
        self.status = self.Status.POSTED
        self.customer_invoice_number = customer_invoice_number
        self.customer_invoice_date = customer_invoice_date
        self.posted_tax_amount = tax_amount
        self.posted_at = timezone.now()
        self.save(update_fields=["status", "customer_invoice_number", "customer_invoice_date",
                                 "posted_tax_amount", "posted_at"])
        return True


class InvoiceLine(models.Model):
    """One per contract line, even with no details (BR-10)."""

    invoice = models.ForeignKey(Invoice, models.CASCADE, related_name="lines")
    contract_line = models.ForeignKey("dataverse.ContractLine", models.PROTECT, related_name="+",
                                      verbose_name=_("contract line"))
    amount = MoneyField(_("amount"))
    tax = MoneyField(_("tax"))
    extended_amount = MoneyField(_("extended amount"))

    class Meta:
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        constraints = [models.UniqueConstraint(fields=["invoice", "contract_line"], name="one_line_per_contract_line")]


class InvoiceLineDetail(models.Model):
    """One per unbilled actual (or milestone) being invoiced."""

    invoice_line = models.ForeignKey(InvoiceLine, models.CASCADE, related_name="details")
    # Also kept here (it is the line's invoice) so per-invoice work is one indexed statement.
    invoice = models.ForeignKey(Invoice, models.CASCADE, related_name="details")
    actual = models.ForeignKey("dataverse.Actual", models.PROTECT, null=True, blank=True, related_name="+",
                               verbose_name=_("unbilled actual"))
    milestone = models.ForeignKey("dataverse.Milestone", models.PROTECT, null=True, blank=True,
                                  related_name="details", verbose_name=_("milestone"))
    transaction_class = models.CharField(_("class"), max_length=20, choices=TransactionClass.choices)
    billing_type = models.CharField(_("billing type"), max_length=20, choices=BillingType.choices)
    # A detail added by hand on the draft (domain.md §2.6) has no actual until confirmation: what its
    # actuals need beyond the line (the role of time, the category of the rest) is kept here.
    role = models.ForeignKey("dataverse.ResourceRole", models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=_("role"))
    transaction_category = models.ForeignKey("dataverse.TransactionCategory", models.PROTECT, null=True,
                                             blank=True, related_name="+", verbose_name=_("category"))
    unit = models.CharField(_("unit"), max_length=10, blank=True, default="")
    transaction_date = models.DateField(_("date"))
    description = models.CharField(_("description"), max_length=500, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=4)
    price = MoneyField(_("price"))
    amount = MoneyField(_("amount"))
    tax = MoneyField(_("tax"))
    currency = CurrencyField(_("currency"))
    # A correction detail: its quantity is what should finally stand for `corrected_billed`; its
    # amount is the difference to what was billed (quantity 0: a full credit).
    corrected_billed = models.OneToOneField("dataverse.Actual", models.PROTECT, null=True, blank=True,
                                            related_name="correction_detail", verbose_name=_("corrects billed sale"))

    class Meta:
        ordering = ["pk"]
        verbose_name = _("invoice line detail")
        verbose_name_plural = _("invoice line details")
        constraints = [
            models.UniqueConstraint(fields=["invoice", "actual"], name="one_detail_per_actual_and_invoice"),
            models.UniqueConstraint(fields=["invoice", "milestone"], condition=models.Q(corrected_billed=None),
                                    name="one_detail_per_milestone_and_invoice"),
        ]

    @property
    def extended_amount(self):
        return self.amount + self.tax

    @property
    def is_correction(self) -> bool:
        return self.corrected_billed_id is not None

    @property
    def is_manual(self) -> bool:
        """Added by hand on the draft: backed by neither an actual, a milestone nor a billed sale."""
        return self.actual_id is None and self.milestone_id is None and self.corrected_billed_id is None
