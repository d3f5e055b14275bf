"""Expense, material and fee entries become actuals like time (domain.md §2.2, decision D60)."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dataverse.models import (
    Actual,
    ContractLine,
    Customer,
    Entry,
    Project,
    ProjectContract,
    TimeEntry,
    TransactionCategory,
    TransactionConnection,
)
from dataverse.services import contracts, entries
from projinv.domain import DomainError

pytestmark = pytest.mark.django_db(databases=["default", "finance"])
S = Entry.Status
DAY = date(2026, 11, 2)


def new_entry(world, category="Hotel", quantity="2", project="PRJ-1001", status=S.SUBMITTED, **kwargs):
    category = TransactionCategory.objects.get(name=category)
    entry = entries.create_entry(transaction_class=category.transaction_class, category_id=category.pk,
                                 project_id=Project.objects.get(number=project).pk, date=DAY,
                                 quantity=Decimal(quantity), by=world["pm"], **kwargs)
    if status != S.DRAFT:
        entries.submit_entries(entry_ids=[entry.pk], by=world["pm"])
    return entry


def actuals_of(entry):
    return list(Actual.objects.filter(entry=entry).order_by("transaction_type", "billing_type", "pk"))


def kinds(entry):
    return [(a.transaction_type, a.billing_type, a.quantity, a.amount) for a in actuals_of(entry)]


def test_it_creates_cost_and_unbilled_sales_for_an_expense(world):
    entry = new_entry(world, "Hotel", "2")  # cost 150, sales 165 a night
    entries.approve_entries(entry_ids=[entry.pk], by=world["pm"])
    assert kinds(entry) == [("cost", "not_available", 2, 300), ("unbilled_sales", "chargeable", 2, 330)]
    cost, unbilled = actuals_of(entry)
    assert (unbilled.transaction_class, unbilled.unit, unbilled.transaction_category.name) == ("expense", "night",
                                                                                                "Hotel")
    assert unbilled.contract.number == "PC-1001" and unbilled.billing_status == "unbilled_sales_created"
    assert TransactionConnection.objects.filter(transaction1=unbilled, transaction2=cost,
                                                transaction1_role="unbilled_sales", transaction2_role="cost").exists()
    entry.refresh_from_db()
    assert entry.status == S.APPROVED and entry.approved_by == world["pm"]


def test_it_creates_cost_and_unbilled_sales_for_material(world):
    entry = new_entry(world, "Hardware", "3")
    entries.approve_entries(entry_ids=[entry.pk], by=world["pm"])
    assert kinds(entry) == [("cost", "not_available", 3, 2700), ("unbilled_sales", "chargeable", 3, 3300)]
    assert {a.transaction_class for a in actuals_of(entry)} == {"material"}


def test_it_creates_only_unbilled_sales_for_a_fee(world):
    entry = new_entry(world, "Setup fee", "1")
    entries.approve_entries(entry_ids=[entry.pk], by=world["pm"])
    assert kinds(entry) == [("unbilled_sales", "chargeable", 1, 500)]  # cost is time, expense or material only


def test_it_refuses_a_fee_without_a_time_and_material_line(world):
    ContractLine.objects.filter(contract__number="PC-1001").update(include_fee=False)
    entry = new_entry(world, "Setup fee", "1")
    with pytest.raises(DomainError, match="needs a time-and-material contract line"):
        entries.approve_entries(entry_ids=[entry.pk], by=world["pm"])
    assert Entry.objects.get(pk=entry.pk).status == S.SUBMITTED and not actuals_of(entry)


def test_it_records_only_the_cost_on_a_fixed_price_line(world):
    ContractLine.objects.filter(contract__number="PC-1001").update(billing_method="fp")
    entry = new_entry(world, "Airfare", "1")
    entries.approve_entries(entry_ids=[entry.pk], by=world["pm"])
    assert kinds(entry) == [("cost", "not_available", 1, 400)]


def test_it_records_only_the_cost_when_no_line_includes_the_class(world):
    ContractLine.objects.filter(contract__number="PC-1001").update(include_material=False)
    entry = new_entry(world, "Hardware", "1")
    entries.approve_entries(entry_ids=[entry.pk], by=world["pm"])
    (cost,) = actuals_of(entry)
    assert cost.transaction_type == "cost" and cost.contract is None


def test_it_splits_a_reduced_billable_quantity_into_chargeable_and_non_chargeable(world):
    entry = new_entry(world, "Hotel", "3")
    entries.approve_entries(entry_ids=[entry.pk], by=world["pm"], billable_quantities={entry.pk: Decimal(2)})
    assert kinds(entry) == [("cost", "not_available", 3, 450), ("unbilled_sales", "chargeable", 2, 330),
                            ("unbilled_sales", "non_chargeable", 1, 165)]
    cost = actuals_of(entry)[0]
    assert TransactionConnection.objects.filter(transaction2=cost, transaction2_role="cost").count() == 2
    assert Entry.objects.get(pk=entry.pk).billable_quantity == 2


def test_it_bills_a_raised_quantity_as_one_chargeable_actual(world):
    entry = new_entry(world, "Hotel", "2")
    entries.approve_entries(entry_ids=[entry.pk], by=world["pm"], billable_quantities={entry.pk: Decimal(3)})
    assert kinds(entry) == [("cost", "not_available", 2, 300), ("unbilled_sales", "chargeable", 3, 495)]


def test_it_bills_nothing_chargeable_when_the_billable_quantity_is_zero(world):
    entry = new_entry(world, "Hotel", "2")
    entries.approve_entries(entry_ids=[entry.pk], by=world["pm"], billable_quantities={entry.pk: Decimal(0)})
    assert kinds(entry) == [("cost", "not_available", 2, 300), ("unbilled_sales", "non_chargeable", 2, 330)]


def test_it_reduces_billable_hours_of_time_the_same_way(world):
    entry = TimeEntry.objects.filter(status=S.SUBMITTED, project__number="PRJ-1001", role__name="Consultant").first()
    TimeEntry.objects.filter(pk=entry.pk).update(hours=8)
    entries.approve_time_entries(entry_ids=[entry.pk], by=world["pm"], billable_hours={entry.pk: Decimal(6)})
    sales = Actual.objects.filter(time_entry=entry, transaction_type="unbilled_sales").order_by("billing_type")
    assert [(a.billing_type, a.quantity, a.amount) for a in sales] == [("chargeable", 6, 1200),
                                                                       ("non_chargeable", 2, 400)]


@pytest.mark.parametrize("billable", [Decimal(-1), None])
def test_it_refuses_a_negative_billable_quantity_and_changes_nothing(world, billable):
    entry = new_entry(world, "Hotel", "2")
    before = Actual.objects.count()
    with pytest.raises(DomainError, match="cannot be negative"):
        entries.approve_entries(entry_ids=[entry.pk], by=world["pm"], billable_quantities={entry.pk: billable})
    assert Actual.objects.count() == before and Entry.objects.get(pk=entry.pk).status == S.SUBMITTED


def test_it_refuses_a_billable_quantity_of_an_entry_not_being_approved(world):
    entry, other = new_entry(world), new_entry(world)
    with pytest.raises(DomainError, match="not being approved"):
        entries.approve_entries(entry_ids=[entry.pk], by=world["pm"], billable_quantities={other.pk: Decimal(1)})


def test_it_splits_unbilled_sales_by_contract_customer_with_the_rounding_to_one(world):
    contract = ProjectContract.objects.get(number="PC-1002")
    Actual.objects.filter(contract=contract).update(contract=None)  # the demo's actuals: out of the way
    c1, c2 = Customer.objects.get(number="C-1001"), Customer.objects.get(number="C-1002")
    contracts.set_contract_customers(contract_id=contract.pk, by=world["pm"],
                                     splits=[(c1.pk, Decimal("33.33"), False), (c2.pk, Decimal("66.67"), True)])
    entry = new_entry(world, "Hotel", "1", project="PRJ-1002")  # 165.00 split 33.33 / 66.67
    entries.approve_entries(entry_ids=[entry.pk], by=world["pm"])
    by_customer = {a.customer.number: a for a in actuals_of(entry) if a.transaction_type == "unbilled_sales"}
    assert by_customer["C-1001"].amount == Decimal("54.99")  # 54.9945 rounded
    assert by_customer["C-1002"].amount == Decimal("110.01")  # the rest, to the rounding customer
    assert sum(a.quantity for a in by_customer.values()) == 1


def test_it_recalls_an_approved_entry_by_reversal(world):
    entry = new_entry(world, "Airfare", "1")
    originals = [Actual.objects.get(pk=pk) for pk in entries.approve_entries(entry_ids=[entry.pk], by=world["pm"])]
    reversal_ids = entries.recall_entries(entry_ids=[entry.pk], by=world["pm"])
    assert len(reversal_ids) == 2
    for original in originals:
        original.refresh_from_db()
        reversal = Actual.objects.get(connections_as_first__transaction2=original,
                                      connections_as_first__transaction1_role="reversing")
        assert original.adjustment_status == "adjusted"
        assert (reversal.amount, reversal.quantity, reversal.adjustment_status, reversal.entry_id) == (
            -original.amount, -original.quantity, "unadjustable", entry.pk)
    assert Entry.objects.get(pk=entry.pk).status == S.DRAFT


def test_it_refuses_to_recall_an_entry_that_is_on_an_invoice(world):
    from ..helpers import invoice_contract

    entry = new_entry(world, "Airfare", "1")
    entries.approve_entries(entry_ids=[entry.pk], by=world["pm"])
    invoice = invoice_contract("PC-1001")
    with pytest.raises(DomainError, match=f"is on invoice {invoice.number}"):
        entries.recall_entries(entry_ids=[entry.pk], by=world["pm"])
    assert Entry.objects.get(pk=entry.pk).status == S.APPROVED


# --- The entry's state machine: every move allowed and refused ----------------------------------

MOVES = {
    "submit": (entries.submit_entries, S.DRAFT, S.SUBMITTED),
    "approve": (entries.approve_entries, S.SUBMITTED, S.APPROVED),
    "reject": (entries.reject_entries, S.SUBMITTED, S.REJECTED),
    "recall": (entries.recall_entries, S.APPROVED, S.DRAFT),
}


def entry_in(world, status):
    entry = new_entry(world, status=S.DRAFT)
    if status in (S.SUBMITTED, S.APPROVED, S.REJECTED):
        entries.submit_entries(entry_ids=[entry.pk], by=world["pm"])
    if status == S.APPROVED:
        entries.approve_entries(entry_ids=[entry.pk], by=world["pm"])
    if status == S.REJECTED:
        entries.reject_entries(entry_ids=[entry.pk], by=world["pm"])
    return entry


@pytest.mark.parametrize("move", MOVES)
@pytest.mark.parametrize("start", S.values)
def test_it_allows_each_move_only_from_its_state(world, move, start):
    service, source, target = MOVES[move]
    entry = entry_in(world, start)
    if start == source:
        service(entry_ids=[entry.pk], by=world["pm"])
        assert Entry.objects.get(pk=entry.pk).status == target
    else:
        before = Actual.objects.count()
        with pytest.raises(DomainError, match="are not"):
            service(entry_ids=[entry.pk], by=world["pm"])
        assert Entry.objects.get(pk=entry.pk).status == start and Actual.objects.count() == before


# --- Bad input on creation ---------------------------------------------------------------------


@pytest.mark.parametrize("quantity", ["0", "-1"])
def test_it_refuses_a_quantity_that_is_not_positive(world, quantity):
    count = Entry.objects.count()
    with pytest.raises(DomainError, match="more than zero"):
        new_entry(world, quantity=quantity)
    assert Entry.objects.count() == count


def test_it_refuses_a_category_of_another_class(world):
    category = TransactionCategory.objects.get(name="Hardware")
    with pytest.raises(DomainError, match="is for Material, not for Expense"):
        entries.create_entry(transaction_class="expense", category_id=category.pk, date=DAY, quantity=Decimal(1),
                             project_id=Project.objects.get(number="PRJ-1001").pk, by=world["pm"])


def test_it_refuses_a_task_of_another_project(world):
    other_task = Project.objects.get(number="PRJ-1002").tasks.get()
    with pytest.raises(DomainError, match="not a task of the entry's project"):
        new_entry(world, task_id=other_task.pk)


def test_it_approves_any_number_of_entries_in_the_same_number_of_queries(world):
    def approve(count):
        ids = [new_entry(world, "Hotel", "1").pk for _ in range(count)]
        with CaptureQueriesContext(connection) as queries:
            entries.approve_entries(entry_ids=ids, by=world["pm"])
        return len(queries)

    assert approve(1) == approve(6)


@pytest.mark.django_db(transaction=True, databases=["default", "finance"])
def test_it_makes_closing_a_contract_wait_for_an_approval_in_progress(world):
    """D75: an approval holds its contracts until it commits, so no actual lands on a contract that
    was closed meanwhile; the close goes through once the approval is done."""
    import threading

    from django.db import OperationalError, connections, transaction

    entry = new_entry(world)
    contract = ProjectContract.objects.get(number="PC-1001")
    approved, release = threading.Event(), threading.Event()

    def approve():
        try:
            with transaction.atomic():
                entries.approve_entries(entry_ids=[entry.pk], by=world["pm"])
                approved.set()
                release.wait(10)
        finally:
            connections.close_all()

    worker = threading.Thread(target=approve)
    worker.start()
    try:
        assert approved.wait(10)
        with pytest.raises(OperationalError, match="lock timeout"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '300ms'")
            contracts.change_contract_status(contract_id=contract.pk, status="closed", by=world["pm"])
    finally:
        release.set()
        worker.join()
    contracts.change_contract_status(contract_id=contract.pk, status="closed", by=world["pm"])
    assert ProjectContract.objects.get(pk=contract.pk).is_closed
    assert Actual.objects.filter(entry=entry, contract=contract).exists()
