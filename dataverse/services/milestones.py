"""Fixed-price milestones: the schedule of a line, Ready / Not ready, and their invoice status
(domain.md §2.4, §4.5, BR-13).

A milestone's invoice status is derived, in one statement, from where it stands: on a draft →
Customer invoice created; billed in full (billed sales net of credits) → Customer invoice posted; back
from a draft or credited (in full or in part) → Ready, for what is left to bill.
"""

from collections import defaultdict
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from projinv.domain import DomainError
from projinv.money import round_money

from .. import selectors
from ..models import Actual, ContractCustomer, ContractLine, ContractLineCustomer, Milestone, TransactionType
from .contracts import locked_contract, split_amounts
from .masterdata import announce

Status = Milestone.InvoiceStatus
OPEN = (Status.NOT_READY, Status.READY)


@transaction.atomic
def set_milestones(*, line_id: int, milestones: list[dict], by) -> list[Milestone]:
    """Replace a fixed-price line's milestones with `milestones` ({"id" (existing) or none, "name",
    "milestone_date", "amount", "tax"}). They must total the line's value. A milestone already on an
    invoice keeps its amount and date, and stays."""
    line = ContractLine.objects.select_related("contract").get(pk=line_id)
    contract = locked_contract(line.contract_id)
    line = ContractLine.objects.select_for_update().get(pk=line_id)
    if line.billing_method != ContractLine.BillingMethod.FIXED_PRICE:
        raise DomainError(_("Milestones are for fixed-price lines; %(name)s is time and material.")
                          % {"name": line.name})
    for m in milestones:
        if not str(m.get("name", "")).strip() or not m.get("milestone_date"):
            raise DomainError(_("Each milestone needs a name and a date."))
        if m.get("amount") is None or m["amount"] <= 0:
            raise DomainError(_("The amount of milestone %(name)s must be more than zero.") % {"name": m["name"]})
        if m.get("tax", Decimal(0)) < 0:
            raise DomainError(_("The tax of milestone %(name)s cannot be negative.") % {"name": m["name"]})
    if len({m["name"] for m in milestones}) != len(milestones):
        raise DomainError(_("Two milestones of a line cannot have the same name."))
    total = sum((m["amount"] for m in milestones), Decimal(0))
    if total != line.contracted_amount:
        raise DomainError(_("The milestones total %(total)s %(currency)s; the line's value is %(value)s: they must be "
                            "equal.") % {"total": total, "currency": contract.currency,
                                         "value": line.contracted_amount})
    existing = {m.pk: m for m in Milestone.objects.select_for_update().filter(contract_line=line).order_by("pk")}
    given = {int(m["id"]) for m in milestones if m.get("id")}
    if given - set(existing):
        raise DomainError(_("Some of the milestones are not milestones of this line."))
    invoiced = _invoiced(existing)
    for m in milestones:
        old = existing.get(int(m["id"])) if m.get("id") else None
        if old and old.pk in invoiced and (old.amount, old.milestone_date) != (m["amount"], m["milestone_date"]):
            raise DomainError(_("Milestone %(name)s is invoiced: its amount and date can no longer change.")
                              % {"name": old.name})
    gone = [m for pk, m in existing.items() if pk not in given]
    if any(m.pk in invoiced for m in gone):
        raise DomainError(_("An invoiced milestone cannot be deleted."))
    deleted = selectors.as_deleted(selectors.milestone_rows([m.pk for m in gone]), at=timezone.now())
    Milestone.objects.filter(pk__in=[m.pk for m in gone]).delete()
    saved = []
    for m in milestones:
        milestone = existing[int(m["id"])] if m.get("id") else Milestone(contract_line=line, currency=contract.currency)
        milestone.name, milestone.milestone_date = m["name"], m["milestone_date"]
        milestone.amount, milestone.tax = m["amount"], round_money(m.get("tax", Decimal(0)), contract.currency)
        saved.append(milestone)
    for milestone in saved:  # a line's handful of milestones, not a volume: one save each is fine
        milestone.save()
    announce(selectors.MILESTONES, selectors.milestone_rows([m.pk for m in saved]) + deleted)
    return saved


def _invoiced(milestones: dict) -> set[int]:
    """Milestones that are, or were, on an invoice."""
    on_invoice = set(Milestone.objects.filter(pk__in=list(milestones), details__isnull=False)
                     .values_list("pk", flat=True))
    return on_invoice | {pk for pk, m in milestones.items() if m.invoice_status not in OPEN}


@transaction.atomic
def mark_milestones_ready(*, milestone_ids, ready: bool, by) -> int:
    """Not ready ⇄ Ready, one or many; all or nothing, and the error says which and why."""
    source, target = (Status.NOT_READY, Status.READY) if ready else (Status.READY, Status.NOT_READY)
    rows = list(Milestone.objects.select_for_update().filter(pk__in=milestone_ids).order_by("pk"))
    if len(rows) != len(set(milestone_ids)):
        raise DomainError(_("Some of the selected milestones no longer exist."))
    wrong = [m for m in rows if m.invoice_status not in (source, target)]
    if wrong:
        raise DomainError(_("Milestone %(name)s cannot be changed: it is %(status)s.")
                          % {"name": wrong[0].name, "status": wrong[0].get_invoice_status_display()})
    return Milestone.objects.filter(pk__in=milestone_ids, invoice_status=source).update(invoice_status=target)


def billable_parts(milestones, contract) -> dict[int, list[tuple]]:
    """{customer id: [(milestone, amount, tax)]}: what is left to bill of each milestone, per contract
    customer by billing split (rounding to the rounding customer), net of what was billed and credited."""
    splits = list(ContractCustomer.objects.filter(contract=contract))
    # A line's own customers take priority over the contract's (domain.md §3.1, D71).
    line_splits = defaultdict(list)
    for split in ContractLineCustomer.objects.filter(contract_line__in={m.contract_line_id for m in milestones}):
        line_splits[split.contract_line_id].append(split)
    billed = defaultdict(Decimal)
    for row in (Actual.objects.filter(milestone__in=milestones, transaction_type=TransactionType.BILLED_SALES)
                .values("milestone_id", "customer_id").annotate(total=Sum("amount"))):
        billed[(row["milestone_id"], row["customer_id"])] = row["total"]
    parts = defaultdict(list)
    for milestone in milestones:
        split = line_splits.get(milestone.contract_line_id) or splits
        taxes = {c: t for c, _q, t in split_amounts(contract, Decimal(1), milestone.tax, split)}
        for customer_id, _share, amount in split_amounts(contract, Decimal(1), milestone.amount, split):
            left = amount - billed[(milestone.pk, customer_id)]
            if left > 0:
                tax = round_money(taxes[customer_id] * left / amount, contract.currency)
                parts[customer_id].append((milestone, left, tax))
    return parts


REFRESH_STATUS_SQL = """
UPDATE dataverse_milestone m SET invoice_status = CASE
    WHEN EXISTS (SELECT 1 FROM dataverse_invoicelinedetail d JOIN dataverse_invoice i ON i.id = d.invoice_id
                  WHERE d.milestone_id = m.id AND d.corrected_billed_id IS NULL
                    AND i.status IN ('draft', 'in_review')) THEN 'customer_invoice_created'
    WHEN (SELECT coalesce(sum(a.amount), 0) FROM dataverse_actual a
           WHERE a.milestone_id = m.id AND a.transaction_type = 'billed_sales') >= m.amount
         THEN 'customer_invoice_posted'
    WHEN m.invoice_status IN ('customer_invoice_created', 'customer_invoice_posted') THEN 'ready'
    ELSE m.invoice_status END
 WHERE m.id = ANY(%s)
"""


def refresh_invoice_status(*, milestone_ids) -> None:
    """Derive the invoice status of these milestones from their details and billed sales (one statement)."""
    ids = sorted({pk for pk in milestone_ids if pk})
    if ids:
        with connection.cursor() as cursor:
            cursor.execute(REFRESH_STATUS_SQL, [ids])
