"""The accountant's set-up and master-data pages, declared once each: a sortable, filterable,
paginated list, and (where finance owns the record) a create / edit form.

Every page needs its model's view permission; the forms need add or change. Master data that
Dataverse owns is listed read-only; only finance's own attributes (a project's group) are editable.
"""

from collections.abc import Callable
from dataclasses import dataclass

import django_tables2 as tables
from django.forms import modelform_factory
from django.utils.translation import gettext_lazy as _

from projinv.columns import RIGHT

from . import models
from .services import setup


@dataclass(frozen=True)
class SetupPage:
    slug: str
    model: type
    columns: tuple[str, ...]
    filters: tuple[str, ...] = ()
    form_fields: tuple[str, ...] = ()  # empty: read-only (Dataverse's master data)
    can_add: bool = True
    related: tuple[str, ...] = ()  # select_related for the list: one query per page whatever the rows
    section: str = "setup"
    help: str = ""
    # Called with the new record after the form created it (not after an edit).
    after_create: Callable | None = None
    form_template: str = "finance/setup_form.html"
    # Business keys other records name by value (staging rows name a legal entity by its code): shown,
    # never changed once created.
    fixed_on_edit: tuple[str, ...] = ()

    @property
    def name(self):
        return self.slug.replace("-", "_")

    @property
    def title(self):
        return self.model._meta.verbose_name_plural.capitalize()

    @property
    def view_permission(self):
        return f"finance.view_{self.model._meta.model_name}"

    @property
    def add_permission(self):
        return f"finance.add_{self.model._meta.model_name}"

    @property
    def change_permission(self):
        return f"finance.change_{self.model._meta.model_name}"

    @property
    def editable(self):
        return bool(self.form_fields)

    def queryset(self):
        return self.model.objects.select_related(*self.related).order_by(*(self.model._meta.ordering or ["pk"]))

    def table_class(self):
        attrs = {"Meta": type("Meta", (), {"model": self.model, "fields": self.columns})}
        if self.editable:
            attrs["edit"] = tables.LinkColumn(f"finance:setup_{self.name}_edit", args=[tables.A("pk")],
                                              text=_("Edit"), orderable=False, verbose_name="", attrs=RIGHT)
        return type(f"{self.model.__name__}SetupTable", (tables.Table,), attrs)

    def form_class(self):
        return modelform_factory(self.model, fields=self.form_fields)


MASTER_DATA = "master_data"

PAGES = [
    # Accounting set-up (finance owns it).
    SetupPage("legal-entities", models.LegalEntity,
              ("code", "name", "accounting_currency", "roll_to_open_period", "default_item_tax_group"),
              form_fields=("code", "name", "accounting_currency", "roll_to_open_period", "default_item_tax_group"),
              after_create=lambda entity: setup.enable_project_operations(legal_entity=entity),
              fixed_on_edit=("code",),
              help=_("A new legal entity is enabled for Project Operations: it gets the shared categories, line "
                     "properties, parameters and a default profile for each billing method.")),
    SetupPage("ledger-accounts", models.LedgerAccount, ("legal_entity", "number", "name"), filters=("legal_entity",),
              form_fields=("legal_entity", "number", "name"), related=("legal_entity",)),
    SetupPage("posting-setups", models.PostingSetup,
              ("legal_entity", "customer_balance", "invoiced_revenue", "wip_sales_value", "accrued_revenue", "cost",
               "cost_offset", "sales_tax"),
              form_fields=("legal_entity", *models.PostingSetup.ACCOUNT_FIELDS), related=("legal_entity",)),
    SetupPage("customers", models.Customer, ("legal_entity", "number", "name", "payment_days", "sales_tax_group"),
              filters=("legal_entity",), related=("legal_entity",),
              form_fields=("legal_entity", "number", "name", "payment_days", "sales_tax_group")),
    SetupPage("exchange-rates", models.ExchangeRate, ("from_currency", "to_currency", "valid_from", "rate"),
              filters=("from_currency", "to_currency"),
              form_fields=("from_currency", "to_currency", "valid_from", "rate")),
    SetupPage("sales-tax-groups", models.SalesTaxGroup, ("legal_entity", "code", "name"), filters=("legal_entity",),
              form_fields=("legal_entity", "code", "name"), related=("legal_entity",)),
    SetupPage("item-tax-groups", models.ItemSalesTaxGroup, ("legal_entity", "code", "name"),
              filters=("legal_entity",), form_fields=("legal_entity", "code", "name"), related=("legal_entity",)),
    SetupPage("tax-rates", models.TaxRate, ("sales_tax_group", "item_tax_group", "percent"),
              form_fields=("sales_tax_group", "item_tax_group", "percent"),
              related=("sales_tax_group__legal_entity", "item_tax_group__legal_entity")),
    SetupPage("fiscal-periods", models.FiscalPeriod, ("legal_entity", "name", "start", "end", "closed"),
              filters=("legal_entity", "closed"), form_fields=("legal_entity", "name", "start", "end"),
              related=("legal_entity",), form_template="finance/fiscal_period_form.html",
              help=_("Open a period to close or reopen it. Dates in a closed period move to the next open period "
                     "when the legal entity allows it.")),
    SetupPage("project-groups", models.ProjectGroup, ("legal_entity", "code", "name"), filters=("legal_entity",),
              form_fields=("legal_entity", "code", "name"), related=("legal_entity",)),
    SetupPage("parameters", models.IntegrationParameters,
              ("legal_entity", "period_unit", "chargeable_line_property", "non_chargeable_line_property",
               "hour_category", "expense_category"),
              form_fields=("period_unit", "not_specified_line_property", "chargeable_line_property",
                           "non_chargeable_line_property", "complimentary_line_property",
                           "not_available_line_property", "hour_category", "expense_category", "item_category",
                           "fee_category"),
              can_add=False, related=("legal_entity", "chargeable_line_property__legal_entity",
                                      "non_chargeable_line_property__legal_entity", "hour_category__legal_entity",
                                      "expense_category__legal_entity"),
              help=_("Created when a legal entity is enabled for Project Operations.")),
    SetupPage("line-properties", models.LineProperty, ("legal_entity", "code", "name", "chargeable", "accrue_revenue"),
              filters=("legal_entity",), form_fields=("legal_entity", "code", "name", "chargeable", "accrue_revenue"),
              related=("legal_entity",)),
    SetupPage("project-categories", models.ProjectCategory,
              ("legal_entity", "code", "name", "category_type", "transaction_category", "item_tax_group"),
              filters=("legal_entity", "category_type"), related=("legal_entity",),
              form_fields=("legal_entity", "code", "name", "category_type", "transaction_category",
                           "item_tax_group")),
    SetupPage("profiles", models.CostRevenueProfile,
              ("legal_entity", "code", "name", "billing_method", "post_costs_hour", "accrue_revenue_hour",
               "on_account_invoicing"), filters=("legal_entity", "billing_method"), related=("legal_entity",),
              form_fields=("legal_entity", "code", "name", "billing_method", "post_costs_hour", "post_costs_expense",
                           "post_costs_item", "on_account_invoicing", "accrue_revenue_hour",
                           "accrue_revenue_expense", "accrue_revenue_item", "accrue_revenue_fee")),
    SetupPage("profile-rules", models.CostRevenueProfileRule,
              ("legal_entity", "profile", "project_number", "contract_number", "project_group"),
              filters=("legal_entity",), related=("legal_entity", "profile__legal_entity", "project_group"),
              form_fields=("legal_entity", "profile", "project_number", "contract_number", "project_group"),
              help=_("The most specific rule wins: project, then contract, then project group, then a rule for all "
                     "projects; only profiles of the transaction's billing method apply.")),
    # Master data from Dataverse (read-only here; the project group is finance's own).
    SetupPage("contracts", models.ProjectContract,
              ("contract_number", "name", "legal_entity", "customer_number", "currency", "status", "active",
               "modified_on"), filters=("legal_entity", "active"), section=MASTER_DATA, can_add=False),
    SetupPage("funding-sources", models.FundingSource,
              ("contract_number", "customer_number", "is_primary", "active", "modified_on"),
              filters=("contract_number", "active"), section=MASTER_DATA, can_add=False),
    SetupPage("billing-rules", models.ContractBillingRule,
              ("contract_number", "line_name", "project_number", "billing_method", "active", "modified_on"),
              filters=("contract_number", "billing_method", "active"), section=MASTER_DATA, can_add=False),
    SetupPage("projects", models.Project,
              ("project_number", "name", "legal_entity", "project_group", "active", "modified_on"),
              filters=("legal_entity", "project_group", "active"), form_fields=("project_group",),
              related=("project_group",), section=MASTER_DATA, can_add=False),
    SetupPage("transaction-categories", models.TransactionCategory,
              ("category", "transaction_class", "active", "modified_on"), filters=("transaction_class", "active"),
              section=MASTER_DATA, can_add=False),
    SetupPage("on-account-transactions", models.OnAccountTransaction,
              ("contract_number", "line_name", "project_number", "name", "milestone_date", "amount", "currency",
               "status", "item_tax_group", "active"), filters=("contract_number", "status", "active"),
              section=MASTER_DATA, can_add=False, form_fields=("item_tax_group",),
              help=_("Only the item sales tax group is finance's to set, until the milestone is on a proposal.")),
]
BY_SLUG = {page.slug: page for page in PAGES}
