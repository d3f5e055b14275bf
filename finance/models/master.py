"""Master data mastered in Dataverse, kept in finance as reference (domain.md §2.1, §3.2).

Rows arrive through the bridge (finance.services.inbound), are upserted only by a newer change
(`modified_on`) and are never deleted: a delete in Dataverse makes them inactive. Finance adds
accounting attributes of its own (the project group) that an incoming change never touches.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from projinv.money import CurrencyField, MoneyField

from .setup import ItemSalesTaxGroup


class MasterData(models.Model):
    active = models.BooleanField(_("active"), default=True)
    modified_on = models.DateTimeField(_("modified in Dataverse"))
    received_at = models.DateTimeField(_("received"), auto_now=True)

    class Meta:
        abstract = True


class ProjectGroup(models.Model):
    """Finance's own grouping of projects, one criterion of the cost and revenue profile rules."""

    legal_entity = models.ForeignKey("finance.LegalEntity", models.CASCADE, related_name="project_groups")
    code = models.CharField(_("project group"), max_length=20)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["legal_entity", "code"]
        verbose_name = _("project group")
        verbose_name_plural = _("project groups")
        constraints = [models.UniqueConstraint(fields=["legal_entity", "code"], name="one_project_group_code")]

    def __str__(self):
        return self.code


class ProjectContract(MasterData):
    contract_number = models.CharField(_("project contract"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    legal_entity = models.CharField(_("legal entity"), max_length=10)
    customer_number = models.CharField(_("customer"), max_length=20, blank=True)
    currency = CurrencyField(_("currency"))
    status = models.CharField(_("status"), max_length=20, blank=True)

    class Meta:
        ordering = ["contract_number"]
        verbose_name = _("project contract")
        verbose_name_plural = _("project contracts")

    def __str__(self):
        return self.contract_number


class FundingSource(MasterData):
    """One per Dataverse contract customer; the split % stays in Dataverse (domain.md §2.1.2)."""

    contract_number = models.CharField(_("project contract"), max_length=20)
    customer_number = models.CharField(_("customer"), max_length=20)
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        ordering = ["contract_number", "customer_number"]
        verbose_name = _("funding source")
        verbose_name_plural = _("funding sources")
        constraints = [models.UniqueConstraint(fields=["contract_number", "customer_number"],
                                               name="one_funding_source_per_customer")]


class ContractBillingRule(MasterData):
    """One per Dataverse contract line: time and material, or fixed price (milestones)."""

    class BillingMethod(models.TextChoices):
        TIME_AND_MATERIAL = "tm", _("Time and material")
        FIXED_PRICE = "fp", _("Fixed price (milestones)")

    contract_number = models.CharField(_("project contract"), max_length=20)
    line_name = models.CharField(_("contract line"), max_length=200)
    project_number = models.CharField(_("project"), max_length=20, blank=True)
    billing_method = models.CharField(_("billing method"), max_length=2, choices=BillingMethod.choices)

    class Meta:
        ordering = ["contract_number", "line_name"]
        verbose_name = _("contract billing rule")
        verbose_name_plural = _("contract billing rules")
        constraints = [models.UniqueConstraint(fields=["contract_number", "line_name"],
                                               name="one_billing_rule_per_line")]


class Project(MasterData):
    project_number = models.CharField(_("project"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    legal_entity = models.CharField(_("legal entity"), max_length=10)
    # Finance's own attribute (set by the accountant): never written by an incoming change.
    project_group = models.ForeignKey(ProjectGroup, models.PROTECT, null=True, blank=True, related_name="projects",
                                      verbose_name=_("project group"))

    class Meta:
        ordering = ["project_number"]
        verbose_name = _("project")
        verbose_name_plural = _("projects")

    def __str__(self):
        return self.project_number


class TransactionCategory(MasterData):
    category = models.CharField(_("transaction category"), max_length=100, unique=True)
    transaction_class = models.CharField(_("transaction class"), max_length=20)

    class Meta:
        ordering = ["category"]
        verbose_name = _("transaction category")
        verbose_name_plural = _("transaction categories")

    def __str__(self):
        return self.category


class OnAccountTransaction(MasterData):
    """One per Dataverse fixed-price milestone (domain.md §2.1.5). Its status and item sales tax
    group are finance's own: an incoming change never touches them."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        INVOICE_PROPOSAL = "invoice_proposal", _("Invoice proposal")
        INVOICED = "invoiced", _("Invoiced")

    milestone_id = models.UUIDField(_("milestone"), unique=True)
    contract_number = models.CharField(_("project contract"), max_length=20)
    line_name = models.CharField(_("contract line"), max_length=200, blank=True)
    project_number = models.CharField(_("project"), max_length=20, blank=True)
    legal_entity = models.CharField(_("legal entity"), max_length=10)
    name = models.CharField(_("name"), max_length=200, blank=True)
    milestone_date = models.DateField(_("milestone date"))
    amount = MoneyField(_("amount"))
    currency = CurrencyField(_("currency"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    item_tax_group = models.CharField(_("item sales tax group"), max_length=20, blank=True)

    class Meta:
        ordering = ["contract_number", "milestone_date"]
        verbose_name = _("on-account transaction")
        verbose_name_plural = _("on-account transactions")

    def __str__(self):
        return f"{self.contract_number} {self.name}"

    def clean(self):
        # Accounting attributes change only until a proposal takes the milestone (domain.md §2.1.6).
        if self.status != self.Status.OPEN:
            raise ValidationError(_("The milestone is on an invoice proposal or invoiced: it cannot change now."))
        if self.item_tax_group and not ItemSalesTaxGroup.objects.filter(
                legal_entity__code=self.legal_entity, code=self.item_tax_group).exists():
            raise ValidationError({"item_tax_group": _("There is no such item sales tax group in %(entity)s.")
                                   % {"entity": self.legal_entity}})
