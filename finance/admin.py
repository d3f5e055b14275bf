"""Finance in the admin: set-up editable; posted documents read-only (the database refuses anyway)."""

from django.contrib import admin

from projinv.admin import ReadOnlyAdmin, ReadOnlyWhenAdmin

from . import models


@admin.register(models.LegalEntity, models.LedgerAccount, models.PostingSetup, models.Customer,
                models.ExchangeRate, models.NumberSequence, models.FiscalPeriod, models.SalesTaxGroup,
                models.ItemSalesTaxGroup, models.TaxRate, models.ProjectGroup, models.LineProperty,
                models.ProjectCategory, models.IntegrationParameters, models.CostRevenueProfile,
                models.CostRevenueProfileRule)
class SetupAdmin(admin.ModelAdmin):
    pass


@admin.register(models.ActualStaging)
class ActualStagingAdmin(ReadOnlyAdmin):
    list_display = ["dataverse_actual_id", "transaction_type", "status", "wait_reason", "amount", "currency"]
    list_filter = ["status", "transaction_type", "wait_reason"]
    search_fields = ["dataverse_actual_id", "invoice_number"]


@admin.register(models.ImportRun, models.ImportIssue, models.IntegrationJournal, models.IntegrationJournalLine,
                models.ProjectTransaction, models.Voucher, models.LedgerEntry, models.ProjectInvoice,
                models.CustomerTransaction, models.InvoiceProposalLine, models.TransactionConnectionStaging)
class RecordAdmin(ReadOnlyAdmin):
    pass


@admin.register(models.InvoiceProposal)
class InvoiceProposalAdmin(ReadOnlyWhenAdmin):
    """Only accounting fields are editable, and only until the proposal is posted."""

    list_display = ["number", "customer_number", "status", "amount", "currency"]
    list_filter = ["status"]
    fields = ["number", "customer_number", "contract_number", "currency", "status", "amount", "tax",
              "invoice_date", "due_date"]
    # Dates go through the proposal page, which recalculates the due date and checks it (BR-25).
    readonly_fields = fields

    def is_locked(self, obj):
        return obj.status == models.InvoiceProposal.Status.POSTED

    def has_add_permission(self, request):
        return False  # only dual-write creates proposals (domain.md §4.9)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(models.ProjectContract, models.FundingSource, models.ContractBillingRule, models.TransactionCategory,
                models.OnAccountTransaction)
class MasterDataAdmin(ReadOnlyAdmin):
    """Mastered in Dataverse: created, changed and deleted only through the bridge."""

    list_display = ["__str__", "active", "modified_on"]
    list_filter = ["active"]


@admin.register(models.Project)
class ProjectAdmin(admin.ModelAdmin):
    """Only the project group is finance's to set."""

    list_display = ["project_number", "name", "legal_entity", "project_group", "active"]
    fields = ["project_number", "name", "legal_entity", "project_group", "active", "modified_on"]
    readonly_fields = ["project_number", "name", "legal_entity", "active", "modified_on"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
