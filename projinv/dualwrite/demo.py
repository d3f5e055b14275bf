"""Demo data for both systems, with matching business keys on each side.

It lives in the bridge because it is the one place allowed to know both systems; in production
the master-data maps (customers, contracts, projects, domain.md §3.3) would carry these keys.
Every step is idempotent: loading twice adds nothing.
"""

from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils import timezone

from dataverse import models as dv
from dataverse.services import entries
from finance import models as fin
from finance.models import CATEGORY_TYPE
from finance.services import setup as finance_setup
from projinv import roles

LEGAL_ENTITY = "USPM"
DEMO_PASSWORD = "demo"
USERS = [
    # username, first name, last name, role (None: superuser)
    ("pm", "Paula", "Manager", roles.PROJECT_MANAGER),
    ("accountant", "Aaron", "Accountant", roles.PROJECT_ACCOUNTANT),
    ("arclerk", "Rita", "Receivables", roles.AR_CLERK),
    ("integration", "Ivan", "Integration", roles.INTEGRATION_ADMIN),
    ("admin", "Ada", "Admin", None),
]
ACCOUNTS = {
    "customer_balance": ("130100", "Accounts receivable – domestic"),
    "invoiced_revenue": ("401100", "Project invoiced revenue"),
    "wip_sales_value": ("132200", "WIP – sales value"),
    "accrued_revenue": ("401200", "Accrued revenue – time"),
    "cost": ("600100", "Project cost – hours"),
    "cost_offset": ("600900", "Payroll allocation (cost offset)"),
    "sales_tax": ("222200", "Sales tax payable"),
    "wip_cost_value": ("132100", "WIP – cost value"),
    "wip_invoiced_on_account": ("132300", "WIP – invoiced on account"),
    "invoiced_revenue_on_account": ("401300", "Invoiced revenue on account"),
}
CUSTOMERS = [("C-1001", "Fabrikam Ltd"), ("C-1002", "Contoso Pharmaceuticals")]
# Fabrikam is tax-exempt (a reseller); Contoso pays the state's 8.25 % on services.
TAX_GROUPS = [("EXEMPT", "Exempt (resale)", Decimal("0")), ("US-WA", "Washington", Decimal("8.25"))]
CUSTOMER_TAX_GROUPS = ["EXEMPT", "US-WA"]
ROLE_PRICES = {"Consultant": (Decimal("100"), Decimal("200")), "Architect": (Decimal("150"), Decimal("300"))}
# Transaction categories: name, class, unit, (cost price, sales price); a fee has no cost.
CATEGORIES = [
    ("Airfare", "expense", "each", (Decimal("400"), Decimal("440"))),
    ("Hotel", "expense", "night", (Decimal("150"), Decimal("165"))),
    ("Hardware", "material", "each", (Decimal("900"), Decimal("1100"))),
    ("Setup fee", "fee", "each", (None, Decimal("500"))),
]


def load_users() -> dict[str, User]:
    roles.sync_roles()
    users = {}
    for username, first, last, role in USERS:
        user, created = User.objects.get_or_create(
            username=username, defaults={"first_name": first, "last_name": last, "is_staff": role is None,
                                         "is_superuser": role is None})
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        if role:
            user.groups.add(Group.objects.get(name=role))
        users[username] = user
    return users


@transaction.atomic(using="finance")
def load_finance() -> None:
    entity, _ = fin.LegalEntity.objects.get_or_create(
        code=LEGAL_ENTITY, defaults={"name": "Contoso Consulting USA", "accounting_currency": "USD"})
    for number, name in ACCOUNTS.values():
        fin.LedgerAccount.objects.get_or_create(legal_entity=entity, number=number, defaults={"name": name})
    fin.PostingSetup.objects.get_or_create(
        legal_entity=entity, defaults={field: number for field, (number, _name) in ACCOUNTS.items()})
    services, _ = fin.ItemSalesTaxGroup.objects.get_or_create(legal_entity=entity, code="SERV",
                                                              defaults={"name": "Professional services"})
    for code, name, percent in TAX_GROUPS:
        group, _ = fin.SalesTaxGroup.objects.get_or_create(legal_entity=entity, code=code, defaults={"name": name})
        fin.TaxRate.objects.get_or_create(sales_tax_group=group, item_tax_group=services,
                                          defaults={"percent": percent})
    if not entity.default_item_tax_group:
        fin.LegalEntity.objects.filter(pk=entity.pk).update(default_item_tax_group="SERV")
    for (number, name), tax_group in zip(CUSTOMERS, CUSTOMER_TAX_GROUPS, strict=True):
        fin.Customer.objects.get_or_create(legal_entity=entity, number=number,
                                           defaults={"name": name, "payment_days": 30, "sales_tax_group": tax_group})
    entity.refresh_from_db()
    # Project Operations set-up: shared categories, line properties, parameters, T&M and FP profiles.
    finance_setup.enable_project_operations(legal_entity=entity)
    fin.ProjectGroup.objects.get_or_create(legal_entity=entity, code="TM",
                                           defaults={"name": "Time and material projects"})
    # A project category per Dataverse transaction category (domain.md §2.0.4), matched by name.
    for name, transaction_class, _unit, _prices in CATEGORIES:
        fin.ProjectCategory.objects.get_or_create(
            legal_entity=entity, code=name.upper().replace(" ", "-"),
            defaults={"name": name, "category_type": fin.CategoryType(CATEGORY_TYPE[transaction_class]),
                      "transaction_category": name, "item_tax_group": "SERV"})


@transaction.atomic
def load_dataverse(*, approver: User, entries_per_project: int = 8) -> bool:
    """Master data (through the services, so the bridge hears of it), time entries, most approved,
    and expense entries waiting for approval. False if loaded before."""
    from dataverse.services import contract_lines, contracts, masterdata

    if dv.Customer.objects.filter(number=CUSTOMERS[0][0]).exists():
        return False
    cost_list = masterdata.create_price_list(name="USPM cost 2026", currency="USD", by=approver)
    sales_list = masterdata.create_price_list(name="USPM sales 2026", currency="USD", by=approver)
    resources = []
    for role_name, (cost, sales) in ROLE_PRICES.items():
        role = dv.ResourceRole.objects.create(name=role_name)
        masterdata.set_price(price_list_id=cost_list.pk, role_id=role.pk, price=cost, by=approver)
        masterdata.set_price(price_list_id=sales_list.pk, role_id=role.pk, price=sales, by=approver)
        resources.append(dv.Resource.objects.create(name={"Consultant": "Alice Consultant",
                                                          "Architect": "Bob Architect"}[role_name], role=role))
    categories = {}
    for name, transaction_class, unit, (cost, sales) in CATEGORIES:
        category = masterdata.save_transaction_category(name=name, transaction_class=transaction_class, unit=unit,
                                                        by=approver)
        if cost is not None:
            masterdata.set_price(price_list_id=cost_list.pk, category_id=category.pk, price=cost, by=approver)
        masterdata.set_price(price_list_id=sales_list.pk, category_id=category.pk, price=sales, by=approver)
        categories[name] = category
    today = timezone.localdate()
    for index, (number, name) in enumerate(CUSTOMERS, start=1):
        customer = dv.Customer.objects.create(number=number, name=name, legal_entity=LEGAL_ENTITY)
        project = masterdata.create_project(number=f"PRJ-100{index}", name=f"ERP rollout for {name}",
                                            legal_entity=LEGAL_ENTITY, cost_price_list_id=cost_list.pk,
                                            tasks=("Design and build",), by=approver)
        task = project.tasks.get()
        contract = contracts.create_contract(
            number=f"PC-100{index}", name=f"{name} – ERP rollout", customer_id=customer.pk, legal_entity=LEGAL_ENTITY,
            currency="USD", sales_price_list_id=sales_list.pk, by=approver)
        contract_lines.save_contract_line(
            contract_id=contract.pk, name="Time and material – consulting", project_id=project.pk,
            billing_method=dv.ContractLine.BillingMethod.TIME_AND_MATERIAL, include_expense=True,
            include_material=True, include_fee=True, by=approver)
        contracts.change_contract_status(contract_id=contract.pk, status=dv.ProjectContract.Status.ACTIVE,
                                         by=approver)
        created = dv.TimeEntry.objects.bulk_create(
            dv.TimeEntry(resource=resources[i % 2], role=resources[i % 2].role, project=project, task=task,
                         date=today - timedelta(days=entries_per_project - i), hours=Decimal(8 if i % 3 else 6),
                         description=f"Workshop and configuration, day {i + 1}")
            for i in range(entries_per_project))
        to_approve = [e.pk for e in created[: max(entries_per_project - 2, 1)]]
        entries.submit_time_entries(entry_ids=[e.pk for e in created[:-1]], by=approver)
        entries.approve_time_entries(entry_ids=to_approve, by=approver)
        # Expenses wait in the approval queue: approving them is the manager's first demo step.
        expenses = [entries.create_entry(transaction_class=category.transaction_class, category_id=category.pk,
                                         project_id=project.pk, task_id=task.pk, resource_id=resources[0].pk,
                                         date=today - timedelta(days=1), quantity=quantity, description=text,
                                         by=approver)
                    for category, quantity, text in ((categories["Airfare"], Decimal(1), "Flight to the workshop"),
                                                     (categories["Hotel"], Decimal(2), "Two nights near the client"))]
        entries.submit_entries(entry_ids=[e.pk for e in expenses], by=approver)
    return True


def load(*, entries_per_project: int = 8) -> dict[str, User]:
    users = load_users()
    load_finance()
    load_dataverse(approver=users["pm"], entries_per_project=entries_per_project)
    return users
