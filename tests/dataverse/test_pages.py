"""The pages of contract lines, entries and their approval queue, categories and price lists."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dataverse import selectors
from dataverse.models import (
    Actual,
    ContractCustomer,
    ContractLine,
    Entry,
    PriceList,
    Project,
    ProjectContract,
    ProjectTask,
    TimeEntry,
    TransactionCategory,
)
from dataverse.services import entries

pytestmark = pytest.mark.django_db(databases=["default", "finance"])


def more_entries(world, count=5):
    hotel = TransactionCategory.objects.get(name="Hotel")
    project = Project.objects.get(number="PRJ-1001")
    made = [entries.create_entry(transaction_class="expense", category_id=hotel.pk, project_id=project.pk,
                                 task_id=project.tasks.get().pk, date=date(2026, 11, 3), quantity=Decimal(1),
                                 by=world["pm"]) for _ in range(count)]
    entries.submit_entries(entry_ids=[e.pk for e in made], by=world["pm"])
    return made


def more_lines(world, count=4):
    from dataverse.services import contract_lines

    contract = ProjectContract.objects.get(number="PC-1001")
    project = Project.objects.get(number="PRJ-1001")
    for i in range(count):
        task = ProjectTask.objects.create(project=project, name=f"Extra {i}")
        contract_lines.save_contract_line(contract_id=contract.pk, name=f"Extra {i}", project_id=project.pk,
                                          billing_method="fp", included_tasks="selected", include_time=False,
                                          tasks=[(task.pk, "chargeable")], by=world["pm"])


def queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("name,grow", [
    ("dataverse:other_entries", more_entries), ("dataverse:approval_queue", more_entries),
    ("dataverse:lines", more_lines), ("dataverse:categories", None), ("dataverse:price_lists", None),
])
def test_it_keeps_a_constant_number_of_queries(world, as_user, name, grow):
    client = as_user(world["pm"])
    url = reverse(name)
    before = queries(client, url)
    if grow:
        grow(world)
    else:
        for i in range(4):
            TransactionCategory.objects.create(name=f"Extra {i}", transaction_class="fee")
            PriceList.objects.create(name=f"Extra {i}", currency="USD")
    assert queries(client, url) == before


def test_it_sorts_filters_and_paginates_the_entries(world, as_user):
    more_entries(world, 3)
    client = as_user(world["pm"])
    response = client.get(reverse("dataverse:other_entries"), {"status": "submitted", "sort": "-quantity"})
    rows = [row.record for row in response.context["table"].page.object_list]
    assert {e.status for e in rows} == {"submitted"} and len(rows) == 7  # the demo's 2 a project and these 3
    assert [e.quantity for e in rows] == sorted((e.quantity for e in rows), reverse=True)
    assert response.context["table"].paginator.per_page == 50


def test_it_approves_in_bulk_from_the_queue_with_billable_quantities(world, as_user):
    made = more_entries(world, 2)
    time_entry = TimeEntry.objects.filter(status="submitted").first()
    client = as_user(world["pm"])
    response = client.post(reverse("dataverse:other_entries_approve"), {
        "selection": [e.pk for e in made], f"billable_{made[0].pk}": "0.5", "from": "queue"})
    assert response.url == reverse("dataverse:approval_queue")
    assert set(Entry.objects.filter(pk__in=[e.pk for e in made]).values_list("status", flat=True)) == {"approved"}
    first = Actual.objects.filter(entry=made[0], transaction_type="unbilled_sales")
    assert sorted((a.billing_type, a.quantity) for a in first) == [("chargeable", Decimal("0.5")),
                                                                  ("non_chargeable", Decimal("0.5"))]
    client.post(reverse("dataverse:entries_reject"), {"selection": [time_entry.pk], "from": "queue"})
    assert TimeEntry.objects.get(pk=time_entry.pk).status == "rejected"


def test_it_says_what_is_wrong_with_a_billable_quantity_and_approves_nothing(world, as_user):
    made = more_entries(world, 1)
    client = as_user(world["pm"])
    for value, message in (("lots", "is not a quantity"), ("-1", "cannot be negative")):
        response = client.post(reverse("dataverse:other_entries_approve"),
                               {"selection": [made[0].pk], f"billable_{made[0].pk}": value}, follow=True)
        assert message in response.content.decode()
    assert Entry.objects.get(pk=made[0].pk).status == "submitted" and not Actual.objects.filter(entry=made[0])


def test_it_creates_an_entry_on_its_page_and_refuses_a_negative_quantity(world, as_user):
    client = as_user(world["pm"])
    project = Project.objects.get(number="PRJ-1001")
    form = {"transaction_class": "material", "category": TransactionCategory.objects.get(name="Hardware").pk,
            "project": project.pk, "date": "2026-11-04", "quantity": "-2", "description": "Laptops"}
    response = client.post(reverse("dataverse:entry_create"), form)
    assert "more than zero" in response.content.decode() and not Entry.objects.filter(description="Laptops")
    response = client.post(reverse("dataverse:entry_create"), form | {"quantity": "2"})
    assert response.url == reverse("dataverse:other_entries")
    assert Entry.objects.get(description="Laptops").status == "draft"


def line_form(line, **changes):
    data = {"name": line.name, "project": line.project_id, "billing_method": line.billing_method,
            "included_tasks": line.included_tasks, "include_time": "on", "include_expense": "on"}
    return {key: value for key, value in (data | changes).items() if value is not None}


def test_it_edits_a_line_with_its_tasks_and_chargeability(world, as_user):
    line = ContractLine.objects.get(contract__number="PC-1001")
    task = line.project.tasks.get()
    hotel = TransactionCategory.objects.get(name="Hotel")
    client = as_user(world["pm"])
    assert client.get(reverse("dataverse:line_edit", args=[line.pk])).status_code == 200
    response = client.post(reverse("dataverse:line_edit", args=[line.pk]), line_form(
        line, included_tasks="selected", tasks=[task.pk], non_chargeable_categories=[hotel.pk]))
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.included_tasks == "selected" and not line.include_material
    assert list(line.line_tasks.values_list("task_id", "billing_type")) == [(task.pk, "chargeable")]
    assert list(line.line_categories.values_list("category_id", "billing_type")) == [(hotel.pk, "non_chargeable")]


def test_it_refuses_an_overlapping_line_on_the_page_and_changes_nothing(world, as_user):
    contract = ProjectContract.objects.get(number="PC-1001")
    line = contract.lines.get()
    client = as_user(world["pm"])
    response = client.post(reverse("dataverse:line_create", args=[contract.pk]), line_form(line, name="Second"))
    assert "with All tasks a project and class can be on one line" in response.content.decode()
    assert contract.lines.count() == 1


def test_it_refuses_crafted_posts_on_a_closed_contract(world, as_user):
    contract = ProjectContract.objects.get(number="PC-1002")
    client = as_user(world["pm"])
    client.post(reverse("dataverse:contract_status", args=[contract.pk]), {"status": "closed"})
    contract.refresh_from_db()
    assert contract.status == "closed"
    line = contract.lines.get()
    page = client.get(reverse("dataverse:contract_detail", args=[contract.pk])).content.decode()
    assert "Save the contract" not in page and "Add a line" not in page  # nothing to edit is offered
    before = (ProjectContract.objects.filter(pk=contract.pk).values().get(), ContractLine.objects.filter(
        pk=line.pk).values().get(), ContractCustomer.objects.count())
    responses = [
        client.post(reverse("dataverse:contract_update", args=[contract.pk]),
                    {"name": "Crafted", "sales_price_list": contract.sales_price_list_id}, follow=True),
        client.post(reverse("dataverse:line_edit", args=[line.pk]), line_form(line, name="Crafted")),
        client.post(reverse("dataverse:line_delete", args=[line.pk]), follow=True),
        client.post(reverse("dataverse:contract_detail", args=[contract.pk]), {
            "form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "0", "form-0-customer": contract.customer_id,
            "form-0-split_percent": "100", "form-0-is_rounding": "on"}, follow=True),
        client.post(reverse("dataverse:contract_status", args=[contract.pk]), {"status": "active"}, follow=True),
    ]
    for response in responses:
        assert "is closed" in response.content.decode().lower()
    assert before == (ProjectContract.objects.filter(pk=contract.pk).values().get(), ContractLine.objects.filter(
        pk=line.pk).values().get(), ContractCustomer.objects.count())


def test_it_refuses_a_currency_change_by_a_crafted_post(world, as_user):
    contract = ProjectContract.objects.get(number="PC-1001")
    response = as_user(world["pm"]).post(reverse("dataverse:contract_update", args=[contract.pk]), {
        "name": contract.name, "sales_price_list": contract.sales_price_list_id, "currency": "EUR"}, follow=True)
    assert "locked after save" in response.content.decode()
    assert ProjectContract.objects.get(pk=contract.pk).currency == "USD"


def test_it_saves_categories_and_prices_on_their_pages(world, as_user):
    client = as_user(world["pm"])
    client.post(reverse("dataverse:category_create"), {"name": "Mileage", "transaction_class": "expense",
                                                       "unit": "km"})
    mileage = TransactionCategory.objects.get(name="Mileage")
    sales = PriceList.objects.get(name="USPM sales 2026")
    url = reverse("dataverse:price_list_detail", args=[sales.pk])
    client.post(url, {"category": mileage.pk, "price": "0.70"})
    assert sales.category_prices.get(category=mileage).price == Decimal("0.70")
    response = client.post(url, {"category": mileage.pk, "price": "-1"})
    assert "cannot be negative" in response.content.decode()
    assert sales.category_prices.get(category=mileage).price == Decimal("0.70")
    assert "Mileage" in client.get(url).content.decode()


def test_it_refuses_a_post_without_the_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["pm"])
    made = more_entries(world, 1)
    assert client.post(reverse("dataverse:other_entries_approve"), {"selection": [made[0].pk]}).status_code == 403
    assert Entry.objects.get(pk=made[0].pk).status == "submitted"


def test_it_creates_a_draft_contract_on_its_page(world, as_user):
    from dataverse.models import Customer

    client = as_user(world["pm"])
    form = {"number": "PC-3001", "name": "Managed services", "customer": Customer.objects.get(number="C-1002").pk,
            "legal_entity": "USPM", "currency": "eur", "sales_price_list": PriceList.objects.get(
                name="USPM sales 2026").pk}
    response = client.post(reverse("dataverse:contract_create"), form)
    assert "is in USD; the contract sells in EUR" in response.content.decode()
    assert not ProjectContract.objects.filter(number="PC-3001").exists()
    response = client.post(reverse("dataverse:contract_create"), form | {"currency": "USD"})
    contract = ProjectContract.objects.get(number="PC-3001")
    assert response.url == reverse("dataverse:contract_detail", args=[contract.pk])
    assert (contract.status, contract.currency) == ("draft", "USD")
    assert "Make it Active" in client.get(response.url).content.decode()


def test_the_backlog_filters_by_a_contract_s_number_typed_not_picked_from_every_contract(world, as_user):
    contract = selectors.backlog().exclude(contract=None).first().contract
    client = as_user(world["pm"])
    response = client.get(reverse("dataverse:backlog"), {"contract": contract.number.lower()})
    rows = [row.record for row in response.context["table"].page.object_list]
    assert rows and {actual.contract_id for actual in rows} == {contract.pk}
    field = response.context["filter"].form["contract"]
    assert field.label == "Contract" and 'type="text"' in str(field)  # no <select> of every contract

    response = client.get(reverse("dataverse:backlog"), {"contract": "PC-NONE"})
    assert list(response.context["table"].page.object_list) == []
