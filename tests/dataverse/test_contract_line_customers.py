"""Contract line customers: a line's own split takes priority over the contract's (domain.md §3.1,
BR-14, D71)."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from dataverse.models import (
    Actual,
    ContractLine,
    ContractLineCustomer,
    Customer,
    ProjectContract,
    TimeEntry,
    TransactionType,
)
from dataverse.services import backlog, contract_lines, contracts, entries, invoicing, milestones
from finance.models import InvoiceProposal
from finance.services import importing
from projinv.domain import DomainError

from ..helpers import assert_invariants_hold_once_settled, post, sync

pytestmark = pytest.mark.django_db(databases=["default", "finance"])
D = Decimal
ONE = D(1)


@pytest.fixture
def contract(world):
    """PC-1001 billed 50 / 50 to C-1001 and C-1002 (C-1002 takes the rounding), with no actuals yet."""
    contract = ProjectContract.objects.get(number="PC-1001")
    Actual.objects.filter(contract=contract).update(contract=None, contract_line=None)
    contracts.set_contract_customers(contract_id=contract.pk, by=world["pm"], splits=[
        (customer("C-1001"), D(50), False), (customer("C-1002"), D(50), True)])
    return contract


def customer(number):
    return Customer.objects.get(number=number).pk


def tm_line(contract):
    return ContractLine.objects.get(contract=contract, billing_method="tm")


def set_line(world, line, *splits):
    contract_lines.set_contract_line_customers(line_id=line.pk, splits=list(splits), by=world["pm"])


def approve_one(world, hours=ONE):
    entry = TimeEntry.objects.filter(status=TimeEntry.Status.SUBMITTED, project__number="PRJ-1001").first()
    TimeEntry.objects.filter(pk=entry.pk).update(hours=hours)
    entries.approve_time_entries(entry_ids=[entry.pk], by=world["pm"])
    return Actual.objects.filter(time_entry=entry, transaction_type=TransactionType.UNBILLED_SALES)


def test_it_splits_the_lines_unbilled_sales_by_the_lines_customers(contract, world):
    line = tm_line(contract)
    set_line(world, line, (customer("C-1001"), D("66.67"), True), (customer("C-1002"), D("33.33"), False))
    unbilled = approve_one(world)
    shares = {a.customer.number: (a.quantity, a.amount) for a in unbilled.select_related("customer")}
    price = unbilled.first().price
    # 33.33 % to C-1002 rounded; C-1001, the line's rounding customer, takes the rest.
    c1002 = (price * D("0.3333")).quantize(D("0.01"))
    assert shares == {"C-1002": (D("0.3333"), c1002), "C-1001": (D("0.6667"), price - c1002)}


def test_it_splits_by_the_contracts_customers_when_the_line_has_none(contract, world):
    unbilled = approve_one(world, hours=D(2))
    assert sorted((a.customer.number, a.quantity) for a in unbilled.select_related("customer")) == [
        ("C-1001", D(1)), ("C-1002", D(1))]


def test_it_bills_a_line_customer_on_its_contract_customers_invoice_through_finance(contract, world):
    line = tm_line(contract)
    set_line(world, line, (customer("C-1002"), D(100), True))  # this line bills C-1002 alone
    unbilled = approve_one(world, hours=D(4))
    assert [a.customer.number for a in unbilled.select_related("customer")] == ["C-1002"]
    backlog.mark_ready_to_invoice(actual_ids=[a.pk for a in unbilled], ready=True, by=world["pm"])
    invoices = invoicing.create_proforma_invoices(contract_id=contract.pk, by=world["pm"])
    assert [(i.customer.number, i.total) for i in invoices] == [("C-1002", unbilled.get().amount)]
    invoicing.confirm_proforma(invoice_id=invoices[0].pk, by=world["pm"])
    sync()
    importing.import_from_staging(triggered_by="test")
    proposal = InvoiceProposal.objects.get(number=invoices[0].number)
    assert (proposal.customer_number, proposal.status) == ("C-1002", "open")
    post(proposal)
    assert_invariants_hold_once_settled()


def test_it_splits_a_milestone_by_the_lines_customers(contract, world):
    ContractLine.objects.filter(contract=contract).update(include_fee=False)
    fp = contract_lines.save_contract_line(
        contract_id=contract.pk, name="Fixed fee", project_id=tm_line(contract).project_id, billing_method="fp",
        include_time=False, contracted_amount=D(1000), by=world["pm"])
    set_line(world, fp, (customer("C-1001"), D(80), True), (customer("C-1002"), D(20), False))
    (milestone,) = milestones.set_milestones(line_id=fp.pk, by=world["pm"], milestones=[
        {"name": "Go-live", "milestone_date": date(2026, 11, 1), "amount": D(1000), "tax": D(0)}])
    milestones.mark_milestones_ready(milestone_ids=[milestone.pk], ready=True, by=world["pm"])
    invoices = invoicing.create_proforma_invoices(contract_id=contract.pk, by=world["pm"])
    assert sorted((i.customer.number, i.total) for i in invoices) == [("C-1001", D(800)), ("C-1002", D(200))]


@pytest.mark.parametrize(("splits", "message"), [
    ([("C-1001", D(50), True), ("C-1002", D(40), False)], "total 90"),
    ([("C-1001", D(50), False), ("C-1002", D(50), False)], "Exactly one customer must take the rounding"),
    ([("C-1001", D(50), True), ("C-1002", D(50), True)], "Exactly one customer must take the rounding"),
    ([("C-1001", D(50), True), ("C-1001", D(50), False)], "only once"),
    ([("C-1001", D(0), False), ("C-1002", D(100), True)], "more than 0"),
    ([("C-1001", D(50), True), ("C-1003", D(50), False)], "is not a customer of contract PC-1001"),
])
def test_it_refuses_a_bad_line_split_and_changes_nothing(contract, world, splits, message):
    line = tm_line(contract)
    set_line(world, line, (customer("C-1001"), D(100), True))
    if any(number == "C-1003" for number, *_rest in splits):
        Customer.objects.create(number="C-1003", name="Northwind", legal_entity="USPM")
    with pytest.raises(DomainError, match=message):
        set_line(world, line, *[(customer(number), split, rounding) for number, split, rounding in splits])
    assert list(line.line_customers.values_list("customer__number", "split_percent", "is_rounding")) == [
        ("C-1001", D(100), True)]


def test_it_fixes_the_lines_customers_once_it_has_actuals(contract, world):
    line = tm_line(contract)
    approve_one(world)
    with pytest.raises(DomainError, match="already has actuals"):
        set_line(world, line, (customer("C-1001"), D(100), True))
    assert not ContractLineCustomer.objects.exists()


def test_it_keeps_a_contract_customer_that_a_line_bills(contract, world):
    set_line(world, tm_line(contract), (customer("C-1002"), D(100), True))
    with pytest.raises(DomainError, match="bills part of line"):
        contracts.set_contract_customers(contract_id=contract.pk, by=world["pm"],
                                         splits=[(customer("C-1001"), D(100), True)])
    assert contract.contract_customers.count() == 2


def test_it_saves_the_lines_customers_from_the_line_page(contract, world, as_user):
    line = tm_line(contract)
    client = as_user(world["pm"])
    page = client.get(reverse("dataverse:line_edit", args=[line.pk]))
    assert reverse("dataverse:line_customers", args=[line.pk]) in page.content.decode()
    form = {"customers-TOTAL_FORMS": "3", "customers-INITIAL_FORMS": "0",
            "customers-0-customer": customer("C-1001"), "customers-0-split_percent": "70",
            "customers-1-customer": customer("C-1002"), "customers-1-split_percent": "30",
            "customers-1-is_rounding": "on"}
    assert client.post(reverse("dataverse:line_customers", args=[line.pk]), form).status_code == 302
    assert sorted(line.line_customers.values_list("customer__number", "split_percent")) == [
        ("C-1001", D(70)), ("C-1002", D(30))]

    form["customers-1-split_percent"] = "20"
    response = client.post(reverse("dataverse:line_customers", args=[line.pk]), form, follow=True)
    assert "total 90" in response.content.decode()
    assert sorted(line.line_customers.values_list("split_percent", flat=True)) == [D(30), D(70)]
