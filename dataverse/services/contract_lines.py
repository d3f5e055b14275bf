"""Contract lines: what they bill (project, included tasks, transaction classes), their
chargeability, and which line an entry's actuals belong to (domain.md §2.2.2, §3.1)."""

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from projinv.domain import DomainError
from projinv.money import round_money

from .. import selectors
from ..models import (
    Actual,
    BillingType,
    ContractLine,
    ContractLineCategory,
    ContractLineCustomer,
    ContractLineRole,
    ContractLineTask,
    Customer,
    InvoiceLine,
    ProjectContract,
    ProjectTask,
    TransactionCategory,
    TransactionType,
)
from .contracts import check_splits, contract_customer_ids, locked_contract
from .masterdata import announce

Included = ContractLine.IncludedTasks
CLASSES = ("time", "expense", "material", "fee")
CHARGEABILITY = (BillingType.CHARGEABLE, BillingType.NON_CHARGEABLE)


@transaction.atomic
def save_contract_line(*, contract_id: int, by, name: str, project_id: int, billing_method: str,
                       included_tasks: str = Included.ALL, include_time=True, include_expense=False,
                       include_material=False, include_fee=False, tasks=(), roles=(), categories=(),
                       line_id: int | None = None, contracted_amount: Decimal | None = None) -> ContractLine:
    """Create or change a line with its tasks, roles and categories ((id, billing type) pairs).

    With Selected tasks, `tasks` are the tasks the line bills; with All tasks they only set
    chargeability. Refused when it would make an entry's line ambiguous: with All tasks a (project,
    class) pair is on one line of the contract only; with Selected tasks a task is.
    """
    contract = locked_contract(contract_id)
    line = ContractLine(contract=contract) if line_id is None else (
        ContractLine.objects.select_for_update().get(pk=line_id, contract=contract))
    old_name = line.name if line.pk else None
    if not name.strip():
        raise DomainError(_("A contract line needs a name."))
    if billing_method not in ContractLine.BillingMethod.values:
        raise DomainError(_("%(value)s is not a billing method.") % {"value": billing_method})
    if included_tasks not in Included.values:
        raise DomainError(_("%(value)s is not a choice of included tasks.") % {"value": included_tasks})
    if ContractLine.objects.filter(contract=contract, name=name).exclude(pk=line.pk).exists():
        raise DomainError(_("Contract %(number)s already has a line %(name)s.") % {"number": contract.number,
                                                                                  "name": name})
    if line.pk and (line.project_id, line.billing_method) != (project_id, billing_method) and (
            Actual.objects.filter(contract_line=line).exists()):
        raise DomainError(_("Line %(name)s has actuals: its project and billing method can no longer change.")
                          % {"name": line.name})
    if line.pk and line.billing_method != billing_method and line.milestones.exists():
        raise DomainError(_("Line %(name)s has milestones: remove them before it stops being fixed price.")
                          % {"name": line.name})
    task_rules = _rules(tasks, ProjectTask.objects.filter(project_id=project_id), _("task of the line's project"))
    role_rules = _rules(roles, None, _("role"))
    category_rules = _rules(categories, TransactionCategory.objects.filter(transaction_class="expense"),
                            _("expense category"))
    if contracted_amount is not None:
        if contracted_amount < 0:
            raise DomainError(_("The contracted amount cannot be negative."))
        milestones = sum(line.milestones.values_list("amount", flat=True)) if line.pk else 0
        if milestones and milestones != contracted_amount:
            raise DomainError(_("The line's milestones total %(total)s: its value must stay that (change the "
                                "milestones first).") % {"total": milestones})
        line.contracted_amount = round_money(contracted_amount, contract.currency)
    if included_tasks == Included.SELECTED and not task_rules:
        raise DomainError(_("A line with selected tasks needs at least one task."))
    line.name, line.project_id, line.billing_method, line.included_tasks = name, project_id, billing_method, \
        included_tasks
    line.include_time, line.include_expense, line.include_material, line.include_fee = (
        bool(include_time), bool(include_expense), bool(include_material), bool(include_fee))
    _refuse_overlap(line, {task for task, _type in task_rules})
    line.save()
    _replace(ContractLineTask, line, "task_id", task_rules)
    _replace(ContractLineRole, line, "role_id", role_rules)
    _replace(ContractLineCategory, line, "category_id", category_rules)
    rows = selectors.contract_line_rows([line.pk])
    if old_name and old_name != name:  # the name is the key in finance: the old key goes away
        rows += selectors.as_deleted([{**rows[0], "msdyn_name": old_name}], at=timezone.now())
    announce(selectors.CONTRACT_LINES, rows)
    return line


@transaction.atomic
def delete_contract_line(*, line_id: int, by) -> None:
    """Refused once the line has actuals or invoice lines (BR-19): they would lose their line."""
    line = ContractLine.objects.select_related("contract", "project").get(pk=line_id)
    locked_contract(line.contract_id)
    if Actual.objects.filter(contract_line=line).exists() or InvoiceLine.objects.filter(contract_line=line).exists():
        raise DomainError(_("Line %(name)s has actuals or invoice lines: it cannot be deleted.") % {"name": line.name})
    if line.milestones.exists():  # finance holds them as on-account transactions of this line
        raise DomainError(_("Line %(name)s has milestones: remove them before deleting the line.")
                          % {"name": line.name})
    rows = selectors.as_deleted(selectors.contract_line_rows([line.pk]), at=timezone.now())
    line.delete()
    announce(selectors.CONTRACT_LINES, rows)


@transaction.atomic
def set_contract_line_customers(*, line_id: int, splits: list[tuple[int, Decimal, bool]], by) -> None:
    """Give a line its own customers, as (customer id, split %, takes rounding) triples; none: the
    line bills by the contract's split again (domain.md §3.1, BR-14, D71).

    Each must be a customer of the contract (invoices are per contract customer). Like the contract's,
    they are fixed once the line has unbilled sales: the split of past actuals would not match.
    """
    line = ContractLine.objects.select_related("contract").get(pk=line_id)
    contract = locked_contract(line.contract_id)
    if splits:
        check_splits(splits)
        allowed = contract_customer_ids(contract)
        if outsiders := [customer for customer, *_rest in splits if customer not in allowed]:
            names = ", ".join(str(c) for c in Customer.objects.filter(pk__in=outsiders).order_by("number"))
            raise DomainError(_("%(customers)s is not a customer of contract %(number)s: add it to the contract "
                                "first.") % {"customers": names, "number": contract.number})
    if Actual.objects.filter(contract_line=line).exclude(transaction_type=TransactionType.COST).exists():
        raise DomainError(_("Line %(name)s already has actuals: its customers can no longer change.")
                          % {"name": line.name})
    ContractLineCustomer.objects.filter(contract_line=line).delete()
    ContractLineCustomer.objects.bulk_create(
        ContractLineCustomer(contract_line=line, customer_id=customer, split_percent=split, is_rounding=rounding)
        for customer, split, rounding in splits
    )


def _rules(pairs, allowed, what) -> list[tuple[int, str]]:
    pairs = [(int(pk), billing_type) for pk, billing_type in pairs]
    if len({pk for pk, _t in pairs}) != len(pairs):
        raise DomainError(_("A %(what)s can be on a line only once.") % {"what": what})
    if any(t not in CHARGEABILITY for _pk, t in pairs):
        raise DomainError(_("Chargeability is either chargeable or non-chargeable."))
    if allowed is not None and allowed.filter(pk__in=[pk for pk, _t in pairs]).count() != len(pairs):
        raise DomainError(_("Only a %(what)s can be chosen here.") % {"what": what})
    return pairs


def _replace(model, line, key, rules) -> None:
    model.objects.filter(contract_line=line).delete()
    model.objects.bulk_create(model(contract_line=line, billing_type=t, **{key: pk}) for pk, t in rules)


def _refuse_overlap(line: ContractLine, task_ids: set[int]) -> None:
    others = (ContractLine.objects.filter(contract=line.contract, project_id=line.project_id).exclude(pk=line.pk)
              .prefetch_related("line_tasks"))
    for other in others:
        shared = [c for c in line.included_classes if other.includes(c)]
        if not shared:
            continue
        if Included.ALL in (line.included_tasks, other.included_tasks):
            raise DomainError(
                _("Line %(other)s already bills %(classes)s of this project: with All tasks a project and "
                  "class can be on one line of a contract only.")
                % {"other": other.name, "classes": ", ".join(_class_labels(shared))})
        common = task_ids & {t.task_id for t in other.line_tasks.all()}
        if common:
            raise DomainError(_("Line %(other)s already bills %(classes)s of %(count)d of these tasks: a task can be "
                                "on one line per class.")
                              % {"other": other.name, "classes": ", ".join(_class_labels(shared)),
                                 "count": len(common)})


def _class_labels(classes):
    from ..models import TransactionClass

    return [str(TransactionClass(c).label).lower() for c in classes]


# --- Resolution at approval ------------------------------------------------------------------------


@dataclass
class Resolution:
    line: ContractLine | None
    billing_type: str = BillingType.CHARGEABLE


class LineResolver:
    """Which active contract line bills a (project, task, class), and its chargeability, for a batch of
    entries in a fixed number of queries."""

    def __init__(self, project_ids):
        self.lines = defaultdict(list)
        queryset = (ContractLine.objects.select_related("contract", "project")
                    .filter(project_id__in=project_ids)
                    .exclude(contract__status=ProjectContract.Status.DRAFT)
                    .prefetch_related("line_tasks", "line_roles", "line_categories"))
        for line in queryset:
            line.task_rules = {r.task_id: r.billing_type for r in line.line_tasks.all()}
            line.role_rules = {r.role_id: r.billing_type for r in line.line_roles.all()}
            line.category_rules = {r.category_id: r.billing_type for r in line.line_categories.all()}
            self.lines[line.project_id].append(line)

    def resolve(self, *, project_id, task_id, transaction_class, role_id=None, category_id=None, what) -> Resolution:
        matches = [line for line in self.lines[project_id] if line.includes(transaction_class) and (
            line.included_tasks == Included.ALL or task_id in line.task_rules)]
        active = [line for line in matches if not line.contract.is_closed]
        if len(active) > 1:
            raise DomainError(_("Contract lines %(lines)s all match %(what)s: fix the lines' tasks.")
                              % {"what": what, "lines": ", ".join(f"{ln.contract.number}/{ln.name}" for ln in active)})
        if not active:
            if matches:  # only closed contracts bill it: a closed contract takes no new actuals
                raise DomainError(_("Contract %(number)s, which bills %(what)s, is closed: it takes no new actuals.")
                                  % {"what": what, "number": matches[0].contract.number})
            return Resolution(None)
        line = active[0]
        # Any rule that says non-chargeable wins: roles count for time only, categories for expenses.
        rules = [line.task_rules.get(task_id)]
        if transaction_class == "time":
            rules.append(line.role_rules.get(role_id))
        if transaction_class == "expense":
            rules.append(line.category_rules.get(category_id))
        billing_type = BillingType.NON_CHARGEABLE if BillingType.NON_CHARGEABLE in rules else BillingType.CHARGEABLE
        return Resolution(line, billing_type)
