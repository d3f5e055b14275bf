"""The Project Operations integration journal and the posted project transactions (domain.md §2.3, §4.8, §4.10)."""

from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from projinv.domain import InvalidTransition
from projinv.money import CurrencyField, MoneyField

from .. import messages
from .staging import TransactionClass, TransactionType


class IntegrationJournal(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        POSTED = "posted", _("Posted")
        ERROR = "error", _("Error")  # lines that failed to post; not retried until reset to draft (§4.8)

    number = models.CharField(_("journal"), max_length=20, unique=True)
    legal_entity = models.CharField(_("legal entity"), max_length=10)
    # First day of the period unit (day, month, year); none when the unit is All.
    period = models.DateField(_("period"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    run = models.ForeignKey("finance.ImportRun", models.PROTECT, related_name="journals")
    created_at = models.DateTimeField(auto_now_add=True)
    posted_at = models.DateTimeField(_("posted"), null=True, blank=True)
    # An error journal names the journal its lines were moved out of.
    original_journal = models.CharField(_("original journal"), max_length=20, blank=True)
    reset_by = models.CharField(_("reset to draft by"), max_length=150, blank=True)
    reset_at = models.DateTimeField(_("reset to draft"), null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("integration journal")
        verbose_name_plural = _("integration journals")
        permissions = [("reset_journal", _("Can reset an error journal to draft"))]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("finance:journal_detail", args=[self.pk])

    def mark_reset(self, *, by: str):
        if self.status != self.Status.ERROR:
            raise InvalidTransition(_("Journal %(number)s is %(status)s: only an error journal is reset to draft.")
                                    % {"number": self.number, "status": self.get_status_display()})
        self.status, self.reset_by, self.reset_at = self.Status.DRAFT, by, timezone.now()
        self.save(update_fields=["status", "reset_by", "reset_at"])


class LedgerPosting(models.TextChoices):
    COST_PROFIT_AND_LOSS = "cost_pl", _("Cost to profit and loss")
    COST_BALANCE = "cost_balance", _("Cost to WIP cost value")
    ACCRUED_REVENUE = "accrued_revenue", _("WIP sales value against accrued revenue")
    NONE = "none", _("Subledger only (no voucher)")


class IntegrationJournalLine(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        POSTED = "posted", _("Posted")
        ERROR = "error", _("Error")

    journal = models.ForeignKey(IntegrationJournal, models.PROTECT, related_name="lines")
    staging = models.OneToOneField("finance.ActualStaging", models.PROTECT, related_name="journal_line")
    voucher = models.CharField(_("voucher"), max_length=30, unique=True)
    transaction_type = models.CharField(_("transaction type"), max_length=20)
    transaction_date = models.DateField(_("date"))
    accounting_date = models.DateField(_("accounting date"))
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=4)
    amount = MoneyField(_("amount"))
    currency = CurrencyField(_("currency"))
    exchange_rate = models.DecimalField(_("exchange rate"), max_digits=18, decimal_places=8)
    accounting_amount = MoneyField(_("accounting amount"))
    category = models.CharField(_("project category"), max_length=30, blank=True)
    line_property = models.CharField(_("line property"), max_length=20, blank=True)
    profile = models.CharField(_("cost and revenue profile"), max_length=20, blank=True)
    # What posting the line makes, decided from the profile and line property when it is journalized.
    ledger_posting = models.CharField(_("ledger posting"), max_length=20, choices=LedgerPosting.choices,
                                      default=LedgerPosting.NONE)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    # Why the line failed to post, as a message code and its parameters (finance.messages).
    error_code = models.CharField(_("error"), max_length=40, blank=True)
    error_params = models.JSONField(_("error details"), default=dict, blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("integration journal line")
        verbose_name_plural = _("integration journal lines")
        indexes = [models.Index(fields=["journal"], name="journal_line_to_post",
                                condition=models.Q(status="draft"))]

    @property
    def error(self):
        return messages.render(self.error_code, self.error_params)


class ProjectTransaction(models.Model):
    """A posted project transaction in the project subledger: a journalized cost or unbilled sale, or a
    fixed-price billed sale with nothing behind it, posted with no voucher to be invoiced (D54)."""

    class Status(models.TextChoices):
        POSTED = "posted", _("Posted")
        INVOICE_PROPOSAL = "invoice_proposal", _("Invoice proposal")
        INVOICED = "invoiced", _("Invoiced")

    staging = models.OneToOneField("finance.ActualStaging", models.PROTECT, related_name="project_transaction")
    dataverse_actual_id = models.UUIDField(_("Dataverse actual"), unique=True)
    legal_entity = models.CharField(_("legal entity"), max_length=10)
    project_number = models.CharField(_("project"), max_length=20)
    transaction_type = models.CharField(_("transaction type"), max_length=20, choices=TransactionType.choices)
    transaction_class = models.CharField(_("transaction class"), max_length=20, choices=TransactionClass.choices)
    accounting_date = models.DateField(_("accounting date"))
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=4)
    amount = MoneyField(_("amount"))
    currency = CurrencyField(_("currency"))
    exchange_rate = models.DecimalField(_("exchange rate"), max_digits=18, decimal_places=8)
    accounting_amount = MoneyField(_("accounting amount"))
    voucher = models.CharField(_("voucher"), max_length=30)
    category = models.CharField(_("project category"), max_length=30, blank=True)
    line_property = models.CharField(_("line property"), max_length=20, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.POSTED)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("project transaction")
        verbose_name_plural = _("project transactions")
        indexes = [
            # Posted WIP not invoiced yet, per project: the reconciliation's backlog against WIP (D33).
            models.Index(fields=["project_number"], name="project_wip_not_invoiced", include=["amount"],
                         condition=models.Q(transaction_type="unbilled_sales", status="posted")),
        ]
