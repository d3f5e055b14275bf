"""Dataverse in the admin: master data editable; actuals and confirmed invoices read-only."""

from django.contrib import admin

from projinv.admin import ReadOnlyAdmin, ReadOnlyWhenAdmin

from . import models
from .services import masterdata, resources


@admin.register(models.Customer, models.ProjectTask)
class MasterDataAdmin(admin.ModelAdmin):
    pass


class NamedOnActualsAdmin(admin.ModelAdmin):
    """Roles and resources: actuals carry their names to finance, so a name they carry is read-only
    here as on the portal (D73); saved through the services, which check the same."""

    carried_by = ""  # the Actual field that points to the model

    def get_readonly_fields(self, request, obj=None):
        if obj and models.Actual.objects.filter(**{self.carried_by: obj}).exists():
            return ["name"]
        return []


@admin.register(models.ResourceRole)
class ResourceRoleAdmin(NamedOnActualsAdmin):
    carried_by = "role"

    def save_model(self, request, obj, form, change):
        obj.pk = resources.save_resource_role(name=obj.name, role_id=obj.pk if change else None,
                                              by=request.user).pk


@admin.register(models.Resource)
class ResourceAdmin(NamedOnActualsAdmin):
    carried_by = "resource"
    list_display = ["name", "role"]

    def save_model(self, request, obj, form, change):
        obj.pk = resources.save_resource(name=obj.name, role_id=obj.role_id, resource_id=obj.pk if change else None,
                                         by=request.user).pk


@admin.register(models.Project)
class ProjectAdmin(admin.ModelAdmin):
    """Saved through the services, so that the bridge hears of every change; the number is the key."""

    list_display = ["number", "name", "legal_entity", "modified_on"]

    def get_readonly_fields(self, request, obj=None):
        return ["number", "legal_entity", "modified_on"] if obj else ["modified_on"]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            saved = masterdata.update_project(project_id=obj.pk, name=data["name"],
                                              cost_price_list_id=data["cost_price_list"].pk, by=request.user)
        else:
            saved = masterdata.create_project(number=data["number"], name=data["name"],
                                              legal_entity=data["legal_entity"],
                                              cost_price_list_id=data["cost_price_list"].pk, by=request.user)
        obj.pk = saved.pk

    def has_delete_permission(self, request, obj=None):
        return False  # projects carry actuals; finance keeps them for ever


@admin.register(models.TransactionCategory)
class TransactionCategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "transaction_class", "unit", "modified_on"]

    def get_readonly_fields(self, request, obj=None):
        return ["name", "modified_on"] if obj else ["modified_on"]

    def save_model(self, request, obj, form, change):
        saved = masterdata.save_transaction_category(
            category_id=obj.pk if change else None, name=obj.name, transaction_class=obj.transaction_class,
            unit=obj.unit, by=request.user)
        obj.pk = saved.pk

    def has_delete_permission(self, request, obj=None):
        return False


class CategoryPriceInline(admin.TabularInline):
    model = models.CategoryPrice


class RolePriceInline(admin.TabularInline):
    model = models.RolePrice


@admin.register(models.PriceList)
class PriceListAdmin(admin.ModelAdmin):
    inlines = [RolePriceInline, CategoryPriceInline]


class ContractLineInline(admin.TabularInline):
    """Read-only here: lines are edited on the portal, which checks the included tasks."""

    model = models.ContractLine
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ContractCustomerInline(admin.TabularInline):
    """Read-only here: splits are set on the contract's page, which checks they add up (BR-14)."""

    model = models.ContractCustomer
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(models.ProjectContract)
class ProjectContractAdmin(ReadOnlyAdmin):
    """Contracts are created and changed on the portal, through the services that tell the bridge."""

    list_display = ["number", "name", "customer", "currency", "status"]
    inlines = [ContractLineInline, ContractCustomerInline]


class SourceDocumentAdmin(ReadOnlyWhenAdmin):
    """The status moves only through the services (approval creates the actuals); approved is locked."""

    readonly_fields = ["status", "submitted_at", "approved_at", "approved_by"]

    def is_locked(self, obj):
        return obj.status == models.EntryStatus.APPROVED


@admin.register(models.TimeEntry)
class TimeEntryAdmin(SourceDocumentAdmin):
    list_display = ["date", "resource", "project", "hours", "status"]
    list_filter = ["status"]
    readonly_fields = [*SourceDocumentAdmin.readonly_fields, "billable_hours"]


@admin.register(models.Entry)
class EntryAdmin(SourceDocumentAdmin):
    list_display = ["date", "transaction_class", "category", "project", "quantity", "status"]
    list_filter = ["status", "transaction_class"]
    readonly_fields = [*SourceDocumentAdmin.readonly_fields, "billable_quantity"]


@admin.register(models.ContractLineTask, models.ContractLineRole, models.ContractLineCategory)
class ChargeabilityAdmin(ReadOnlyAdmin):
    """Set with the line on the portal, which checks the included tasks do not overlap."""


@admin.register(models.Actual)
class ActualAdmin(ReadOnlyAdmin):
    """Actuals are never created, edited or deleted by hand (BR-07)."""

    list_display = ["pk", "transaction_type", "transaction_class", "billing_status", "quantity", "amount",
                    "currency", "voucher"]
    list_filter = ["transaction_type", "billing_status", "adjustment_status", "skip_sync"]
    list_select_related = True


@admin.register(models.ContractCustomer)
class ContractCustomerAdmin(ReadOnlyAdmin):
    list_display = ["contract", "customer", "split_percent", "is_rounding"]


@admin.register(models.ContractLineCustomer)
class ContractLineCustomerAdmin(ReadOnlyAdmin):
    """Read-only: a line's customers are set on its portal page, where the splits are checked."""

    list_display = ["contract_line", "customer", "split_percent", "is_rounding"]
    list_select_related = ["contract_line", "customer"]


@admin.register(models.TransactionConnection)
class TransactionConnectionAdmin(ReadOnlyAdmin):
    list_display = ["transaction1", "transaction1_role", "transaction2", "transaction2_role"]


class InvoiceLineInline(admin.TabularInline):
    model = models.InvoiceLine
    can_delete = False
    extra = 0

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(models.Invoice)
class InvoiceAdmin(ReadOnlyWhenAdmin):
    """Only the name and dates of a draft: status, totals and parties move through the services."""

    list_display = ["number", "name", "status", "total", "currency", "customer_invoice_number"]
    list_filter = ["status"]
    inlines = [InvoiceLineInline]
    fields = ["number", "name", "contract", "customer", "currency", "invoice_date", "status", "amount", "tax",
              "total", "confirmed_by", "confirmed_at", "customer_invoice_number", "customer_invoice_date",
              "posted_at", "has_corrections", "corrects", "bulk_status", "bulk_message"]
    readonly_fields = [f for f in fields if f not in ("name", "invoice_date")]

    def is_locked(self, obj):
        return not obj.is_editable

    def has_add_permission(self, request):
        return False  # invoices are created from the backlog, never by hand


@admin.register(models.InvoiceLine)
class InvoiceLineAdmin(ReadOnlyAdmin):
    list_display = ["invoice", "contract_line", "amount", "tax", "extended_amount"]


@admin.register(models.InvoiceSchedule)
class InvoiceScheduleAdmin(admin.ModelAdmin):
    list_display = ["contract_line", "run_date", "run_status", "message", "ran_at"]
    list_filter = ["run_status"]
    readonly_fields = ["run_status", "message", "ran_at"]
    exclude = ["result_code", "result_params"]


@admin.register(models.RolePrice, models.CategoryPrice)
class PriceAdmin(admin.ModelAdmin):
    pass


@admin.register(models.ContractLine)
class ContractLineAdmin(ReadOnlyAdmin):
    list_display = ["contract", "name", "project", "billing_method", "included_tasks"]


@admin.register(models.InvoiceLineDetail)
class InvoiceLineDetailAdmin(ReadOnlyAdmin):
    list_display = ["invoice", "transaction_class", "quantity", "amount", "currency"]


@admin.register(models.Milestone)
class MilestoneAdmin(ReadOnlyAdmin):
    """Set on the line's page, which checks they total the line's value (BR-13) and tells the bridge."""

    list_display = ["contract_line", "name", "milestone_date", "amount", "currency", "invoice_status"]
    list_filter = ["invoice_status"]
