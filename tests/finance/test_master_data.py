"""Master data from Dataverse: order-safe upserts, soft deletes, finance's own project group
(domain.md §2.1, contract.md "Bridge → finance")."""

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from finance.models import (
    ContractBillingRule,
    FundingSource,
    OnAccountTransaction,
    Project,
    ProjectContract,
    ProjectGroup,
    TransactionCategory,
)
from finance.services import inbound

pytestmark = pytest.mark.django_db(databases=["default", "finance"])

T0 = datetime(2026, 3, 1, 9, 0, 0, 123456).astimezone()


def at(minutes: int) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


def contract(minutes=0, **fields) -> dict:
    return {"contract_number": "PC-1001", "name": "Fabrikam – ERP rollout", "legal_entity": "USPM",
            "customer_number": "C-1001", "currency": "USD", "status": "active", "modified_on": at(minutes)} | fields


def test_it_creates_a_contract_once_however_often_it_is_delivered():
    assert inbound.receive_contracts(rows=[contract()]) == 1
    assert inbound.receive_contracts(rows=[contract()]) == 0  # a redelivery changes nothing

    record = ProjectContract.objects.get()
    assert (record.contract_number, record.name, record.customer_number, record.active) == (
        "PC-1001", "Fabrikam – ERP rollout", "C-1001", True)


def test_it_keeps_a_newer_change_when_an_older_one_arrives_after_it():
    inbound.receive_contracts(rows=[contract(5, name="Renamed")])

    assert inbound.receive_contracts(rows=[contract(1, name="Old name")]) == 0

    record = ProjectContract.objects.get()
    assert (record.name, record.modified_on) == ("Renamed", T0 + timedelta(minutes=5))
    assert inbound.receive_contracts(rows=[contract(9, name="Newest")]) == 1
    assert ProjectContract.objects.get().name == "Newest"


def test_it_takes_the_newest_of_several_changes_to_one_record_in_one_delivery():
    inbound.receive_contracts(rows=[contract(3, name="Third"), contract(7, name="Seventh"), contract(5, name="Fifth")])

    assert ProjectContract.objects.get().name == "Seventh"


def funding(minutes=0, **fields) -> dict:
    return {"contract_number": "PC-1001", "customer_number": "C-1002", "is_primary": False, "deleted": False,
            "modified_on": at(minutes)} | fields


def test_it_deletes_a_funding_source_softly_and_an_older_change_does_not_bring_it_back():
    inbound.receive_funding_sources(rows=[funding(0, is_primary=True)])

    inbound.receive_funding_sources(rows=[funding(2, deleted=True)])
    inbound.receive_funding_sources(rows=[funding(1)])  # a late update from before the delete

    source = FundingSource.objects.get()
    assert (source.active, source.modified_on) == (False, T0 + timedelta(minutes=2))


def test_it_remembers_a_delete_that_arrives_before_the_record():
    inbound.receive_contract_billing_rules(rows=[{
        "contract_number": "PC-1001", "line_name": "T&M", "project_number": "PRJ-1001", "billing_method": "tm",
        "deleted": True, "modified_on": at(2)}])
    inbound.receive_contract_billing_rules(rows=[{
        "contract_number": "PC-1001", "line_name": "T&M", "project_number": "PRJ-1001", "billing_method": "tm",
        "deleted": False, "modified_on": at(1)}])

    assert list(ContractBillingRule.objects.values_list("active", "billing_method")) == [(False, "tm")]


def test_it_never_clears_the_project_group_the_accountant_set(ledger):
    inbound.receive_projects(rows=[{"project_number": "PRJ-1001", "name": "ERP", "legal_entity": "USPM",
                                    "modified_on": at(0)}])
    group = ProjectGroup.objects.create(legal_entity=ledger, code="INTERNAL", name="Internal projects")
    Project.objects.filter(project_number="PRJ-1001").update(project_group=group)

    inbound.receive_projects(rows=[{"project_number": "PRJ-1001", "name": "ERP rollout", "legal_entity": "USPM",
                                    "modified_on": at(1)}])

    project = Project.objects.get()
    assert (project.name, project.project_group) == ("ERP rollout", group)


def test_it_receives_transaction_categories_and_on_account_transactions():
    inbound.receive_transaction_categories(rows=[{"category": "Travel", "transaction_class": "expense",
                                                  "modified_on": at(0)}])
    milestone = uuid.uuid4()
    inbound.receive_on_account_transactions(rows=[{
        "milestone_id": str(milestone), "contract_number": "PC-1001", "line_name": "FP", "project_number": "PRJ-1001",
        "legal_entity": "USPM", "name": "Go-live", "milestone_date": "2026-04-30", "amount": Decimal("5000"),
        "currency": "USD", "deleted": False, "modified_on": at(0)}])

    assert list(TransactionCategory.objects.values_list("category", "transaction_class", "active")) == [
        ("Travel", "expense", True)]
    on_account = OnAccountTransaction.objects.get()
    assert (on_account.milestone_id, on_account.milestone_date, on_account.amount) == (
        milestone, date(2026, 4, 30), Decimal("5000"))


def test_it_lists_master_data_read_only_for_the_accountant(world, as_user):
    inbound.receive_contracts(rows=[contract(), contract(contract_number="PC-1002")])
    client = as_user(world["accountant"])

    response = client.get(reverse("finance:setup_contracts"))

    assert response.status_code == 200
    assert "PC-1002" in response.content.decode()
    assert "/setup/contracts/new/" not in response.content.decode()
