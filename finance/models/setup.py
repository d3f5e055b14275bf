"""Accounting set-up: legal entities, accounts, posting set-up, customers, rates (domain.md §2.0, §3.2)."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from projinv.money import CurrencyField


class LegalEntity(models.Model):
    code = models.CharField(_("legal entity"), max_length=10, unique=True)
    name = models.CharField(_("name"), max_length=200)
    accounting_currency = CurrencyField(_("accounting currency"))
    # "Automatically set accounting date to open ledger period" (domain.md §2.0, BR-24).
    roll_to_open_period = models.BooleanField(_("move dates in closed periods to the next open period"),
                                              default=True)
    # The item sales tax group of project transactions (a category's own group is issue #4's next step).
    default_item_tax_group = models.CharField(_("default item sales tax group"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("legal entity")
        verbose_name_plural = _("legal entities")

    def __str__(self):
        return self.code


class FiscalPeriod(models.Model):
    """A ledger period. Only a closed one restricts posting; dates outside every period post freely."""

    legal_entity = models.ForeignKey(LegalEntity, models.CASCADE, related_name="periods")
    name = models.CharField(_("period"), max_length=30)
    start = models.DateField(_("start"))
    end = models.DateField(_("end"))
    closed = models.BooleanField(_("closed"), default=False)

    class Meta:
        ordering = ["legal_entity", "start"]
        verbose_name = _("fiscal period")
        verbose_name_plural = _("fiscal periods")
        constraints = [
            models.UniqueConstraint(fields=["legal_entity", "start"], name="one_period_per_start"),
            models.CheckConstraint(condition=models.Q(end__gte=models.F("start")), name="period_ends_after_start"),
        ]

    def __str__(self):
        return f"{self.legal_entity} {self.name}"


class LedgerAccount(models.Model):
    legal_entity = models.ForeignKey(LegalEntity, models.CASCADE, related_name="accounts")
    number = models.CharField(_("main account"), max_length=20)
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")
        constraints = [models.UniqueConstraint(fields=["legal_entity", "number"], name="one_account_number_per_entity")]

    def __str__(self):
        return f"{self.number} {self.name}"


class PostingSetup(models.Model):
    """The ledger accounts each posting type goes to, per legal entity (a simplified posting profile)."""

    legal_entity = models.OneToOneField(LegalEntity, models.CASCADE, related_name="posting_setup")
    customer_balance = models.CharField(_("accounts receivable"), max_length=20)
    invoiced_revenue = models.CharField(_("invoiced revenue"), max_length=20)
    wip_sales_value = models.CharField(_("WIP sales value"), max_length=20)
    accrued_revenue = models.CharField(_("accrued revenue"), max_length=20)
    cost = models.CharField(_("cost"), max_length=20)
    cost_offset = models.CharField(_("cost offset (payroll allocation)"), max_length=20)
    sales_tax = models.CharField(_("sales tax payable"), max_length=20)
    # Costs of a profile that posts them to the balance (domain.md §3.2); revenue accrual is the
    # profile's and the line property's (D44), no longer a flag here.
    wip_cost_value = models.CharField(_("WIP cost value"), max_length=20, blank=True)
    # Milestones: per the profile's on-account invoicing (domain.md §2.9.4).
    wip_invoiced_on_account = models.CharField(_("WIP invoiced on account"), max_length=20, blank=True)
    invoiced_revenue_on_account = models.CharField(_("invoiced revenue on account"), max_length=20, blank=True)

    ACCOUNT_FIELDS = ("customer_balance", "invoiced_revenue", "wip_sales_value", "accrued_revenue", "cost",
                      "cost_offset", "sales_tax", "wip_cost_value", "wip_invoiced_on_account",
                      "invoiced_revenue_on_account")

    class Meta:
        verbose_name = _("posting set-up")
        verbose_name_plural = _("posting set-ups")

    def __str__(self):
        return str(self.legal_entity)

    def clean(self):
        if not self.legal_entity_id:
            return
        known = set(LedgerAccount.objects.filter(legal_entity_id=self.legal_entity_id).values_list("number", flat=True))
        errors = {name: _("Main account %(account)s is not in the chart of accounts of this legal entity.")
                  % {"account": getattr(self, name)}
                  for name in self.ACCOUNT_FIELDS if getattr(self, name) and getattr(self, name) not in known}
        if errors:
            raise ValidationError(errors)


class SalesTaxGroup(models.Model):
    """The billing sales tax group: whom the tax applies to (here, from the customer)."""

    legal_entity = models.ForeignKey(LegalEntity, models.CASCADE, related_name="sales_tax_groups")
    code = models.CharField(_("sales tax group"), max_length=20)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("sales tax group")
        verbose_name_plural = _("sales tax groups")
        constraints = [models.UniqueConstraint(fields=["legal_entity", "code"], name="one_sales_tax_group_code")]

    def __str__(self):
        return self.code


class ItemSalesTaxGroup(models.Model):
    """The item sales tax group: what is sold (time, expense, material...)."""

    legal_entity = models.ForeignKey(LegalEntity, models.CASCADE, related_name="item_tax_groups")
    code = models.CharField(_("item sales tax group"), max_length=20)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("item sales tax group")
        verbose_name_plural = _("item sales tax groups")
        constraints = [models.UniqueConstraint(fields=["legal_entity", "code"], name="one_item_tax_group_code")]

    def __str__(self):
        return self.code


class TaxRate(models.Model):
    """The rate where a sales tax group meets an item sales tax group (their common tax codes)."""

    sales_tax_group = models.ForeignKey(SalesTaxGroup, models.CASCADE, related_name="rates")
    item_tax_group = models.ForeignKey(ItemSalesTaxGroup, models.CASCADE, related_name="rates")
    percent = models.DecimalField(_("rate (%)"), max_digits=7, decimal_places=4)

    class Meta:
        verbose_name = _("tax rate")
        verbose_name_plural = _("tax rates")
        constraints = [
            models.UniqueConstraint(fields=["sales_tax_group", "item_tax_group"], name="one_rate_per_group_pair"),
            models.CheckConstraint(condition=models.Q(percent__gte=0), name="tax_rate_not_negative"),
        ]

    def __str__(self):
        return f"{self.sales_tax_group} / {self.item_tax_group}: {self.percent} %"

    def clean(self):
        if (self.sales_tax_group_id and self.item_tax_group_id
                and self.sales_tax_group.legal_entity_id != self.item_tax_group.legal_entity_id):
            raise ValidationError(_("Both groups must belong to the same legal entity."))


class Customer(models.Model):
    legal_entity = models.ForeignKey(LegalEntity, models.PROTECT, related_name="customers")
    number = models.CharField(_("customer account"), max_length=20)
    name = models.CharField(_("name"), max_length=200)
    payment_days = models.PositiveIntegerField(_("terms of payment (days)"), default=30)
    sales_tax_group = models.CharField(_("sales tax group"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints = [models.UniqueConstraint(fields=["legal_entity", "number"], name="one_customer_per_entity")]

    def __str__(self):
        return f"{self.number} {self.name}"

    def clean(self):
        if self.sales_tax_group and self.legal_entity_id and not SalesTaxGroup.objects.filter(
                legal_entity_id=self.legal_entity_id, code=self.sales_tax_group).exists():
            raise ValidationError({"sales_tax_group": _("There is no such sales tax group in this legal entity.")})


class ExchangeRate(models.Model):
    from_currency = CurrencyField(_("from currency"))
    to_currency = CurrencyField(_("to currency"))
    valid_from = models.DateField(_("valid from"))
    rate = models.DecimalField(_("rate"), max_digits=18, decimal_places=8)

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        constraints = [
            models.UniqueConstraint(fields=["from_currency", "to_currency", "valid_from"], name="one_rate_per_day"),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="exchange_rate_positive"),
        ]


class NumberSequence(models.Model):
    """A gap-free number sequence: the next number is taken under a row lock, in the posting transaction."""

    legal_entity = models.ForeignKey(LegalEntity, models.CASCADE, related_name="sequences")
    code = models.CharField(max_length=30)
    prefix = models.CharField(max_length=10)
    next_value = models.PositiveBigIntegerField(default=1)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["legal_entity", "code"], name="one_sequence_per_code")]

    @classmethod
    def take(cls, *, legal_entity, code: str, prefix: str) -> str:
        sequence, _created = cls.objects.select_for_update().get_or_create(
            legal_entity=legal_entity, code=code, defaults={"prefix": prefix}
        )
        value = sequence.next_value
        sequence.next_value = value + 1
        sequence.save(update_fields=["next_value"])
        return f"{sequence.prefix}{value:06d}"
