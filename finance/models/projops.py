"""Project Operations set-up per legal entity (domain.md §2.0, §3.2): the integration parameters,
line properties, project categories, and cost and revenue profiles with their rules."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class BillingType(models.TextChoices):
    """The Dataverse billing types finance maps to line properties; blank on an actual is Not specified."""

    NOT_SPECIFIED = "not_specified", _("Not specified")
    CHARGEABLE = "chargeable", _("Chargeable")
    NON_CHARGEABLE = "non_chargeable", _("Non-chargeable")
    COMPLIMENTARY = "complimentary", _("Complimentary")
    NOT_AVAILABLE = "not_available", _("Not available")


class CategoryType(models.TextChoices):
    """Finance's project transaction types; the SQL maps a Dataverse class to one with CATEGORY_TYPE_SQL."""

    HOUR = "hour", _("Hour")
    EXPENSE = "expense", _("Expense")
    ITEM = "item", _("Item")
    FEE = "fee", _("Fee")


# Dataverse transaction class -> finance category type (milestones are on-account: no category).
CATEGORY_TYPE = {"time": "hour", "expense": "expense", "material": "item", "fee": "fee"}
CATEGORY_TYPE_SQL = ("CASE {cls} WHEN 'time' THEN 'hour' WHEN 'expense' THEN 'expense' WHEN 'material' THEN 'item' "
                     "WHEN 'fee' THEN 'fee' END")


class LineProperty(models.Model):
    legal_entity = models.ForeignKey("finance.LegalEntity", models.CASCADE, related_name="line_properties")
    code = models.CharField(_("line property"), max_length=20)
    name = models.CharField(_("name"), max_length=100)
    chargeable = models.BooleanField(_("chargeable"), default=False)
    accrue_revenue = models.BooleanField(_("accrue revenue"), default=False)

    class Meta:
        ordering = ["legal_entity", "code"]
        verbose_name = _("line property")
        verbose_name_plural = _("line properties")
        constraints = [models.UniqueConstraint(fields=["legal_entity", "code"], name="one_line_property_code")]

    def __str__(self):
        return f"{self.legal_entity} {self.code}"


class ProjectCategory(models.Model):
    """A project category of a legal entity; it matches a Dataverse transaction category by name, or is
    one of the four shared categories (no transaction category) that serve as defaults."""

    legal_entity = models.ForeignKey("finance.LegalEntity", models.CASCADE, related_name="project_categories")
    code = models.CharField(_("project category"), max_length=30)
    name = models.CharField(_("name"), max_length=100)
    category_type = models.CharField(_("transaction type"), max_length=10, choices=CategoryType.choices)
    transaction_category = models.CharField(_("Dataverse transaction category"), max_length=100, blank=True)
    item_tax_group = models.CharField(_("item sales tax group"), max_length=20, blank=True)

    class Meta:
        ordering = ["legal_entity", "category_type", "code"]
        verbose_name = _("project category")
        verbose_name_plural = _("project categories")
        constraints = [
            models.UniqueConstraint(fields=["legal_entity", "code"], name="one_project_category_code"),
            models.UniqueConstraint(fields=["legal_entity", "transaction_category"],
                                    condition=~models.Q(transaction_category=""), name="one_category_per_dv_category"),
        ]

    def __str__(self):
        return f"{self.legal_entity} {self.code}"


def _line_property(label):
    return models.ForeignKey(LineProperty, models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=label)


def _category(label):
    return models.ForeignKey(ProjectCategory, models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=label)


class IntegrationParameters(models.Model):
    """Project management and accounting parameters, Project Operations tab (domain.md §2.0.2)."""

    class PeriodUnit(models.TextChoices):
        DAYS = "days", _("Days")
        MONTHS = "months", _("Months")
        YEARS = "years", _("Years")
        ALL = "all", _("All")

    legal_entity = models.OneToOneField("finance.LegalEntity", models.CASCADE, related_name="integration_parameters")
    period_unit = models.CharField(_("journal period unit"), max_length=10, choices=PeriodUnit.choices,
                                   default=PeriodUnit.MONTHS)

    not_specified_line_property = _line_property(_("line property: Not specified"))
    chargeable_line_property = _line_property(_("line property: Chargeable"))
    non_chargeable_line_property = _line_property(_("line property: Non-chargeable"))
    complimentary_line_property = _line_property(_("line property: Complimentary"))
    not_available_line_property = _line_property(_("line property: Not available"))
    hour_category = _category(_("default hour category"))
    expense_category = _category(_("default expense category"))
    item_category = _category(_("default item category"))
    fee_category = _category(_("default fee category"))

    class Meta:
        verbose_name = _("Project Operations integration parameters")
        verbose_name_plural = _("Project Operations integration parameters")

    def __str__(self):
        return str(self.legal_entity)

    def clean(self):
        entity = self.legal_entity_id
        for name in ("not_specified", "chargeable", "non_chargeable", "complimentary", "not_available"):
            prop = getattr(self, f"{name}_line_property")
            if prop and prop.legal_entity_id != entity:
                raise ValidationError({f"{name}_line_property": _("Choose a line property of this legal entity.")})
        for kind in CategoryType.values:
            category = getattr(self, f"{kind}_category")
            if category and (category.legal_entity_id != entity or category.category_type != kind):
                raise ValidationError({f"{kind}_category": _(
                    "Choose a %(type)s category of this legal entity.") % {"type": CategoryType(kind).label}})


class CostRevenueProfile(models.Model):
    """How a project's transactions reach the ledger (domain.md §3.2)."""

    class BillingMethod(models.TextChoices):
        TIME_AND_MATERIAL = "tm", _("Time and material")
        FIXED_PRICE = "fp", _("Fixed price")

    class PostCosts(models.TextChoices):
        PROFIT_AND_LOSS = "pl", _("Profit and loss")
        BALANCE = "balance", _("Balance (WIP cost value)")
        NO_LEDGER = "no_ledger", _("No ledger")

    class OnAccount(models.TextChoices):
        BALANCE = "balance", _("Balance (WIP invoiced on account)")
        PROFIT_AND_LOSS = "pl", _("Profit and loss (invoiced revenue on account)")

    legal_entity = models.ForeignKey("finance.LegalEntity", models.CASCADE, related_name="cost_revenue_profiles")
    code = models.CharField(_("profile"), max_length=20)
    name = models.CharField(_("name"), max_length=100)
    billing_method = models.CharField(_("billing method"), max_length=2, choices=BillingMethod.choices,
                                      default=BillingMethod.TIME_AND_MATERIAL)
    post_costs_hour = models.CharField(_("post costs: hour"), max_length=10, choices=PostCosts.choices,
                                       default=PostCosts.PROFIT_AND_LOSS)
    post_costs_expense = models.CharField(_("post costs: expense"), max_length=10, choices=PostCosts.choices,
                                          default=PostCosts.PROFIT_AND_LOSS)
    post_costs_item = models.CharField(_("post costs: item"), max_length=10, choices=PostCosts.choices,
                                       default=PostCosts.PROFIT_AND_LOSS)
    on_account_invoicing = models.CharField(_("on-account invoicing"), max_length=10, choices=OnAccount.choices,
                                            default=OnAccount.BALANCE)
    accrue_revenue_hour = models.BooleanField(_("accrue revenue: hour"), default=False)
    accrue_revenue_expense = models.BooleanField(_("accrue revenue: expense"), default=False)
    accrue_revenue_item = models.BooleanField(_("accrue revenue: item"), default=False)
    accrue_revenue_fee = models.BooleanField(_("accrue revenue: fee"), default=False)

    class Meta:
        ordering = ["legal_entity", "code"]
        verbose_name = _("cost and revenue profile")
        verbose_name_plural = _("cost and revenue profiles")
        constraints = [models.UniqueConstraint(fields=["legal_entity", "code"], name="one_profile_code")]

    def __str__(self):
        return f"{self.legal_entity} {self.code}"

    def clean(self):
        # Revenue accrues only where that type's cost goes to profit and loss (domain.md §3.2).
        for kind in ("hour", "expense", "item"):
            to_profit_and_loss = getattr(self, f"post_costs_{kind}") == self.PostCosts.PROFIT_AND_LOSS
            if getattr(self, f"accrue_revenue_{kind}") and not to_profit_and_loss:
                raise ValidationError({f"accrue_revenue_{kind}": _(
                    "Revenue can accrue only when the costs of this type post to profit and loss.")})


class CostRevenueProfileRule(models.Model):
    """Which profile a project's transactions take. A rule names one project, one contract, one project
    group, or nothing (all projects of the legal entity); the most specific matching rule wins (D43)."""

    legal_entity = models.ForeignKey("finance.LegalEntity", models.CASCADE, related_name="profile_rules")
    profile = models.ForeignKey(CostRevenueProfile, models.PROTECT, related_name="rules")
    project_number = models.CharField(_("project"), max_length=20, blank=True)
    contract_number = models.CharField(_("project contract"), max_length=20, blank=True)
    project_group = models.ForeignKey("finance.ProjectGroup", models.PROTECT, null=True, blank=True,
                                      related_name="profile_rules", verbose_name=_("project group"))

    class Meta:
        ordering = ["legal_entity", "pk"]
        verbose_name = _("cost and revenue profile rule")
        verbose_name_plural = _("cost and revenue profile rules")
        constraints = [
            models.CheckConstraint(
                name="profile_rule_names_at_most_one_criterion",
                condition=(models.Q(project_number="") | models.Q(contract_number=""))
                & (models.Q(project_number="") | models.Q(project_group__isnull=True))
                & (models.Q(contract_number="") | models.Q(project_group__isnull=True))),
        ]

    def __str__(self):
        return f"{self.legal_entity} {self.profile.code}: {self.criterion}"

    @property
    def criterion(self):
        if self.project_number:
            return _("project %(number)s") % {"number": self.project_number}
        if self.contract_number:
            return _("contract %(number)s") % {"number": self.contract_number}
        if self.project_group_id:
            return _("project group %(group)s") % {"group": self.project_group}
        return _("all projects")

    def clean(self):
        if sum(bool(x) for x in (self.project_number, self.contract_number, self.project_group_id)) > 1:
            raise ValidationError(_("A rule names one project, one contract or one project group (or none: all "
                                    "projects)."))
        if self.profile_id and self.legal_entity_id and self.profile.legal_entity_id != self.legal_entity_id:
            raise ValidationError({"profile": _("Choose a profile of this legal entity.")})
        group = self.project_group
        if group and self.legal_entity_id and group.legal_entity_id != self.legal_entity_id:
            raise ValidationError({"project_group": _("Choose a project group of this legal entity.")})
