"""Vouchers and ledger entries: immutable once written (enforced by database triggers)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from projinv.money import CurrencyField, MoneyField


class Voucher(models.Model):
    class Source(models.TextChoices):
        INTEGRATION_JOURNAL = "integration_journal", _("Integration journal")
        PROJECT_INVOICE = "project_invoice", _("Project invoice")

    number = models.CharField(_("voucher"), max_length=30, unique=True)
    legal_entity = models.CharField(_("legal entity"), max_length=10)
    date = models.DateField(_("date"))
    source = models.CharField(_("source"), max_length=30, choices=Source.choices)
    description = models.CharField(_("description"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("voucher")
        verbose_name_plural = _("vouchers")

    def __str__(self):
        return self.number


class LedgerEntry(models.Model):
    """One line of a voucher. Amounts are signed: debit positive, credit negative, so a voucher
    balances when its accounting amounts sum to zero."""

    class PostingType(models.TextChoices):
        CUSTOMER_BALANCE = "customer_balance", _("Customer balance")
        INVOICED_REVENUE = "invoiced_revenue", _("Project invoiced revenue")
        SALES_TAX = "sales_tax", _("Sales tax")
        WIP_SALES_VALUE = "wip_sales_value", _("WIP sales value")
        ACCRUED_REVENUE = "accrued_revenue", _("Accrued revenue")
        COST = "cost", _("Project cost")
        COST_OFFSET = "cost_offset", _("Cost offset")
        WIP_COST_VALUE = "wip_cost_value", _("WIP cost value")
        WIP_INVOICED_ON_ACCOUNT = "wip_invoiced_on_account", _("WIP invoiced on account")
        INVOICED_REVENUE_ON_ACCOUNT = "invoiced_revenue_on_account", _("Invoiced revenue on account")

    voucher = models.ForeignKey(Voucher, models.PROTECT, related_name="entries")
    account = models.CharField(_("main account"), max_length=20)
    posting_type = models.CharField(_("posting type"), max_length=30, choices=PostingType.choices)
    amount = MoneyField(_("amount"))
    currency = CurrencyField(_("currency"))
    accounting_amount = MoneyField(_("accounting amount"))
    accounting_currency = CurrencyField(_("accounting currency"))

    class Meta:
        ordering = ["pk"]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")

    @property
    def debit(self):
        return self.accounting_amount if self.accounting_amount > 0 else None

    @property
    def credit(self):
        return -self.accounting_amount if self.accounting_amount < 0 else None
