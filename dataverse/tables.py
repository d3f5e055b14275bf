from datetime import timedelta

import django_tables2 as tables
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from projinv.columns import DateColumn, MoneyColumn, QuantityColumn, RateColumn
from projinv.tables import QUICK_ROWS

from .models import (
    Actual,
    ContractLine,
    Entry,
    Invoice,
    InvoiceLineDetail,
    InvoiceSchedule,
    Milestone,
    PriceList,
    ProjectContract,
    Resource,
    ResourceRole,
    TimeEntry,
    TransactionCategory,
    TransactionClass,
)
from .selectors import NotBillable

REASONS = {
    NotBillable.CONTRACT_NOT_ACTIVE: _("No: the contract is not active"),
    NotBillable.ADJUSTED: _("No: adjusted (superseded by a correction)"),
    NotBillable.NOT_CHARGEABLE: _("No: not chargeable"),
    NotBillable.NOT_READY: _("No: not marked ready to invoice"),
    NotBillable.NOT_APPROVED: _("No: not approved yet"),
}


def outside_cutoff(record, dated) -> str:
    """The reason of a row its line's next scheduled run will not take (domain.md §2.5)."""
    return _("No: outside the invoice cut-off (the run of %(run)s takes what is dated up to %(cutoff)s)") % {
        "run": date_format(record.next_run_date), "cutoff": date_format(dated)}


class TimeEntryTable(tables.Table):
    selection = tables.CheckBoxColumn(accessor="pk", orderable=False)
    resource = tables.Column(accessor="resource__name", verbose_name=_("resource"))
    project = tables.Column(accessor="project__number", verbose_name=_("project"))
    role = tables.Column(accessor="role__name", verbose_name=_("role"))
    hours = QuantityColumn()
    billable_hours = QuantityColumn()

    class Meta:
        model = TimeEntry
        fields = ("selection", "date", "resource", "project", "role", "hours", "billable_hours", "description",
                  "status")


class ActualTable(tables.Table):
    project = tables.Column(accessor="project__number", verbose_name=_("project"))
    contract = tables.Column(accessor="contract__number", verbose_name=_("contract"))
    invoice = tables.Column(accessor="invoice__number", verbose_name=_("invoice"))
    quantity = QuantityColumn()
    amount = MoneyColumn()
    accounting_amount = MoneyColumn()
    exchange_rate = RateColumn()
    pk = tables.Column(verbose_name="#")

    class Meta:
        model = Actual
        fields = ("pk", "transaction_date", "transaction_type", "transaction_class", "billing_type", "billing_status",
                  "adjustment_status", "project", "contract", "invoice", "quantity", "amount", "currency",
                  "voucher", "posting_date", "exchange_rate", "accounting_amount")


class BacklogTable(tables.Table):
    selection = tables.CheckBoxColumn(accessor="pk", orderable=False)
    not_billable = tables.Column(verbose_name=_("can it be billed?"), empty_values=())
    transaction_date = DateColumn()
    contract = tables.Column(accessor="contract__number", verbose_name=_("contract"))
    resource = tables.Column(accessor="resource__name", verbose_name=_("resource"))
    quantity = QuantityColumn()
    price = MoneyColumn()
    amount = MoneyColumn()

    class Meta:
        model = Actual
        fields = ("selection", "transaction_date", "contract", "transaction_class", "resource", "quantity", "price",
                  "amount", "currency", "billing_status", "not_billable")
        template_name = QUICK_ROWS

    def render_not_billable(self, value, record):
        if not value:
            return _("Yes")
        if value == NotBillable.ON_DRAFT:
            return _("No: already on draft %(number)s") % {"number": record.invoice.number if record.invoice else "?"}
        if value == NotBillable.OUTSIDE_CUTOFF:
            return outside_cutoff(record, record.next_run_date - timedelta(days=1))
        return REASONS[value]


class AwaitingApprovalTable(tables.Table):
    """Submitted entries nobody approved yet: not in the backlog, and why (D72)."""

    date = DateColumn(verbose_name=_("date"))
    project_number = tables.Column(verbose_name=_("project"))
    entry_class = tables.Column(verbose_name=_("class"))
    who = tables.Column(verbose_name=_("resource or category"))
    entry_quantity = QuantityColumn(verbose_name=_("quantity"))
    description = tables.Column(verbose_name=_("description"))
    not_billable = tables.Column(verbose_name=_("can it be billed?"), empty_values=(), orderable=False)

    class Meta:
        template_name = QUICK_ROWS

    def render_entry_class(self, value):
        return TransactionClass(value).label

    def render_not_billable(self, value, record):
        return REASONS[NotBillable.NOT_APPROVED]


class MilestoneBacklogTable(tables.Table):
    selection = tables.CheckBoxColumn(accessor="pk", orderable=False)
    contract = tables.Column(accessor="contract_line__contract__number", verbose_name=_("contract"))
    contract_line = tables.Column(accessor="contract_line__name", verbose_name=_("contract line"))
    amount = MoneyColumn()
    not_billable = tables.Column(verbose_name=_("can it be billed?"), empty_values=())

    class Meta:
        model = Milestone
        fields = ("selection", "milestone_date", "contract", "contract_line", "name", "amount", "currency",
                  "invoice_status", "not_billable")

    def render_not_billable(self, value, record):
        if not value:
            return _("Yes")
        if value == NotBillable.ON_DRAFT:
            return _("No: already on draft %(number)s") % {"number": record.draft_number or "?"}
        if value == NotBillable.OUTSIDE_CUTOFF:
            return outside_cutoff(record, record.next_run_date)
        return REASONS[value]


class ContractTable(tables.Table):
    selection = tables.CheckBoxColumn(accessor="pk", orderable=False)
    number = tables.Column(verbose_name=_("contract ID"), linkify=("dataverse:contract_detail", [tables.A("pk")]))
    customer = tables.Column(accessor="customer__name", verbose_name=_("customer"))
    create_invoice = tables.TemplateColumn(
        template_name="dataverse/_create_invoice_button.html", verbose_name=_("invoice"), orderable=False)

    class Meta:
        model = ProjectContract
        fields = ("selection", "number", "name", "customer", "legal_entity", "currency", "status", "create_invoice")


class InvoiceTable(tables.Table):
    selection = tables.CheckBoxColumn(accessor="pk", orderable=False)
    number = tables.Column(linkify=("dataverse:invoice_detail", [tables.A("pk")]))
    contract = tables.Column(accessor="contract__number", verbose_name=_("contract"))
    customer = tables.Column(accessor="customer__name", verbose_name=_("customer"))
    amount = MoneyColumn()
    total = MoneyColumn()
    bulk_message = tables.Column(verbose_name=_("bulk confirmation message"), orderable=False)

    class Meta:
        model = Invoice
        fields = ("selection", "number", "name", "contract", "customer", "invoice_date", "status", "amount", "total",
                  "currency", "bulk_status", "bulk_message", "customer_invoice_number")


class InvoiceLineDetailTable(tables.Table):
    selection = tables.CheckBoxColumn(accessor="pk", orderable=False)
    line = tables.Column(accessor="invoice_line__contract_line__name", verbose_name=_("Contract line"))
    transaction_date = DateColumn()
    edit = tables.TemplateColumn(template_name="dataverse/_detail_actions.html", verbose_name="", orderable=False)

    def __init__(self, *args, editable=False, selectable=False, **kwargs):
        super().__init__(*args, **kwargs)
        if not editable:
            self.columns.hide("edit")
        if not selectable:
            self.columns.hide("selection")
    quantity = QuantityColumn()
    price = MoneyColumn()
    amount = MoneyColumn()
    tax = MoneyColumn()

    class Meta:
        model = InvoiceLineDetail
        fields = ("selection", "line", "transaction_date", "transaction_class", "billing_type", "description",
                  "quantity", "price", "amount", "tax", "currency", "edit")
        template_name = QUICK_ROWS


class InvoiceScheduleTable(tables.Table):
    contract = tables.Column(accessor="contract_line__contract__number", verbose_name=_("Contract"))
    contract_line = tables.Column(accessor="contract_line__name", verbose_name=_("Contract line"))
    cutoff_date = tables.DateColumn(verbose_name=_("Transaction cut-off"), orderable=False)
    message = tables.Column(verbose_name=_("result"), orderable=False)

    class Meta:
        model = InvoiceSchedule
        fields = ("contract", "contract_line", "run_date", "cutoff_date", "run_status", "message", "ran_at")


class EntryTable(tables.Table):
    selection = tables.CheckBoxColumn(accessor="pk", orderable=False)
    category = tables.Column(accessor="category__name", verbose_name=_("category"))
    project = tables.Column(accessor="project__number", verbose_name=_("project"))
    task = tables.Column(accessor="task__name", verbose_name=_("task"))
    quantity = QuantityColumn()
    billable_quantity = QuantityColumn()

    class Meta:
        model = Entry
        fields = ("selection", "date", "transaction_class", "category", "project", "task", "quantity",
                  "billable_quantity", "description", "status")


class BillableColumn(tables.TemplateColumn):
    """An input per row: the quantity to bill when it differs from what was recorded (domain.md §2.2.3)."""

    def __init__(self, **kwargs):
        super().__init__(template_name="dataverse/_billable_input.html", verbose_name=_("billable"),
                         orderable=False, **kwargs)


class TimeQueueTable(TimeEntryTable):
    billable = BillableColumn()

    class Meta(TimeEntryTable.Meta):
        fields = ("selection", "date", "resource", "project", "role", "hours", "billable", "description")
        exclude = ("billable_hours", "status")
        prefix = "time-"


class EntryQueueTable(EntryTable):
    billable = BillableColumn()

    class Meta(EntryTable.Meta):
        fields = ("selection", "date", "transaction_class", "category", "project", "task", "quantity", "billable",
                  "description")
        exclude = ("billable_quantity", "status")
        prefix = "other-"


class ContractLineTable(tables.Table):
    name = tables.Column(linkify=("dataverse:line_edit", [tables.A("pk")]))
    contract = tables.Column(accessor="contract__number", verbose_name=_("contract"))
    project = tables.Column(accessor="project__number", verbose_name=_("project"))
    classes = tables.Column(verbose_name=_("includes"), accessor="pk", orderable=False)
    task_count = tables.Column(verbose_name=_("task rules"))

    class Meta:
        model = ContractLine
        fields = ("contract", "name", "project", "billing_method", "included_tasks", "classes", "task_count",
                  "modified_on")

    def render_classes(self, record):
        from .models import TransactionClass

        return ", ".join(str(TransactionClass(c).label) for c in record.included_classes)


class TransactionCategoryTable(tables.Table):
    name = tables.Column(linkify=("dataverse:category_edit", [tables.A("pk")]))

    class Meta:
        model = TransactionCategory
        fields = ("name", "transaction_class", "unit", "modified_on")


class PriceListTable(tables.Table):
    name = tables.Column(linkify=("dataverse:price_list_detail", [tables.A("pk")]))
    role_count = tables.Column(verbose_name=_("role prices"))
    category_count = tables.Column(verbose_name=_("category prices"))

    class Meta:
        model = PriceList
        fields = ("name", "currency", "role_count", "category_count")


class ResourceRoleTable(tables.Table):
    name = tables.Column(linkify=("dataverse:role_edit", [tables.A("pk")]))
    resources = tables.Column(verbose_name=_("resources"), orderable=False)

    class Meta:
        model = ResourceRole
        fields = ("name", "resources")


class ResourceTable(tables.Table):
    name = tables.Column(linkify=("dataverse:resource_edit", [tables.A("pk")]))
    role = tables.Column(accessor="role__name", verbose_name=_("default role"))

    class Meta:
        model = Resource
        fields = ("name", "role")
