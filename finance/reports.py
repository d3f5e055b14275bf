"""Accounting reports, each a handful of aggregate queries: trial balance, ageing, WIP per project."""

from datetime import date, timedelta

from django.db.models import Case, DecimalField, F, Q, Sum, Value, When
from django.db.models.functions import Coalesce

from .models import CustomerTransaction, LedgerEntry, ProjectTransaction, Voucher

ZERO = Value(0, output_field=DecimalField())


def trial_balance(*, start: date, end: date, legal_entity: str | None = None) -> list[dict]:
    """Per account: opening balance before `start`, debits and credits within, closing balance."""
    entries = LedgerEntry.objects.all()
    if legal_entity:
        entries = entries.filter(voucher__legal_entity=legal_entity)
    before, within = Q(voucher__date__lt=start), Q(voucher__date__gte=start, voucher__date__lte=end)
    rows = (entries.filter(voucher__date__lte=end).values("voucher__legal_entity", "account", "accounting_currency")
            .annotate(opening=Coalesce(Sum("accounting_amount", filter=before), ZERO),
                      debit=Coalesce(Sum("accounting_amount", filter=within & Q(accounting_amount__gt=0)), ZERO),
                      credit=Coalesce(Sum(-F("accounting_amount"), filter=within & Q(accounting_amount__lt=0)),
                                      ZERO))
            .order_by("voucher__legal_entity", "account"))
    return [{**row, "closing": row["opening"] + row["debit"] - row["credit"]} for row in rows]


BUCKETS = [("current", None, 0), ("days_1_30", 1, 30), ("days_31_60", 31, 60), ("days_61_90", 61, 90),
           ("over_90", 91, None)]


def ageing(*, as_of: date) -> list[dict]:
    """Open customer balances by how far past due they are on `as_of`."""
    def bucket(low, high):
        condition = Q()
        if low is None:
            condition &= Q(due_date__gte=as_of)
        else:
            condition &= Q(due_date__lte=as_of - timedelta(days=low))
        if high is not None and low is not None:
            condition &= Q(due_date__gte=as_of - timedelta(days=high))
        return Coalesce(Sum(Case(When(condition, then=F("accounting_amount")), default=ZERO)), ZERO)

    rows = (CustomerTransaction.objects.filter(date__lte=as_of)
            .values("legal_entity", "customer_number", "currency")
            .annotate(total=Sum("accounting_amount"), **{name: bucket(low, high) for name, low, high in BUCKETS})
            .order_by("legal_entity", "customer_number"))
    return list(rows)


def wip(*, legal_entity: str | None = None) -> list[dict]:
    """Per project: revenue accrued as WIP, invoiced so far, and what remains in WIP. Only unbilled sales
    whose profile and line property accrued revenue (their journal voucher exists, D44) are WIP."""
    unbilled = ProjectTransaction.objects.filter(transaction_type="unbilled_sales",
                                                 voucher__in=Voucher.objects.values("number"))
    if legal_entity:
        unbilled = unbilled.filter(legal_entity=legal_entity)
    rows = (unbilled.values("legal_entity", "project_number")
            .annotate(accrued=Sum("accounting_amount"),
                      invoiced=Coalesce(Sum("accounting_amount", filter=Q(status="invoiced")), ZERO))
            .order_by("legal_entity", "project_number"))
    return [{**row, "remaining": row["accrued"] - row["invoiced"]} for row in rows]
