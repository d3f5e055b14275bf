"""Master data through the services, each change announced to the bridge (contract.md)."""

from datetime import datetime
from decimal import Decimal

import pytest

from dataverse import selectors
from dataverse.models import (
    Actual,
    ContractLine,
    Customer,
    Invoice,
    PriceList,
    Project,
    ProjectContract,
    TransactionCategory,
)
from dataverse.services import contract_lines, contracts, masterdata
from projinv.domain import DomainError, InvalidTransition

from ..helpers import invoice_contract

pytestmark = pytest.mark.django_db(databases=["default", "finance"])
Status = ProjectContract.Status


@pytest.fixture
def draft_contract(world):
    sales = PriceList.objects.get(name="USPM sales 2026")
    return contracts.create_contract(number="PC-2001", name="Rollout phase 2", by=world["pm"],
                                     customer_id=Customer.objects.get(number="C-1001").pk, legal_entity="USPM",
                                     currency="USD", sales_price_list_id=sales.pk)


def only(heard, entity):
    return [row for name, rows in heard if name == entity for row in rows]


def test_it_announces_a_new_contract_and_its_implicit_primary_customer(world, heard, draft_contract):
    (row,) = only(heard, "salesorders")
    assert {k: v for k, v in row.items() if k != "modifiedon"} == {
        "salesorderid": "PC-2001", "name": "Rollout phase 2", "owningcompany": "USPM", "customerid": "C-1001",
        "transactioncurrency": "USD", "statecode": "draft"}
    assert datetime.fromisoformat(row["modifiedon"]) == draft_contract.modified_on
    assert "." in row["modifiedon"] and datetime.fromisoformat(row["modifiedon"]).tzinfo is not None
    (customer,) = only(heard, "msdyn_projectcontractsplitbillingrules")
    assert {k: v for k, v in customer.items() if k != "modifiedon"} == {
        "msdyn_contract": "PC-2001", "msdyn_customer": "C-1001", "msdyn_isprimary": True, "deleted": False}


def test_it_announces_split_customers_and_the_ones_that_go(world, heard, draft_contract):
    c1, c2 = Customer.objects.get(number="C-1001"), Customer.objects.get(number="C-1002")
    contracts.set_contract_customers(contract_id=draft_contract.pk, by=world["pm"],
                                     splits=[(c1.pk, Decimal(60), True), (c2.pk, Decimal(40), False)])
    rows = only(heard, "msdyn_projectcontractsplitbillingrules")[1:]
    assert {(r["msdyn_customer"], r["msdyn_isprimary"], r["deleted"]) for r in rows} == {
        ("C-1001", True, False), ("C-1002", False, False)}
    heard.clear()
    contracts.set_contract_customers(contract_id=draft_contract.pk, by=world["pm"],
                                     splits=[(c1.pk, Decimal(100), True)])
    rows = only(heard, "msdyn_projectcontractsplitbillingrules")
    assert {(r["msdyn_customer"], r["deleted"]) for r in rows} == {("C-1001", False), ("C-1002", True)}


def test_it_keeps_the_primary_customer_among_the_contract_customers(world, heard, draft_contract):
    c2 = Customer.objects.get(number="C-1002")
    with pytest.raises(DomainError, match="must stay among its customers"):
        contracts.set_contract_customers(contract_id=draft_contract.pk, by=world["pm"],
                                         splits=[(c2.pk, Decimal(100), True)])
    assert not draft_contract.contract_customers.exists()


def test_it_announces_lines_their_renames_and_deletes(world, heard, draft_contract):
    project = Project.objects.get(number="PRJ-1001")
    line = contract_lines.save_contract_line(contract_id=draft_contract.pk, name="Phase 2", project_id=project.pk,
                                             billing_method="fp", by=world["pm"])
    (row,) = only(heard, "salesorderdetails")
    assert {k: v for k, v in row.items() if k != "modifiedon"} == {
        "msdyn_contract": "PC-2001", "msdyn_name": "Phase 2", "msdyn_project": "PRJ-1001",
        "msdyn_billingmethod": "fp", "deleted": False}
    heard.clear()
    contract_lines.save_contract_line(contract_id=draft_contract.pk, line_id=line.pk, name="Phase 2 build",
                                      project_id=project.pk, billing_method="fp", by=world["pm"])
    assert {(r["msdyn_name"], r["deleted"]) for r in only(heard, "salesorderdetails")} == {
        ("Phase 2 build", False), ("Phase 2", True)}
    heard.clear()
    contract_lines.delete_contract_line(line_id=line.pk, by=world["pm"])
    assert [(r["msdyn_name"], r["deleted"]) for r in only(heard, "salesorderdetails")] == [("Phase 2 build", True)]
    assert not ContractLine.objects.filter(pk=line.pk).exists()


def test_it_refuses_to_delete_a_line_with_actuals(world, heard):
    line = ContractLine.objects.get(contract__number="PC-1001")
    with pytest.raises(DomainError, match="cannot be deleted"):
        contract_lines.delete_contract_line(line_id=line.pk, by=world["pm"])
    assert ContractLine.objects.filter(pk=line.pk).exists() and not heard


def test_it_announces_projects_and_categories(world, heard):
    cost_list = PriceList.objects.get(name="USPM cost 2026")
    project = masterdata.create_project(number="PRJ-2001", name="Data migration", legal_entity="USPM",
                                        cost_price_list_id=cost_list.pk, tasks=("Extract", "Load"), by=world["pm"])
    masterdata.update_project(project_id=project.pk, name="Data migration and cut-over",
                              cost_price_list_id=cost_list.pk, by=world["pm"])
    rows = only(heard, "msdyn_projects")
    assert [(r["msdyn_projectid"], r["msdyn_subject"], r["owningcompany"]) for r in rows] == [
        ("PRJ-2001", "Data migration", "USPM"), ("PRJ-2001", "Data migration and cut-over", "USPM")]
    assert rows[0]["modifiedon"] < rows[1]["modifiedon"]  # finance applies only the newer one
    assert project.tasks.count() == 2
    category = masterdata.save_transaction_category(name="Mileage", transaction_class="expense", unit="km",
                                                    by=world["pm"])
    masterdata.save_transaction_category(category_id=category.pk, name="Mileage", transaction_class="expense",
                                         unit="mile", by=world["pm"])
    assert [(r["msdyn_name"], r["msdyn_transactionclass"]) for r in only(heard, "msdyn_transactioncategories")] == [
        ("Mileage", "expense"), ("Mileage", "expense")]


def test_it_keeps_a_category_name_and_refuses_unknown_classes(world, heard):
    category = TransactionCategory.objects.get(name="Hotel")
    with pytest.raises(DomainError, match="keeps its name"):
        masterdata.save_transaction_category(category_id=category.pk, name="Motel", transaction_class="expense",
                                             by=world["pm"])
    with pytest.raises(DomainError, match="not a transaction class"):
        masterdata.save_transaction_category(name="Bonus", transaction_class="milestone", by=world["pm"])
    with pytest.raises(DomainError, match="has entries"):  # the demo's hotel nights
        masterdata.save_transaction_category(category_id=category.pk, name="Hotel", transaction_class="material",
                                             by=world["pm"])
    assert not heard and TransactionCategory.objects.get(pk=category.pk).transaction_class == "expense"


def test_it_builds_the_initial_sync_rows_from_the_selectors(world):
    contract_ids = list(ProjectContract.objects.values_list("pk", flat=True))
    assert [r["salesorderid"] for r in selectors.contract_rows(contract_ids)] == ["PC-1001", "PC-1002"]
    assert [(r["msdyn_contract"], r["msdyn_customer"], r["msdyn_isprimary"])
            for r in selectors.contract_customer_rows(contract_ids)] == [
        ("PC-1001", "C-1001", True), ("PC-1002", "C-1002", True)]
    assert len(selectors.contract_line_rows(ContractLine.objects.values_list("pk", flat=True))) == 2
    assert {r["msdyn_name"] for r in selectors.transaction_category_rows(
        TransactionCategory.objects.values_list("pk", flat=True))} == {"Airfare", "Hotel", "Hardware", "Setup fee"}


# --- Contract status and the locked currency ------------------------------------------------------


@pytest.mark.parametrize("start,target", [(Status.DRAFT, Status.ACTIVE), (Status.DRAFT, Status.CLOSED),
                                          (Status.ACTIVE, Status.CLOSED)])
def test_it_allows_the_documented_status_moves(world, heard, draft_contract, start, target):
    ProjectContract.objects.filter(pk=draft_contract.pk).update(status=start)
    contracts.change_contract_status(contract_id=draft_contract.pk, status=target, by=world["pm"])
    assert ProjectContract.objects.get(pk=draft_contract.pk).status == target
    assert only(heard, "salesorders")[-1]["statecode"] == target


@pytest.mark.parametrize("start,target", [(Status.ACTIVE, Status.DRAFT), (Status.ACTIVE, Status.ACTIVE),
                                          (Status.CLOSED, Status.ACTIVE), (Status.CLOSED, Status.DRAFT),
                                          (Status.DRAFT, Status.DRAFT), (Status.DRAFT, "lost")])
def test_it_refuses_every_other_status_move(world, heard, draft_contract, start, target):
    ProjectContract.objects.filter(pk=draft_contract.pk).update(status=start)
    heard.clear()
    with pytest.raises(InvalidTransition, match="cannot become"):
        contracts.change_contract_status(contract_id=draft_contract.pk, status=target, by=world["pm"])
    assert ProjectContract.objects.get(pk=draft_contract.pk).status == start and not heard


def test_it_keeps_a_contract_with_drafts_open(world):
    invoice = invoice_contract("PC-1001")
    contract = invoice.contract
    with pytest.raises(DomainError, match=f"draft invoices \\({invoice.number}\\)"):
        contracts.change_contract_status(contract_id=contract.pk, status=Status.CLOSED, by=world["pm"])
    assert ProjectContract.objects.get(pk=contract.pk).status == Status.ACTIVE
    assert Invoice.objects.get(pk=invoice.pk).status == Invoice.Status.DRAFT


def test_it_locks_the_sales_currency_after_save(world, draft_contract):
    sales = PriceList.objects.get(name="USPM sales 2026")
    with pytest.raises(DomainError, match="locked after save"):
        contracts.update_contract(contract_id=draft_contract.pk, name="x", sales_price_list_id=sales.pk,
                                  currency="EUR", by=world["pm"])
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError, match="locked after save"), transaction.atomic():
        ProjectContract.objects.filter(pk=draft_contract.pk).update(currency="EUR")  # no path gets round it
    assert ProjectContract.objects.get(pk=draft_contract.pk).currency == "USD"


def test_it_refuses_a_price_list_in_another_currency(world, draft_contract):
    eur = masterdata.create_price_list(name="EU sales", currency="EUR", by=world["pm"])
    with pytest.raises(DomainError, match="is in EUR"):
        contracts.update_contract(contract_id=draft_contract.pk, name="x", sales_price_list_id=eur.pk,
                                  by=world["pm"])


def test_it_keeps_a_closed_contract_read_only(world, heard):
    contract = ProjectContract.objects.get(number="PC-1002")
    contracts.change_contract_status(contract_id=contract.pk, status=Status.CLOSED, by=world["pm"])
    heard.clear()
    line = contract.lines.get()
    customer = Customer.objects.get(number="C-1002")
    refusals = [
        lambda: contracts.update_contract(contract_id=contract.pk, name="Renamed", by=world["pm"],
                                          sales_price_list_id=contract.sales_price_list_id),
        lambda: contracts.set_contract_customers(contract_id=contract.pk, splits=[(customer.pk, Decimal(100), True)],
                                                 by=world["pm"]),
        lambda: contract_lines.save_contract_line(contract_id=contract.pk, line_id=line.pk, name="Renamed",
                                                  project_id=line.project_id, billing_method="tm", by=world["pm"]),
        lambda: contract_lines.delete_contract_line(line_id=line.pk, by=world["pm"]),
    ]
    for refusal in refusals:
        with pytest.raises(DomainError, match="is closed"):
            refusal()
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError, match="is closed"), transaction.atomic():
        ProjectContract.objects.filter(pk=contract.pk).update(name="Renamed")
    contract.refresh_from_db()
    assert contract.name != "Renamed" and contract.lines.get().name == line.name and not heard
    assert Actual.objects.filter(contract=contract).exists()  # its history stays


def test_it_saves_projects_from_the_admin_through_the_service(world, heard, as_user):
    from django.contrib.auth.models import User
    from django.urls import reverse

    admin = as_user(User.objects.get(username="admin"))
    cost_list = PriceList.objects.get(name="USPM cost 2026")
    response = admin.post(reverse("admin:dataverse_project_add"), {
        "number": "PRJ-3001", "name": "Support", "legal_entity": "USPM", "cost_price_list": cost_list.pk})
    assert response.status_code == 302
    assert [r["msdyn_projectid"] for r in only(heard, "msdyn_projects")] == ["PRJ-3001"]
    project = Project.objects.get(number="PRJ-3001")
    admin.post(reverse("admin:dataverse_project_change", args=[project.pk]), {
        "name": "Support desk", "cost_price_list": cost_list.pk})
    assert [r["msdyn_subject"] for r in only(heard, "msdyn_projects")] == ["Support", "Support desk"]
    assert Project.objects.get(pk=project.pk).number == "PRJ-3001"  # the key is read-only there
