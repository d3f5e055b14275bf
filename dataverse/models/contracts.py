"""Contract and project master data (domain.md §2.1, §3.1)."""

from datetime import timedelta

from django.db import models
from django.utils.translation import gettext_lazy as _

from projinv.domain import InvalidTransition
from projinv.money import CurrencyField, MoneyField

from ..reasons import describe
from .actuals import BillingType, TransactionClass


def ModifiedOnField():  # noqa: N802 - reads like a field class
    """The record's last change: `modifiedon` of the master-data maps; finance applies only newer ones."""
    return models.DateTimeField(_("modified on"), auto_now=True)


class Customer(models.Model):
    """An account. `number` is the key the finance system knows the customer by."""

    number = models.CharField(_("account number"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)
    legal_entity = models.CharField(_("owning company"), max_length=10)

    class Meta:
        ordering = ["number"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self):
        return f"{self.number} {self.name}"


class PriceList(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    currency = CurrencyField(_("currency"))

    class Meta:
        verbose_name = _("price list")
        verbose_name_plural = _("price lists")

    def __str__(self):
        return self.name


class ResourceRole(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        verbose_name = _("resource role")
        verbose_name_plural = _("resource roles")

    def __str__(self):
        return self.name


class RolePrice(models.Model):
    """The unit price of an hour of a role on a price list (cost or sales, by the list's use)."""

    price_list = models.ForeignKey(PriceList, models.CASCADE, related_name="role_prices")
    role = models.ForeignKey(ResourceRole, models.PROTECT, related_name="prices")
    price = MoneyField(_("price per hour"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["price_list", "role"], name="one_price_per_role_and_list")]
        verbose_name = _("role price")
        verbose_name_plural = _("role prices")


class Project(models.Model):
    number = models.CharField(_("project ID"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)
    legal_entity = models.CharField(_("owning company"), max_length=10)
    cost_price_list = models.ForeignKey(PriceList, models.PROTECT, related_name="+", verbose_name=_("cost price list"))
    modified_on = ModifiedOnField()

    class Meta:
        ordering = ["number"]
        verbose_name = _("project")
        verbose_name_plural = _("projects")

    def __str__(self):
        return f"{self.number} {self.name}"


class ProjectTask(models.Model):
    project = models.ForeignKey(Project, models.CASCADE, related_name="tasks")
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        verbose_name = _("project task")
        verbose_name_plural = _("project tasks")

    def __str__(self):
        return self.name


class Resource(models.Model):
    """A bookable resource: the person who records time."""

    name = models.CharField(_("name"), max_length=200)
    user = models.OneToOneField("auth.User", models.SET_NULL, null=True, blank=True, related_name="resource")
    role = models.ForeignKey(ResourceRole, models.PROTECT, verbose_name=_("default role"))

    class Meta:
        verbose_name = _("bookable resource")
        verbose_name_plural = _("bookable resources")

    def __str__(self):
        return self.name


class ProjectContract(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        CLOSED = "closed", _("Closed")

    number = models.CharField(_("contract ID"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)
    customer = models.ForeignKey(Customer, models.PROTECT, related_name="contracts", verbose_name=_("customer"))
    legal_entity = models.CharField(_("owning company"), max_length=10)
    currency = CurrencyField(_("sales currency"))
    sales_price_list = models.ForeignKey(PriceList, models.PROTECT, related_name="+", verbose_name=_("price list"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    modified_on = ModifiedOnField()

    # Draft → Active, or Closed (lost) from either; a closed contract is read-only (domain.md §3.1).
    MOVES = {Status.DRAFT: {Status.ACTIVE, Status.CLOSED}, Status.ACTIVE: {Status.CLOSED}, Status.CLOSED: set()}

    class Meta:
        ordering = ["number"]
        verbose_name = _("project contract")
        verbose_name_plural = _("project contracts")
        permissions = [("manage_contract_status", _("Can activate and close project contracts"))]

    def __str__(self):
        return f"{self.number} {self.name}"

    @property
    def is_closed(self) -> bool:
        return self.status == self.Status.CLOSED

    def move_to(self, status: str) -> None:
        """Change the status along an allowed move (the caller saves and announces it)."""
        if status not in self.MOVES[self.status]:
            raise InvalidTransition(
                _("Contract %(number)s is %(status)s: it cannot become %(target)s.")
                % {"number": self.number, "status": self.get_status_display(),
                   "target": self.Status(status).label if status in self.Status.values else status}
            )
        self.status = status


class ContractLine(models.Model):
    class BillingMethod(models.TextChoices):
        TIME_AND_MATERIAL = "tm", _("Time and material")
        FIXED_PRICE = "fp", _("Fixed price")

    class IncludedTasks(models.TextChoices):
        ALL = "all", _("All tasks")
        SELECTED = "selected", _("Selected tasks only")

    contract = models.ForeignKey(ProjectContract, models.CASCADE, related_name="lines")
    name = models.CharField(_("name"), max_length=200)
    project = models.ForeignKey(Project, models.PROTECT, related_name="contract_lines", verbose_name=_("project"))
    billing_method = models.CharField(_("billing method"), max_length=2, choices=BillingMethod.choices)
    include_time = models.BooleanField(_("include time"), default=True)
    include_expense = models.BooleanField(_("include expense"), default=False)
    include_material = models.BooleanField(_("include material"), default=False)
    include_fee = models.BooleanField(_("include fee"), default=False)
    included_tasks = models.CharField(_("included tasks"), max_length=10, choices=IncludedTasks.choices,
                                      default=IncludedTasks.ALL)
    # The line's value (fixed price): its milestones must sum to it (BR-13).
    contracted_amount = MoneyField(_("contracted amount"))
    modified_on = ModifiedOnField()

    class Meta:
        ordering = ["contract", "pk"]
        verbose_name = _("contract line")
        verbose_name_plural = _("contract lines")
        # The name is the line's key in finance (a contract billing rule per contract + line name).
        constraints = [models.UniqueConstraint(fields=["contract", "name"], name="one_line_name_per_contract")]

    def __str__(self):
        return self.name

    def includes(self, transaction_class: str) -> bool:
        return getattr(self, f"include_{transaction_class}", False)

    @property
    def included_classes(self) -> list[str]:
        return [c for c in (TransactionClass.TIME, TransactionClass.EXPENSE, TransactionClass.MATERIAL,
                            TransactionClass.FEE) if self.includes(c)]


class TransactionCategory(models.Model):
    """What an expense, material or fee is for (domain.md §3.1); synced to finance as a project category."""

    CLASSES = [(c, TransactionClass(c).label) for c in (TransactionClass.TIME, TransactionClass.EXPENSE,
                                                          TransactionClass.MATERIAL, TransactionClass.FEE)]

    name = models.CharField(_("name"), max_length=100, unique=True)
    transaction_class = models.CharField(_("transaction class"), max_length=20, choices=CLASSES)
    unit = models.CharField(_("unit"), max_length=10, default="each")
    modified_on = ModifiedOnField()

    class Meta:
        ordering = ["name"]
        verbose_name = _("transaction category")
        verbose_name_plural = _("transaction categories")

    def __str__(self):
        return self.name


class CategoryPrice(models.Model):
    """The unit price of a category on a price list (cost or sales, by the list's use), like RolePrice."""

    price_list = models.ForeignKey(PriceList, models.CASCADE, related_name="category_prices")
    category = models.ForeignKey(TransactionCategory, models.PROTECT, related_name="prices")
    price = MoneyField(_("unit price"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["price_list", "category"],
                                               name="one_price_per_category_and_list")]
        verbose_name = _("category price")
        verbose_name_plural = _("category prices")


class Chargeability(models.Model):
    """A billing type a contract line gives to one task, role or category (domain.md §3.1)."""

    BILLING_TYPES = [(t, BillingType(t).label) for t in (BillingType.CHARGEABLE, BillingType.NON_CHARGEABLE)]

    billing_type = models.CharField(_("billing type"), max_length=20, choices=BILLING_TYPES,
                                    default=BillingType.CHARGEABLE)

    class Meta:
        abstract = True


class ContractLineTask(Chargeability):
    """A task of the line: included (when the line has Selected tasks) and its chargeability."""

    contract_line = models.ForeignKey(ContractLine, models.CASCADE, related_name="line_tasks")
    task = models.ForeignKey(ProjectTask, models.PROTECT, related_name="+", verbose_name=_("task"))

    class Meta:
        verbose_name = _("contract line task")
        verbose_name_plural = _("contract line tasks")
        constraints = [models.UniqueConstraint(fields=["contract_line", "task"], name="one_rule_per_line_task")]


class ContractLineRole(Chargeability):
    """Chargeability of a role's time on the line (roles affect time only)."""

    contract_line = models.ForeignKey(ContractLine, models.CASCADE, related_name="line_roles")
    role = models.ForeignKey(ResourceRole, models.PROTECT, related_name="+", verbose_name=_("role"))

    class Meta:
        verbose_name = _("contract line role")
        verbose_name_plural = _("contract line roles")
        constraints = [models.UniqueConstraint(fields=["contract_line", "role"], name="one_rule_per_line_role")]


class ContractLineCategory(Chargeability):
    """Chargeability of a category's expenses on the line (categories affect expenses only)."""

    contract_line = models.ForeignKey(ContractLine, models.CASCADE, related_name="line_categories")
    category = models.ForeignKey(TransactionCategory, models.PROTECT, related_name="+",
                                 verbose_name=_("category"))

    class Meta:
        verbose_name = _("contract line category")
        verbose_name_plural = _("contract line categories")
        constraints = [models.UniqueConstraint(fields=["contract_line", "category"],
                                               name="one_rule_per_line_category")]


class BillingSplit(models.Model):
    """A customer's share of what is billed (domain.md §3.1, BR-14): the split %, and whether the
    rounding difference goes to it."""

    customer = models.ForeignKey(Customer, models.PROTECT, related_name="+", verbose_name=_("customer"))
    split_percent = models.DecimalField(_("billing split %"), max_digits=7, decimal_places=4)
    is_rounding = models.BooleanField(_("takes the rounding"), default=False)
    modified_on = ModifiedOnField()

    class Meta:
        abstract = True


class ContractCustomer(BillingSplit):
    """A customer of a contract and its billing split (domain.md §3.1, BR-14). A contract with none
    bills its own customer in full."""

    contract = models.ForeignKey(ProjectContract, models.CASCADE, related_name="contract_customers")

    class Meta:
        ordering = ["contract", "pk"]
        verbose_name = _("contract customer")
        verbose_name_plural = _("contract customers")
        constraints = [
            models.UniqueConstraint(fields=["contract", "customer"], name="one_split_per_contract_customer"),
            models.UniqueConstraint(fields=["contract"], condition=models.Q(is_rounding=True),
                                    name="one_rounding_customer_per_contract"),
            models.CheckConstraint(condition=models.Q(split_percent__gt=0, split_percent__lte=100),
                                   name="split_between_0_and_100"),
        ]


class ContractLineCustomer(BillingSplit):
    """A customer of one contract line and its billing split: when a line has any, they split its
    unbilled sales and milestones instead of the contract's list (domain.md §3.1). Each is one of the
    contract's customers, so invoicing still makes one invoice per contract customer (D71)."""

    contract_line = models.ForeignKey(ContractLine, models.CASCADE, related_name="line_customers")

    class Meta:
        ordering = ["contract_line", "pk"]
        verbose_name = _("contract line customer")
        verbose_name_plural = _("contract line customers")
        constraints = [
            models.UniqueConstraint(fields=["contract_line", "customer"], name="one_split_per_line_customer"),
            models.UniqueConstraint(fields=["contract_line"], condition=models.Q(is_rounding=True),
                                    name="one_rounding_customer_per_line"),
            models.CheckConstraint(condition=models.Q(split_percent__gt=0, split_percent__lte=100),
                                   name="line_split_between_0_and_100"),
        ]


class InvoiceSchedule(models.Model):
    """A date-based invoice schedule row of a T&M contract line (domain.md §2.5, §4.6)."""

    class RunStatus(models.TextChoices):
        NOT_RUN = "not_run", _("Not run")
        SUCCESSFUL = "successful", _("Run successful")
        FAILED = "failed", _("Run failed")

    contract_line = models.ForeignKey(ContractLine, models.CASCADE, related_name="schedule")
    run_date = models.DateField(_("invoice run date"))
    run_status = models.CharField(_("run status"), max_length=12, choices=RunStatus.choices,
                                  default=RunStatus.NOT_RUN)
    # The run's result as a code and parameters, put into words when read (dataverse/reasons.py).
    result_code = models.CharField(_("result"), max_length=30, blank=True, default="")
    result_params = models.JSONField(_("result details"), null=True, blank=True, default=None)
    ran_at = models.DateTimeField(_("ran"), null=True, blank=True)

    class Meta:
        ordering = ["run_date", "contract_line"]
        verbose_name = _("invoice schedule row")
        verbose_name_plural = _("invoice schedule")
        constraints = [models.UniqueConstraint(fields=["contract_line", "run_date"], name="one_run_per_line_and_date")]
        indexes = [models.Index(fields=["run_date"], name="schedule_not_run", condition=models.Q(run_status="not_run"))]

    @property
    def message(self) -> str:
        return describe(self.result_code, self.result_params or {})

    @property
    def cutoff_date(self):
        """Transactions dated up to the day before the run are billed (domain.md §2.5)."""
        return self.run_date - timedelta(days=1)
