"""Submit, approve, reject and recall entries; approval creates the actuals (domain.md §2.2).

Time entries (priced by role) and expense, material and fee entries (priced by category) follow the
same rules, in the same code:
- a Cost actual, except for fees (domain.md §3.1: cost is time, expense or material);
- on a time-and-material line, Unbilled sales: chargeable for the billable quantity and, when the
  approver reduced it, non-chargeable for the rest; non-chargeable in full when the line's task,
  role (time) or category (expense) rule says so; one per contract customer by billing split;
- on a fixed-price line, the cost only (revenue comes from milestones); a fee there is refused.
Actuals are built in memory as plain rows and written with one COPY per batch (design.md §6,
projinv/bulk.py).
"""

from collections import defaultdict
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Case, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from projinv.bulk import copy_insert, copy_rows
from projinv.domain import DomainError
from projinv.money import round_money

from ..models import (
    Actual,
    AdjustmentStatus,
    BillingStatus,
    BillingType,
    CategoryPrice,
    ContractCustomer,
    ContractLine,
    ContractLineCustomer,
    Entry,
    EntryStatus,
    Project,
    ProjectTask,
    RolePrice,
    TimeEntry,
    TransactionCategory,
    TransactionClass,
    TransactionConnection,
    TransactionType,
)
from ..signals import actuals_created
from .contract_lines import LineResolver
from .contracts import split_amounts

# Each kind of entry: its actuals' link to it, and what it is priced by.
SOURCE_FIELD = {TimeEntry: "time_entry", Entry: "entry"}


def _locked_entries(model, entry_ids, *, expected_status):
    entries = list(model.objects.select_for_update().filter(pk__in=entry_ids).order_by("pk"))
    if not entries or len(entries) != len(set(entry_ids)):
        raise DomainError(_("Some of the selected entries no longer exist."))
    wrong = [e for e in entries if e.status != expected_status]
    if wrong:
        raise DomainError(
            _("%(count)d of the selected entries are not %(status)s (for example the entry of %(date)s is %(now)s).")
            % {"count": len(wrong), "status": EntryStatus(expected_status).label,
               "date": wrong[0].date, "now": wrong[0].get_status_display()}
        )
    return entries


@transaction.atomic
def create_entry(*, transaction_class: str, category_id: int, project_id: int, date, quantity: Decimal, by,
                 task_id: int | None = None, resource_id: int | None = None, description: str = "") -> Entry:
    """A draft expense, material or fee entry."""
    if transaction_class not in dict(Entry.CLASSES):
        raise DomainError(_("%(value)s is not an expense, material or fee.") % {"value": transaction_class})
    category = TransactionCategory.objects.get(pk=category_id)
    if category.transaction_class != transaction_class:
        raise DomainError(_("Category %(category)s is for %(its)s, not for %(class)s.") % {
            "category": category, "its": category.get_transaction_class_display(),
            "class": TransactionClass(transaction_class).label})
    if quantity is None or quantity <= 0:
        raise DomainError(_("The quantity must be more than zero."))
    if task_id is not None and not ProjectTask.objects.filter(pk=task_id, project_id=project_id).exists():
        raise DomainError(_("The task is not a task of the entry's project."))
    return Entry.objects.create(transaction_class=transaction_class, category=category, project_id=project_id,
                                task_id=task_id, resource_id=resource_id, date=date, quantity=quantity,
                                description=description)


def _submit(model, entry_ids) -> int:
    entries = _locked_entries(model, entry_ids, expected_status=EntryStatus.DRAFT)
    return model.objects.filter(pk__in=[e.pk for e in entries]).update(
        status=EntryStatus.SUBMITTED, submitted_at=timezone.now())


def _reject(model, entry_ids) -> int:
    entries = _locked_entries(model, entry_ids, expected_status=EntryStatus.SUBMITTED)
    return model.objects.filter(pk__in=[e.pk for e in entries]).update(status=EntryStatus.REJECTED)


@transaction.atomic
def submit_time_entries(*, entry_ids, by) -> int:
    return _submit(TimeEntry, entry_ids)


@transaction.atomic
def submit_entries(*, entry_ids, by) -> int:
    return _submit(Entry, entry_ids)


@transaction.atomic
def reject_time_entries(*, entry_ids, by) -> int:
    return _reject(TimeEntry, entry_ids)


@transaction.atomic
def reject_entries(*, entry_ids, by) -> int:
    return _reject(Entry, entry_ids)


@transaction.atomic
def approve_time_entries(*, entry_ids, by, billable_hours: dict | None = None) -> list[int]:
    """Approve submitted time entries; `billable_hours` ({entry id: hours}) where fewer or more hours
    are billable than were worked. Returns the primary keys of the new actuals."""
    return _approve(TimeEntry, entry_ids, by=by, billable=billable_hours or {})


@transaction.atomic
def approve_entries(*, entry_ids, by, billable_quantities: dict | None = None) -> list[int]:
    """Approve submitted expense, material and fee entries, like time (see the module's docstring)."""
    return _approve(Entry, entry_ids, by=by, billable=billable_quantities or {})


class _Prices:
    """Unit prices of a batch's roles (time) or categories (the rest), on every list it needs."""

    def __init__(self, model, price_list_ids):
        if model is TimeEntry:
            rows = RolePrice.objects.filter(price_list_id__in=price_list_ids).values_list("price_list_id", "role_id",
                                                                                          "price")
        else:
            rows = CategoryPrice.objects.filter(price_list_id__in=price_list_ids).values_list(
                "price_list_id", "category_id", "price")
        self.prices = {(list_id, key): price for list_id, key, price in rows}
        self.key = "role_id" if model is TimeEntry else "category_id"

    def get(self, price_list_id, entry):
        return self.prices.get((price_list_id, getattr(entry, self.key)))


def _billable_quantities(entries, billable) -> dict:
    known = {e.pk: e for e in entries}
    quantities = {}
    for pk, value in billable.items():
        if int(pk) not in known:
            raise DomainError(_("A billable quantity was given for an entry that is not being approved."))
        if value is None or Decimal(value) < 0:
            raise DomainError(_("The billable quantity of the entry of %(date)s cannot be negative.")
                              % {"date": known[int(pk)].date})
        quantities[int(pk)] = Decimal(value)
    return quantities


def _sales_parts(quantity, billable, billing_type):
    """(quantity, billing type) of each unbilled sale of an entry (domain.md §2.2.3)."""
    if billing_type == BillingType.NON_CHARGEABLE:
        return [(quantity, BillingType.NON_CHARGEABLE)]
    if billable is None or billable >= quantity:  # raised: one chargeable actual for the higher quantity
        return [(billable if billable is not None else quantity, BillingType.CHARGEABLE)]
    return [(q, t) for q, t in ((billable, BillingType.CHARGEABLE), (quantity - billable, BillingType.NON_CHARGEABLE))
            if q]


def _approve(model, entry_ids, *, by, billable) -> list[int]:
    entries = _locked_entries(model, entry_ids, expected_status=EntryStatus.SUBMITTED)
    billable = _billable_quantities(entries, billable)
    is_time = model is TimeEntry
    project_ids = {e.project_id for e in entries}
    # Shared locks on the projects' contracts, in key order, before reading them: closing a contract or
    # changing its splits waits for this approval (and this one for them), so no actual lands on a
    # closed contract or by an old split.
    with connection.cursor() as cursor:
        cursor.execute("""SELECT id FROM dataverse_projectcontract WHERE id IN (
                            SELECT contract_id FROM dataverse_contractline WHERE project_id = ANY(%s))
                          ORDER BY id FOR SHARE""", [sorted(project_ids)])
    resolver = LineResolver(project_ids)
    projects = Project.objects.select_related("cost_price_list").in_bulk(project_ids)
    lines = [line for project_lines in resolver.lines.values() for line in project_lines]
    prices = _Prices(model, {p.cost_price_list_id for p in projects.values()}
                     | {line.contract.sales_price_list_id for line in lines})
    splits = defaultdict(list)
    for split in ContractCustomer.objects.filter(contract__in={line.contract_id for line in lines}):
        splits[split.contract_id].append(split)
    # A line's own customers take priority over the contract's (domain.md §3.1, D71).
    line_splits = defaultdict(list)
    for split in ContractLineCustomer.objects.filter(contract_line__in=[line.pk for line in lines]):
        line_splits[split.contract_line_id].append(split)
    categories = {} if is_time else TransactionCategory.objects.in_bulk({e.category_id for e in entries})

    actuals, pairs = [], []
    for entry in entries:
        what = _("the entry of %(date)s") % {"date": entry.date}
        project = projects[entry.project_id]
        transaction_class = entry.transaction_class
        resolution = resolver.resolve(project_id=entry.project_id, task_id=entry.task_id,
                                      transaction_class=transaction_class, role_id=getattr(entry, "role_id", None),
                                      category_id=getattr(entry, "category_id", None), what=what)
        line = resolution.line
        common = dict(
            transaction_class=transaction_class, project_id=entry.project_id, task_id=entry.task_id,
            resource_id=entry.resource_id, role_id=getattr(entry, "role_id", None),
            transaction_category_id=getattr(entry, "category_id", None), **{f"{SOURCE_FIELD[model]}_id": entry.pk},
            transaction_date=entry.date, accounting_date=entry.date, quantity=entry.quantity,
            unit="hour" if is_time else categories[entry.category_id].unit, description=entry.description,
        )
        if line is not None:
            # Keys, not objects: assigning related objects costs a descriptor per field at 10,000 entries.
            common.update(contract_id=line.contract_id, contract_line_id=line.pk, customer_id=line.contract.customer_id)
        cost = None
        if transaction_class != TransactionClass.FEE:
            cost_price = prices.get(project.cost_price_list_id, entry)
            if cost_price is None:
                raise DomainError(_("No cost price for %(what)s on price list %(list)s.")
                                  % {"what": what, "list": project.cost_price_list})
            currency = project.cost_price_list.currency
            cost = dict(transaction_type=TransactionType.COST, billing_type=BillingType.NOT_AVAILABLE,
                        price=cost_price, amount=round_money(entry.quantity * cost_price, currency),
                        currency=currency, **common)
            actuals.append(cost)
        if line is None or line.billing_method != ContractLine.BillingMethod.TIME_AND_MATERIAL:
            if cost is None:  # a fee is only ever sales: without a T&M line it would record nothing
                raise DomainError(_("The fee of %(date)s needs a time-and-material contract line of its project "
                                    "that includes fees.") % {"date": entry.date})
            continue  # fixed price (or no contract): revenue comes from milestones, not from entries
        contract = line.contract
        sales_price = prices.get(contract.sales_price_list_id, entry)
        if sales_price is None:
            raise DomainError(_("No sales price for %(what)s on contract %(contract)s.")
                              % {"what": what, "contract": contract.number})
        for quantity, billing_type in _sales_parts(entry.quantity, billable.get(entry.pk), resolution.billing_type):
            # One unbilled sale per contract customer, by billing split; the rounding customer takes the rest.
            shares = split_amounts(contract, quantity, round_money(quantity * sales_price, contract.currency),
                                   line_splits.get(line.pk) or splits.get(contract.pk, []))
            for customer_id, share, amount in shares:
                unbilled = dict(
                    common, transaction_type=TransactionType.UNBILLED_SALES, billing_type=billing_type,
                    billing_status=BillingStatus.UNBILLED_SALES_CREATED, price=sales_price, amount=amount,
                    currency=contract.currency, quantity=share, customer_id=customer_id,
                )
                actuals.append(unbilled)
                if cost is not None:
                    pairs.append((unbilled, cost))

    actual_ids = copy_rows(Actual, actuals)
    copy_rows(TransactionConnection, [
        {"transaction1_id": unbilled["id"], "transaction1_role": TransactionConnection.Role.UNBILLED_SALES,
         "transaction2_id": cost["id"], "transaction2_role": TransactionConnection.Role.COST}
        for unbilled, cost in pairs
    ])
    now = timezone.now()
    billable_field = "billable_hours" if is_time else "billable_quantity"
    model.objects.filter(pk__in=[e.pk for e in entries]).update(
        status=EntryStatus.APPROVED, approved_at=now, approved_by=by,
        **({billable_field: Case(*[When(pk=pk, then=Value(q)) for pk, q in billable.items()],
                                 default=None)} if billable else {}),
    )
    actuals_created.send(sender=Actual, actual_ids=actual_ids)
    return actual_ids


@transaction.atomic
def recall_time_entries(*, entry_ids, by) -> list[int]:
    return _recall(TimeEntry, entry_ids)


@transaction.atomic
def recall_entries(*, entry_ids, by) -> list[int]:
    return _recall(Entry, entry_ids)


def _recall(model, entry_ids) -> list[int]:
    """Recall approved entries (domain.md §2.2.4): their actuals are Adjusted and reversed, never
    deleted, and the entries are drafts again. Refused once an actual is on an invoice (BR-19), and on
    a closed contract (it takes no new actuals).

    The reversals go to finance, where they undo the posted cost and WIP.
    """
    entries = _locked_entries(model, entry_ids, expected_status=EntryStatus.APPROVED)
    originals = list(Actual.objects.select_for_update(of=("self",)).select_related("contract", "invoice").filter(
        **{f"{SOURCE_FIELD[model]}__in": entries}, adjustment_status=AdjustmentStatus.NONE,
        transaction_type__in=[TransactionType.COST, TransactionType.UNBILLED_SALES]).order_by("pk"))
    invoiced = [a for a in originals if a.billing_status not in ("", BillingStatus.UNBILLED_SALES_CREATED,
                                                                 BillingStatus.READY_TO_INVOICE)]
    if invoiced:
        raise DomainError(_("The entry of %(date)s is on invoice %(invoice)s: take it off the invoice (or correct "
                            "the invoice) before recalling it.")
                          % {"date": invoiced[0].transaction_date,
                             "invoice": invoiced[0].invoice.number if invoiced[0].invoice else "?"})
    closed = [a for a in originals if a.contract is not None and a.contract.is_closed]
    if closed:
        raise DomainError(_("The entry of %(date)s is on contract %(number)s, which is closed: it can no longer be "
                            "recalled.") % {"date": closed[0].transaction_date, "number": closed[0].contract.number})
    today = timezone.localdate()
    reversals = [
        Actual(**{field: getattr(original, field) for field in REVERSAL_COPY},
               quantity=-original.quantity, amount=-original.amount, accounting_date=today,
               adjustment_status=AdjustmentStatus.UNADJUSTABLE,
               billing_status=BillingStatus.CANCELED if original.billing_status else "")
        for original in originals
    ]
    copy_insert(Actual, reversals)
    copy_insert(TransactionConnection, [
        TransactionConnection(transaction1=reversal, transaction1_role=TransactionConnection.Role.REVERSING,
                              transaction2=original, transaction2_role=TransactionConnection.Role.ORIGINAL)
        for reversal, original in zip(reversals, originals, strict=True)
    ])
    Actual.objects.filter(pk__in=[a.pk for a in originals]).update(
        adjustment_status=AdjustmentStatus.ADJUSTED,
        billing_status=Case(When(billing_status="", then=Value("")), default=Value(BillingStatus.CANCELED)))
    model.objects.filter(pk__in=[e.pk for e in entries]).update(
        status=EntryStatus.DRAFT, submitted_at=None, approved_at=None, approved_by=None)
    new_ids = [r.pk for r in reversals]
    actuals_created.send(sender=Actual, actual_ids=new_ids)
    return new_ids


# What a reversal keeps of the actual it reverses.
REVERSAL_COPY = ["transaction_type", "transaction_class", "billing_type", "project_id", "task_id", "resource_id",
                 "role_id", "customer_id", "contract_id", "contract_line_id", "time_entry_id", "entry_id",
                 "transaction_category_id", "transaction_date", "unit", "price", "currency", "description"]
