"""Submit and approve time entries; approval creates the actuals (domain.md §2.2)."""

from collections import defaultdict

from django.db import transaction
from django.db.models import Case, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from projinv.domain import DomainError
from projinv.money import round_money

from ..models import (
    Actual,
    AdjustmentStatus,
    BillingStatus,
    BillingType,
    ContractCustomer,
    ContractLine,
    Project,
    ProjectContract,
    RolePrice,
    TimeEntry,
    TransactionClass,
    TransactionConnection,
    TransactionType,
)
from ..signals import actuals_created
from .contracts import split_amounts


def _locked_entries(entry_ids, *, expected_status):
    entries = list(TimeEntry.objects.select_for_update().filter(pk__in=entry_ids).order_by("pk"))
    if not entries or len(entries) != len(set(entry_ids)):
        raise DomainError(_("Some of the selected time entries no longer exist."))
    wrong = [e for e in entries if e.status != expected_status]
    if wrong:
        raise DomainError(
            _("%(count)d of the selected entries are not %(status)s (for example the entry of %(date)s is %(now)s).")
            % {"count": len(wrong), "status": TimeEntry.Status(expected_status).label,
               "date": wrong[0].date, "now": wrong[0].get_status_display()}
        )
    return entries


@transaction.atomic
def submit_time_entries(*, entry_ids, by) -> int:
    entries = _locked_entries(entry_ids, expected_status=TimeEntry.Status.DRAFT)
    return TimeEntry.objects.filter(pk__in=[e.pk for e in entries]).update(
        status=TimeEntry.Status.SUBMITTED, submitted_at=timezone.now()
    )


@transaction.atomic
def approve_time_entries(*, entry_ids, by) -> list[int]:
    """Approve submitted entries: a Cost actual each, plus Unbilled sales on T&M lines.

    Returns the primary keys of the new actuals.
    """
    entries = _locked_entries(entry_ids, expected_status=TimeEntry.Status.SUBMITTED)
    project_ids = {e.project_id for e in entries}
    lines = {
        line.project_id: line
        for line in ContractLine.objects.select_related("contract", "project").filter(
            project_id__in=project_ids, include_time=True, contract__status=ProjectContract.Status.ACTIVE
        )
    }
    projects = Project.objects.select_related("cost_price_list").in_bulk(project_ids)
    price_lists = {p.cost_price_list_id for p in projects.values()} | {
        line.contract.sales_price_list_id for line in lines.values()
    }
    splits = defaultdict(list)
    for split in ContractCustomer.objects.filter(contract__in={line.contract_id for line in lines.values()}):
        splits[split.contract_id].append(split)
    prices = {
        (rp.price_list_id, rp.role_id): rp.price
        for rp in RolePrice.objects.filter(price_list_id__in=price_lists)
    }

    actuals, pairs = [], []
    for entry in entries:
        project = projects[entry.project_id]
        cost_price = prices.get((project.cost_price_list_id, entry.role_id))
        if cost_price is None:
            raise DomainError(
                _("No cost price for the role of the entry of %(date)s on price list %(list)s.")
                % {"date": entry.date, "list": project.cost_price_list}
            )
        common = dict(
            transaction_class=TransactionClass.TIME, project_id=entry.project_id, task_id=entry.task_id,
            resource_id=entry.resource_id, role_id=entry.role_id, time_entry=entry,
            transaction_date=entry.date, accounting_date=entry.date, quantity=entry.hours,
            description=entry.description,
        )
        currency = project.cost_price_list.currency
        cost = Actual(transaction_type=TransactionType.COST, billing_type=BillingType.NOT_AVAILABLE,
                      price=cost_price, amount=round_money(entry.hours * cost_price, currency), currency=currency,
                      **common)
        line = lines.get(entry.project_id)
        if line is not None:
            cost.contract, cost.contract_line, cost.customer_id = line.contract, line, line.contract.customer_id
        actuals.append(cost)
        if line is None or line.billing_method != ContractLine.BillingMethod.TIME_AND_MATERIAL:
            continue  # fixed price: revenue comes from milestones, not from time
        contract = line.contract
        sales_price = prices.get((contract.sales_price_list_id, entry.role_id))
        if sales_price is None:
            raise DomainError(
                _("No sales price for the role of the entry of %(date)s on contract %(contract)s.")
                % {"date": entry.date, "contract": contract.number}
            )
        # One unbilled sale per contract customer, by billing split; the rounding customer takes the rest.
        shares = split_amounts(contract, entry.hours, round_money(entry.hours * sales_price, contract.currency),
                               splits.get(contract.pk, []))
        for customer_id, quantity, amount in shares:
            unbilled = Actual(
                transaction_type=TransactionType.UNBILLED_SALES, billing_type=BillingType.CHARGEABLE,
                billing_status=BillingStatus.UNBILLED_SALES_CREATED, contract=contract, contract_line=line,
                customer_id=customer_id, price=sales_price, amount=amount, currency=contract.currency,
                **(common | {"quantity": quantity}),
            )
            actuals.append(unbilled)
            pairs.append((unbilled, cost))

    Actual.objects.bulk_create(actuals)
    TransactionConnection.objects.bulk_create(
        TransactionConnection(
            transaction1=unbilled, transaction1_role=TransactionConnection.Role.UNBILLED_SALES,
            transaction2=cost, transaction2_role=TransactionConnection.Role.COST,
        )
        for unbilled, cost in pairs
    )
    TimeEntry.objects.filter(pk__in=[e.pk for e in entries]).update(
        status=TimeEntry.Status.APPROVED, approved_at=timezone.now(), approved_by=by
    )
    actual_ids = [a.pk for a in actuals]
    actuals_created.send(sender=Actual, actual_ids=actual_ids)
    return actual_ids


@transaction.atomic
def reject_time_entries(*, entry_ids, by) -> int:
    entries = _locked_entries(entry_ids, expected_status=TimeEntry.Status.SUBMITTED)
    return TimeEntry.objects.filter(pk__in=[e.pk for e in entries]).update(status=TimeEntry.Status.REJECTED)


@transaction.atomic
def recall_time_entries(*, entry_ids, by) -> list[int]:
    """Recall approved entries (domain.md §2.2.4): their actuals are Adjusted and reversed, never
    deleted, and the entries are drafts again. Refused once an actual is on an invoice (BR-19).

    The reversals go to finance, where they undo the posted cost and WIP.
    """
    entries = _locked_entries(entry_ids, expected_status=TimeEntry.Status.APPROVED)
    originals = list(Actual.objects.select_for_update().filter(
        time_entry__in=entries, adjustment_status=AdjustmentStatus.NONE,
        transaction_type__in=[TransactionType.COST, TransactionType.UNBILLED_SALES]).order_by("pk"))
    invoiced = [a for a in originals if a.billing_status not in ("", BillingStatus.UNBILLED_SALES_CREATED,
                                                                 BillingStatus.READY_TO_INVOICE)]
    if invoiced:
        raise DomainError(_("The entry of %(date)s is on invoice %(invoice)s: take it off the invoice (or correct "
                            "the invoice) before recalling it.")
                          % {"date": invoiced[0].transaction_date,
                             "invoice": invoiced[0].invoice.number if invoiced[0].invoice else "?"})
    today = timezone.localdate()
    reversals = [
        Actual(**{field: getattr(original, field) for field in REVERSAL_COPY},
               quantity=-original.quantity, amount=-original.amount, accounting_date=today,
               adjustment_status=AdjustmentStatus.UNADJUSTABLE,
               billing_status=BillingStatus.CANCELED if original.billing_status else "")
        for original in originals
    ]
    Actual.objects.bulk_create(reversals)
    TransactionConnection.objects.bulk_create(
        TransactionConnection(transaction1=reversal, transaction1_role=TransactionConnection.Role.REVERSING,
                              transaction2=original, transaction2_role=TransactionConnection.Role.ORIGINAL)
        for reversal, original in zip(reversals, originals, strict=True)
    )
    Actual.objects.filter(pk__in=[a.pk for a in originals]).update(
        adjustment_status=AdjustmentStatus.ADJUSTED,
        billing_status=Case(When(billing_status="", then=Value("")), default=Value(BillingStatus.CANCELED)))
    TimeEntry.objects.filter(pk__in=[e.pk for e in entries]).update(
        status=TimeEntry.Status.DRAFT, submitted_at=None, approved_at=None, approved_by=None)
    new_ids = [r.pk for r in reversals]
    actuals_created.send(sender=Actual, actual_ids=new_ids)
    return new_ids


# What a reversal keeps of the actual it reverses.
REVERSAL_COPY = ["transaction_type", "transaction_class", "billing_type", "project_id", "task_id", "resource_id",
                 "role_id", "customer_id", "contract_id", "contract_line_id", "time_entry_id", "transaction_date",
                 "unit", "price", "currency", "description"]
