import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from projinv.columns import DateColumn, MoneyColumn, QuantityColumn, RateColumn, ShortIdColumn
from projinv.tables import QUICK_ROWS

from .models import (
    ActualStaging,
    CustomerTransaction,
    ImportRun,
    IntegrationJournal,
    IntegrationJournalLine,
    InvoiceProposal,
    InvoiceProposalLine,
    ProjectInvoice,
    ProjectTransaction,
    Voucher,
)


class StagingTable(tables.Table):
    dataverse_actual_id = ShortIdColumn()
    exchange_rate = RateColumn()
    quantity = QuantityColumn()
    amount = MoneyColumn()
    accounting_amount = MoneyColumn()

    class Meta:
        model = ActualStaging
        fields = ("dataverse_actual_id", "transaction_type", "transaction_class", "transaction_category",
                  "project_number", "invoice_number",
                  "transaction_date", "quantity", "amount", "currency", "status", "wait_reason", "voucher",
                  "exchange_rate", "accounting_amount")


class ImportRunTable(tables.Table):
    pk = tables.Column(verbose_name=_("run"))
    class Meta:
        model = ImportRun
        fields = ("pk", "started_at", "finished_at", "status", "triggered_by", "proposal_number", "journal_lines",
                  "error_lines", "proposal_lines", "waiting_rows", "message")


class JournalTable(tables.Table):
    number = tables.Column(linkify=("finance:journal_detail", [tables.A("pk")]))
    line_count = tables.Column(verbose_name=_("lines"), attrs={"td": {"class": "number"}})

    class Meta:
        model = IntegrationJournal
        fields = ("number", "legal_entity", "period", "status", "original_journal", "line_count", "posted_at")


class JournalLineTable(tables.Table):
    actual = ShortIdColumn(accessor="staging__dataverse_actual_id", verbose_name=_("Dataverse actual"))
    quantity = QuantityColumn()
    amount = MoneyColumn()
    accounting_amount = MoneyColumn()
    error = tables.Column(verbose_name=_("error"), orderable=False, empty_values=())

    class Meta:
        model = IntegrationJournalLine
        fields = ("voucher", "actual", "transaction_type", "accounting_date", "category", "line_property", "profile",
                  "ledger_posting", "quantity", "amount", "currency", "accounting_amount", "status", "error")


class ProjectTransactionTable(tables.Table):
    quantity = QuantityColumn()
    exchange_rate = RateColumn()
    amount = MoneyColumn()
    accounting_amount = MoneyColumn()

    class Meta:
        model = ProjectTransaction
        fields = ("voucher", "accounting_date", "project_number", "transaction_type", "transaction_class", "category",
                  "line_property", "quantity", "amount", "currency", "exchange_rate", "accounting_amount", "status")


class ProposalTable(tables.Table):
    selection = tables.CheckBoxColumn(accessor="pk", orderable=False)
    import_message = tables.Column(verbose_name=_("import message"), orderable=False, empty_values=())
    number = tables.Column(linkify=("finance:proposal_detail", [tables.A("pk")]))
    tax = MoneyColumn()
    amount = MoneyColumn()

    class Meta:
        model = InvoiceProposal
        fields = ("selection", "number", "customer_number", "contract_number", "invoice_date", "due_date", "status",
                  "expected_line_count", "amount", "tax", "currency", "import_message")


class ProposalLineTable(tables.Table):
    selection = tables.CheckBoxColumn(accessor="pk", orderable=False)
    transaction_date = DateColumn()
    quantity = QuantityColumn()
    price = MoneyColumn()
    amount = MoneyColumn()
    tax = MoneyColumn()

    class Meta:
        model = InvoiceProposalLine
        fields = ("selection", "transaction_date", "transaction_class", "billing_type", "line_property", "chargeable",
                  "quantity", "price", "amount", "sales_tax_group", "item_tax_group", "tax", "currency")
        template_name = QUICK_ROWS

    def __init__(self, *args, editable=False, **kwargs):
        super().__init__(*args, **kwargs)
        if not editable:
            self.columns.hide("selection")


class ProjectInvoiceTable(tables.Table):
    voucher = tables.Column(linkify=("finance:voucher_detail", [tables.A("voucher_id")]),
                            accessor="voucher__number", verbose_name=_("voucher"))
    proposal = tables.Column(accessor="proposal__number", verbose_name=_("proposal"))
    total = MoneyColumn()
    accounting_total = MoneyColumn()

    class Meta:
        model = ProjectInvoice
        fields = ("number", "proposal", "customer_number", "invoice_date", "due_date", "total", "currency",
                  "accounting_total", "is_credit_note", "voucher")


class CustomerTransactionTable(tables.Table):
    invoice = tables.Column(accessor="invoice__number", verbose_name=_("invoice"))
    amount = MoneyColumn()
    accounting_amount = MoneyColumn()

    class Meta:
        model = CustomerTransaction
        fields = ("invoice", "customer_number", "date", "due_date", "amount", "currency", "accounting_amount")


class VoucherTable(tables.Table):
    number = tables.Column(linkify=("finance:voucher_detail", [tables.A("pk")]))

    class Meta:
        model = Voucher
        fields = ("number", "legal_entity", "date", "source", "description")
