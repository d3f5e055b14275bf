"""The actuals staging table (ProjCDSActualsImport) and the import runs that read it (domain.md §2.3, §4.7)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from projinv.money import CurrencyField, MoneyField

from .. import messages


class TransactionType(models.TextChoices):
    """Finance's reading of the Dataverse transaction types it receives."""

    COST = "cost", _("Cost")
    UNBILLED_SALES = "unbilled_sales", _("Unbilled sales")
    BILLED_SALES = "billed_sales", _("Billed sales")


class TransactionClass(models.TextChoices):
    TIME = "time", _("Hour")
    EXPENSE = "expense", _("Expense")
    MATERIAL = "material", _("Item")
    MILESTONE = "milestone", _("On-account")
    FEE = "fee", _("Fee")


class ActualStaging(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        WAITING = "waiting", _("Waiting")  # blocked; the reason says why, the next run retries
        JOURNALIZED = "journalized", _("Journalized")  # on a journal line not posted yet (or in error)
        POSTED = "posted", _("Posted")  # cost / unbilled: journalized and posted
        PROPOSAL_LINE = "proposal_line", _("Proposal line created")  # billed sales
        INVOICED = "invoiced", _("Invoiced")

    class WaitReason(models.TextChoices):
        LEGAL_ENTITY_MISSING = "legal_entity_missing", _("The legal entity is not set up in finance")
        POSTING_SETUP_MISSING = "posting_setup_missing", _("The legal entity has no posting set-up")
        EXCHANGE_RATE_MISSING = "exchange_rate_missing", _("No exchange rate for the currency on the accounting date")
        PERIOD_CLOSED = "period_closed", _("No open fiscal period for the accounting date")
        PARAMETERS_MISSING = "parameters_missing", _("The legal entity has no Project Operations parameters")
        LINE_PROPERTY_MISSING = "line_property_missing", _("No line property is mapped to the billing type")
        CATEGORY_MISSING = "category_missing", _(
            "No project category for the transaction category, and no default for the transaction type")
        PROFILE_MISSING = "profile_missing", _("No cost and revenue profile rule applies to the project")
        BILLING_RULE_MISSING = "billing_rule_missing", _(
            "The contract line has no contract billing rule in finance yet")
        PROJECT_MISSING = "project_missing", _(
            "The project is not in finance yet, and a project group rule could decide its profile")

    PENDING = (Status.RECEIVED, Status.WAITING)

    dataverse_actual_id = models.UUIDField(_("Dataverse actual"), unique=True)
    legal_entity = models.CharField(_("legal entity"), max_length=10)
    transaction_type = models.CharField(_("transaction type"), max_length=20, choices=TransactionType.choices)
    transaction_class = models.CharField(_("transaction class"), max_length=20, choices=TransactionClass.choices)
    billing_type = models.CharField(_("billing type"), max_length=20)
    project_number = models.CharField(_("project"), max_length=20)
    contract_number = models.CharField(_("contract"), max_length=20, blank=True)
    contract_line_name = models.CharField(_("contract line"), max_length=200, blank=True)
    customer_number = models.CharField(_("customer"), max_length=20, blank=True)
    resource_name = models.CharField(_("resource"), max_length=200, blank=True)
    role_name = models.CharField(_("role"), max_length=100, blank=True)
    transaction_category = models.CharField(_("transaction category"), max_length=100, blank=True)
    invoice_number = models.CharField(_("proforma invoice"), max_length=20, blank=True)
    # The actual whose project transaction this billed sale invoices: its unbilled sale's (D40), or its own
    # on a fixed-price line with nothing behind it, once finance posted a transaction for it (D54).
    invoiced_actual_id = models.UUIDField(_("invoiced unbilled actual"), null=True, blank=True)
    # A milestone's billed sale names its milestone: the on-account transaction it invoices.
    milestone_id = models.UUIDField(_("milestone"), null=True, blank=True)
    transaction_date = models.DateField(_("transaction date"))
    accounting_date = models.DateField(_("accounting date"))
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=4)
    price = MoneyField(_("price"))
    amount = MoneyField(_("amount"))
    currency = CurrencyField(_("currency"))
    description = models.CharField(_("description"), max_length=500, blank=True)

    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.RECEIVED)
    wait_reason = models.CharField(_("waiting because"), max_length=30, choices=WaitReason.choices, blank=True,
                                   default="")
    received_at = models.DateTimeField(_("received"), auto_now_add=True)

    # Accounting details, filled when finance posts; the bridge carries them back to Dataverse.
    voucher = models.CharField(_("voucher"), max_length=30, blank=True)
    posting_date = models.DateField(_("posting date"), null=True, blank=True)
    exchange_rate = models.DecimalField(_("exchange rate"), max_digits=18, decimal_places=8, null=True, blank=True)
    accounting_amount = MoneyField(_("accounting amount"), null=True, blank=True, default=None)
    accounting_currency = CurrencyField(_("accounting currency"), blank=True)
    sales_tax_amount = MoneyField(_("sales tax"), null=True, blank=True, default=None)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("actuals staging row")
        verbose_name_plural = _("actuals staging")
        indexes = [
            models.Index(fields=["transaction_type"], name="staging_pending",
                         condition=models.Q(status__in=["received", "waiting"])),
            models.Index(fields=["invoice_number"], name="staging_billed_by_invoice",
                         condition=models.Q(transaction_type="billed_sales")),
        ]

    def __str__(self):
        return str(self.dataverse_actual_id)


class TransactionConnectionStaging(models.Model):
    """A link between two synced actuals (the `msdyn_transactionconnections` map, domain.md §2.3.2).

    Import uses the billed sales ↔ unbilled sales links (and a credit's reversing ↔ original link
    to the billed sale it reverses) to know which posted transaction a billed sale invoices.
    """

    class Role(models.TextChoices):
        UNBILLED_SALES = "unbilled_sales", _("Unbilled sales")
        COST = "cost", _("Cost")
        BILLED_SALES = "billed_sales", _("Billed sales")
        REVERSING = "reversing", _("Reversing")
        ORIGINAL = "original", _("Original")
        REPLACING = "replacing", _("Replacing")

    transaction1_id = models.UUIDField(_("transaction 1"))
    transaction1_role = models.CharField(_("role 1"), max_length=20, choices=Role.choices)
    transaction2_id = models.UUIDField(_("transaction 2"))
    transaction2_role = models.CharField(_("role 2"), max_length=20, choices=Role.choices)
    received_at = models.DateTimeField(_("received"), auto_now_add=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("transaction connection")
        verbose_name_plural = _("transaction connections")
        constraints = [models.UniqueConstraint(fields=["transaction1_id", "transaction2_id"],
                                               name="one_staged_connection_per_pair")]
        # Looked up from either end: the unique index serves transaction 1, this one transaction 2.
        indexes = [models.Index(fields=["transaction2_id"], name="staged_connection_by_t2")]


class ImportRun(models.Model):
    """One run of Import from staging: what it did, or why it failed (the troubleshooting log)."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        SKIPPED = "skipped", _("Skipped: another import was running")
        FAILED = "failed", _("Failed")

    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    triggered_by = models.CharField(_("triggered by"), max_length=150)
    proposal_number = models.CharField(_("only proposal"), max_length=20, blank=True)
    journal_lines = models.PositiveIntegerField(_("journal lines posted"), default=0)
    error_lines = models.PositiveIntegerField(_("journal lines in error"), default=0)
    proposal_lines = models.PositiveIntegerField(_("proposal lines created"), default=0)
    waiting_rows = models.PositiveIntegerField(_("rows waiting"), default=0)
    message = models.TextField(_("message"), blank=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("import run")
        verbose_name_plural = _("import runs")
        permissions = [("run_import", _("Can run Import from staging"))]


class ImportIssue(models.Model):
    """Why a proposal got no lines in a run: what is missing, so a person can act on it."""

    run = models.ForeignKey(ImportRun, models.CASCADE, related_name="issues")
    proposal_number = models.CharField(_("proposal"), max_length=20)
    # What is missing, as a message code and its parameters, translated when shown (D48); `note`
    # holds free text only (older issues, or ones written by hand).
    code = models.CharField(_("message code"), max_length=40, blank=True)
    params = models.JSONField(_("message details"), default=dict, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("import issue")
        verbose_name_plural = _("import issues")

    @property
    def message(self) -> str:
        """The message in the active language."""
        return messages.render(self.code, self.params) if self.code else self.note

    @message.setter
    def message(self, text: str) -> None:
        self.code, self.params, self.note = "", {}, text

    text = message  # the same worded message, under the name the bridge's tests use
