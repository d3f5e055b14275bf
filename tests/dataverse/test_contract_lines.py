"""Which contract line bills an entry, and whether chargeably (domain.md §2.2.2, §3.1)."""

from datetime import date
from decimal import Decimal

import pytest

from dataverse.models import (
    Actual,
    ContractLine,
    ContractLineTask,
    Entry,
    PriceList,
    ProjectContract,
    ProjectTask,
    Resource,
    ResourceRole,
    TimeEntry,
    TransactionCategory,
)
from dataverse.services import contract_lines, contracts, entries, masterdata
from projinv.domain import DomainError

pytestmark = pytest.mark.django_db(databases=["default", "finance"])
NC, C = "non_chargeable", "chargeable"


@pytest.fixture
def setup(world):
    """PC-1001 with its line billing the task "Design and build" only, and a second line for "Support"."""
    line = ContractLine.objects.get(contract__number="PC-1001")
    design = line.project.tasks.get()
    support = ProjectTask.objects.create(project=line.project, name="Support")
    save(world, line, name=line.name, included_tasks="selected", tasks=[(design.pk, C)])
    second = save(world, None, name="Support", included_tasks="selected", tasks=[(support.pk, C)])
    return {"line": line, "second": second, "design": design, "support": support}


def save(world, line, **changes):
    line = line and ContractLine.objects.get(pk=line.pk)  # as it is now
    base = line or ContractLine.objects.get(contract__number="PC-1001")
    values = dict(contract_id=base.contract_id, name=base.name, project_id=base.project_id, billing_method="tm",
                  include_time=True, include_expense=True, include_material=True, include_fee=True, by=world["pm"],
                  line_id=line.pk if line else None, included_tasks=line.included_tasks if line else "all")
    return contract_lines.save_contract_line(**(values | changes))


def approve_time(world, task, role="Consultant"):
    resource = Resource.objects.get(role__name=role)
    entry = TimeEntry.objects.create(resource=resource, role=resource.role, project=task.project, task=task,
                                     date=date(2026, 11, 2), hours=Decimal(1), status="submitted")
    entries.approve_time_entries(entry_ids=[entry.pk], by=world["pm"])
    return Actual.objects.filter(time_entry=entry, transaction_type="unbilled_sales")


def approve_expense(world, task, category="Hotel"):
    category = TransactionCategory.objects.get(name=category)
    entry = entries.create_entry(transaction_class=category.transaction_class, category_id=category.pk,
                                 project_id=task.project_id, task_id=task.pk, date=date(2026, 11, 2),
                                 quantity=Decimal(1), by=world["pm"])
    entries.submit_entries(entry_ids=[entry.pk], by=world["pm"])
    entries.approve_entries(entry_ids=[entry.pk], by=world["pm"])
    return Actual.objects.filter(entry=entry, transaction_type="unbilled_sales")


def test_it_puts_each_task_on_the_line_that_selects_it(world, setup):
    assert approve_time(world, setup["design"]).get().contract_line == setup["line"]
    assert approve_time(world, setup["support"]).get().contract_line == setup["second"]
    assert approve_expense(world, setup["support"]).get().contract_line == setup["second"]


def test_it_records_only_the_cost_of_a_task_no_line_selects(world, setup):
    other = ProjectTask.objects.create(project=setup["line"].project, name="Travel")
    entry = TimeEntry.objects.filter(status="submitted", project__number="PRJ-1001").first()
    TimeEntry.objects.filter(pk=entry.pk).update(task=other)
    entries.approve_time_entries(entry_ids=[entry.pk], by=world["pm"])
    assert [(a.transaction_type, a.contract_id) for a in Actual.objects.filter(time_entry=entry)] == [("cost", None)]


def test_it_splits_classes_of_one_project_over_lines_with_all_tasks(world):
    line = ContractLine.objects.get(contract__number="PC-1001")
    save(world, line, include_expense=False, include_material=False, include_fee=False)
    expenses = save(world, None, name="Expenses", include_time=False, include_material=False, include_fee=False)
    task = line.project.tasks.get()
    assert approve_time(world, task).get().contract_line == line
    assert approve_expense(world, task).get().contract_line == expenses


@pytest.mark.parametrize("first,second", [("all", "all"), ("all", "selected"), ("selected", "all")])
def test_it_refuses_a_project_and_class_on_two_lines_when_one_has_all_tasks(world, first, second):
    line = ContractLine.objects.get(contract__number="PC-1001")
    task = line.project.tasks.get()
    save(world, line, included_tasks=first, tasks=[(task.pk, C)])
    with pytest.raises(DomainError, match="with All tasks a project and class can be on one line"):
        save(world, None, name="Second", included_tasks=second, tasks=[(task.pk, C)], include_time=False,
             include_material=False, include_fee=False)
    assert ContractLine.objects.filter(contract=line.contract).count() == 1


def test_it_refuses_a_task_on_two_lines_with_selected_tasks(world, setup):
    with pytest.raises(DomainError, match="a task can be on one line per class"):
        save(world, setup["second"], tasks=[(setup["support"].pk, C), (setup["design"].pk, C)])
    assert set(setup["second"].line_tasks.values_list("task_id", flat=True)) == {setup["support"].pk}


def test_it_lets_two_lines_share_a_task_for_different_classes(world, setup):
    save(world, setup["line"], include_expense=False, tasks=[(setup["design"].pk, C)])
    save(world, setup["second"], include_time=False, include_material=False, include_fee=False,
         tasks=[(setup["support"].pk, C), (setup["design"].pk, C)])
    assert approve_time(world, setup["design"]).get().contract_line == setup["line"]
    assert approve_expense(world, setup["design"]).get().contract_line == setup["second"]


@pytest.mark.parametrize("changes,message", [
    ({"included_tasks": "selected", "tasks": []}, "needs at least one task"),
    ({"name": "  "}, "needs a name"),
    ({"billing_method": "retainer"}, "not a billing method"),
    ({"included_tasks": "some"}, "not a choice of included tasks"),
    ({"tasks": [("TASK_OF_OTHER_PROJECT", C)]}, "Only a task of the line's project"),
    ({"categories": [("AIRFARE", "complimentary")]}, "either chargeable or non-chargeable"),
    ({"categories": [("HARDWARE", NC)]}, "Only a expense category"),
    ({"roles": [("ROLE", NC), ("ROLE", C)]}, "can be on a line only once"),
])
def test_it_refuses_bad_line_input_and_changes_nothing(world, changes, message):
    line = ContractLine.objects.get(contract__number="PC-1001")
    ids = {"TASK_OF_OTHER_PROJECT": ProjectTask.objects.get(project__number="PRJ-1002").pk,
           "AIRFARE": TransactionCategory.objects.get(name="Airfare").pk,
           "HARDWARE": TransactionCategory.objects.get(name="Hardware").pk,
           "ROLE": ResourceRole.objects.get(name="Consultant").pk}
    for key in ("tasks", "roles", "categories"):
        if key in changes:
            changes[key] = [(ids.get(pk, pk), t) for pk, t in changes[key]]
    before = ContractLine.objects.filter(pk=line.pk).values().get()
    with pytest.raises(DomainError, match=message):
        save(world, line, **changes)
    assert ContractLine.objects.filter(pk=line.pk).values().get() == before
    assert not ContractLineTask.objects.filter(contract_line=line).exists()


def test_it_refuses_a_second_line_of_the_same_name(world):
    with pytest.raises(DomainError, match="already has a line"):
        save(world, None, include_time=False, include_expense=False, include_material=False, include_fee=False)


def test_it_locks_project_and_billing_method_of_a_line_with_actuals(world):
    line = ContractLine.objects.get(contract__number="PC-1001")
    with pytest.raises(DomainError, match="can no longer change"):
        save(world, line, billing_method="fp")
    assert ContractLine.objects.get(pk=line.pk).billing_method == "tm"


# --- Chargeability -------------------------------------------------------------------------------


def test_it_makes_a_non_chargeable_task_non_chargeable_for_every_class(world):
    line = ContractLine.objects.get(contract__number="PC-1001")
    task = line.project.tasks.get()
    save(world, line, tasks=[(task.pk, NC)])
    assert [a.billing_type for a in approve_time(world, task)] == [NC]
    assert [a.billing_type for a in approve_expense(world, task)] == [NC]
    unbilled = approve_expense(world, task, "Hardware").get()
    assert unbilled.billing_type == NC and unbilled.billing_status == "unbilled_sales_created"


def test_it_applies_a_role_to_time_only(world):
    line = ContractLine.objects.get(contract__number="PC-1001")
    task = line.project.tasks.get()
    save(world, line, roles=[(ResourceRole.objects.get(name="Consultant").pk, NC)])
    assert [a.billing_type for a in approve_time(world, task, "Consultant")] == [NC]
    assert [a.billing_type for a in approve_time(world, task, "Architect")] == [C]
    assert [a.billing_type for a in approve_expense(world, task)] == [C]


def test_it_applies_a_category_to_expenses_only(world):
    line = ContractLine.objects.get(contract__number="PC-1001")
    task = line.project.tasks.get()
    save(world, line, categories=[(TransactionCategory.objects.get(name="Hotel").pk, NC)])
    assert [a.billing_type for a in approve_expense(world, task, "Hotel")] == [NC]
    assert [a.billing_type for a in approve_expense(world, task, "Airfare")] == [C]
    assert [a.billing_type for a in approve_time(world, task)] == [C]


def test_it_keeps_non_chargeable_sales_out_of_ready_to_invoice(world):
    from dataverse.services import backlog

    line = ContractLine.objects.get(contract__number="PC-1001")
    task = line.project.tasks.get()
    save(world, line, tasks=[(task.pk, NC)])
    unbilled = approve_expense(world, task).get()
    with pytest.raises(DomainError, match="not chargeable"):
        backlog.mark_ready_to_invoice(actual_ids=[unbilled.pk], ready=True, by=world["pm"])


# --- Contract status and prices ----------------------------------------------------------------------


def test_it_refuses_new_actuals_on_a_closed_contract(world):
    contract = ProjectContract.objects.get(number="PC-1001")
    approved = TimeEntry.objects.filter(status="approved", project__number="PRJ-1001").first()
    contracts.change_contract_status(contract_id=contract.pk, status="closed", by=world["pm"])
    entry = Entry.objects.filter(project__number="PRJ-1001", status="submitted").first()
    before = Actual.objects.count()
    with pytest.raises(DomainError, match="is closed: it takes no new actuals"):
        entries.approve_entries(entry_ids=[entry.pk], by=world["pm"])
    with pytest.raises(DomainError, match="which is closed: it can no longer be recalled"):
        entries.recall_time_entries(entry_ids=[approved.pk], by=world["pm"])
    assert Actual.objects.count() == before


def test_it_records_only_the_cost_while_the_contract_is_a_draft(world):
    ProjectContract.objects.filter(number="PC-1001").update(status="draft")
    entry = Entry.objects.filter(project__number="PRJ-1001", status="submitted").first()
    entries.approve_entries(entry_ids=[entry.pk], by=world["pm"])
    assert [(a.transaction_type, a.contract_id) for a in Actual.objects.filter(entry=entry)] == [("cost", None)]


def test_it_prices_categories_from_the_price_lists(world):
    sales = PriceList.objects.get(name="USPM sales 2026")
    masterdata.set_price(price_list_id=sales.pk, category_id=TransactionCategory.objects.get(name="Hotel").pk,
                         price=Decimal("180"), by=world["pm"])
    task = ContractLine.objects.get(contract__number="PC-1001").project.tasks.get()
    assert approve_expense(world, task).get().amount == 180


def test_it_refuses_a_missing_or_negative_price(world):
    sales = PriceList.objects.get(name="USPM sales 2026")
    hotel = TransactionCategory.objects.get(name="Hotel")
    with pytest.raises(DomainError, match="cannot be negative"):
        masterdata.set_price(price_list_id=sales.pk, category_id=hotel.pk, price=Decimal(-1), by=world["pm"])
    with pytest.raises(DomainError, match="either a role or a category"):
        masterdata.set_price(price_list_id=sales.pk, price=Decimal(1), by=world["pm"])
    sales.category_prices.filter(category=hotel).delete()
    task = ContractLine.objects.get(contract__number="PC-1001").project.tasks.get()
    with pytest.raises(DomainError, match="No sales price"):
        approve_expense(world, task)


def test_it_keeps_a_line_with_milestones_fixed_price_and_in_place(world):
    from dataverse.services import milestones

    contract = ProjectContract.objects.get(number="PC-1001")
    line = contract_lines.save_contract_line(
        contract_id=contract.pk, name="Fixed fee", project_id=contract.lines.first().project_id,
        billing_method="fp", include_time=False, contracted_amount=Decimal(1000), by=world["pm"])
    milestones.set_milestones(line_id=line.pk, by=world["pm"], milestones=[
        {"name": "Go-live", "milestone_date": date(2026, 12, 1), "amount": Decimal(1000), "tax": 0}])
    with pytest.raises(DomainError, match="has milestones"):
        contract_lines.delete_contract_line(line_id=line.pk, by=world["pm"])
    with pytest.raises(DomainError, match="has milestones"):
        contract_lines.save_contract_line(contract_id=contract.pk, line_id=line.pk, name=line.name,
                                          project_id=line.project_id, billing_method="tm", by=world["pm"])
    assert ContractLine.objects.get(pk=line.pk).billing_method == "fp"
