"""Projects, transaction categories and price lists: master data written only here, so that every
change is announced to the bridge (`master_data_changed`, contract.md)."""

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from projinv.domain import DomainError

from .. import selectors
from ..models import CategoryPrice, PriceList, Project, ProjectTask, RolePrice, TransactionCategory
from ..signals import master_data_changed


def announce(entity: str, rows: list[dict]) -> None:
    """Tell the bridge, inside the caller's transaction, so the outbox row commits with the change."""
    if rows:
        master_data_changed.send(sender=Project, entity=entity, rows=rows)


@transaction.atomic
def create_project(*, number: str, name: str, legal_entity: str, cost_price_list_id: int, by,
                   tasks: tuple[str, ...] = ()) -> Project:
    if Project.objects.filter(number=number).exists():
        raise DomainError(_("There is already a project %(number)s.") % {"number": number})
    project = Project.objects.create(number=number, name=name, legal_entity=legal_entity,
                                     cost_price_list_id=cost_price_list_id)
    ProjectTask.objects.bulk_create(ProjectTask(project=project, name=task) for task in tasks)
    announce(selectors.PROJECTS, selectors.project_rows([project.pk]))
    return project


@transaction.atomic
def update_project(*, project_id: int, by, name: str, cost_price_list_id: int) -> Project:
    """Rename or re-price a project; its number is its key in finance and never changes."""
    project = Project.objects.select_for_update().get(pk=project_id)
    project.name, project.cost_price_list_id = name, cost_price_list_id
    project.save(update_fields=["name", "cost_price_list", "modified_on"])
    announce(selectors.PROJECTS, selectors.project_rows([project.pk]))
    return project


@transaction.atomic
def save_transaction_category(*, name: str, transaction_class: str, unit: str = "each", by,
                              category_id: int | None = None) -> TransactionCategory:
    """Create a category, or change one's class or unit. The name is its key in finance: fixed."""
    if transaction_class not in dict(TransactionCategory.CLASSES):
        raise DomainError(_("%(value)s is not a transaction class.") % {"value": transaction_class})
    if category_id is None:
        if TransactionCategory.objects.filter(name=name).exists():
            raise DomainError(_("There is already a category %(name)s.") % {"name": name})
        category = TransactionCategory.objects.create(name=name, transaction_class=transaction_class, unit=unit)
    else:
        category = TransactionCategory.objects.select_for_update().get(pk=category_id)
        if name != category.name:
            raise DomainError(_("A category keeps its name: it is how finance knows it."))
        if transaction_class != category.transaction_class and category.entries.exists():
            raise DomainError(_("Category %(name)s has entries: its class can no longer change.")
                              % {"name": category.name})
        category.transaction_class, category.unit = transaction_class, unit
        category.save(update_fields=["transaction_class", "unit", "modified_on"])
    announce(selectors.TRANSACTION_CATEGORIES, selectors.transaction_category_rows([category.pk]))
    return category


@transaction.atomic
def create_price_list(*, name: str, currency: str, by) -> PriceList:
    if PriceList.objects.filter(name=name).exists():
        raise DomainError(_("There is already a price list %(name)s.") % {"name": name})
    if len(currency) != 3 or not currency.isalpha():
        raise DomainError(_("%(value)s is not a currency code.") % {"value": currency})
    return PriceList.objects.create(name=name, currency=currency.upper())


@transaction.atomic
def set_price(*, price_list_id: int, price: Decimal, by, role_id: int | None = None,
              category_id: int | None = None) -> None:
    """Set the unit price of a role (an hour) or of a category on a price list (cost or sales).

    Prices are read at approval: changing one re-prices nothing already approved.
    """
    if (role_id is None) == (category_id is None):
        raise DomainError(_("Give the price of either a role or a category."))
    if price is None or price < 0:
        raise DomainError(_("A price cannot be negative."))
    price_list = PriceList.objects.select_for_update().get(pk=price_list_id)
    if role_id is not None:
        RolePrice.objects.update_or_create(price_list=price_list, role_id=role_id, defaults={"price": price})
    else:
        CategoryPrice.objects.update_or_create(price_list=price_list, category_id=category_id,
                                               defaults={"price": price})
