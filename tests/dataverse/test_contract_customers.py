"""Several customers on one contract: splits, the rounding customer, one invoice each (BR-14)."""

from decimal import Decimal

import pytest

from dataverse.models import (
    Actual,
    ContractCustomer,
    Customer,
    Invoice,
    ProjectContract,
    TimeEntry,
    TransactionType,
)
from dataverse.services import backlog, contracts, entries, invoicing
from projinv.domain import DomainError

from ..helpers import assert_invariants_hold_once_settled, post, sync

pytestmark = pytest.mark.django_db(databases=["default", "finance"])


@pytest.fixture
def shared_contract(world):
    """PC-1001 split three ways: 33.33 % / 33.33 % / 33.34 % (the last takes the rounding)."""
    contract = ProjectContract.objects.get(number="PC-1001")
    Actual.objects.filter(contract=contract).update(contract=None)  # the demo's earlier actuals: out of the way
    third = Customer.objects.create(number="C-1003", name="Northwind", legal_entity="USPM")
    from finance.models import Customer as FinanceCustomer
    from finance.models import LegalEntity

    FinanceCustomer.objects.create(legal_entity=LegalEntity.objects.get(code="USPM"), number="C-1003",
                                   name="Northwind", sales_tax_group="EXEMPT")
    c1001, c1002 = Customer.objects.get(number="C-1001"), Customer.objects.get(number="C-1002")
    contracts.set_contract_customers(contract_id=contract.pk, by=world["pm"], splits=[
        (c1001.pk, Decimal("33.33"), False), (c1002.pk, Decimal("33.33"), False), (third.pk, Decimal("33.34"), True)])
    return contract


def approve_one(world, hours=Decimal(1)):
    entry = TimeEntry.objects.filter(status=TimeEntry.Status.SUBMITTED, project__number="PRJ-1001").first()
    TimeEntry.objects.filter(pk=entry.pk).update(hours=hours)
    return entries.approve_time_entries(entry_ids=[entry.pk], by=world["pm"])


def test_it_splits_unbilled_sales_by_customer_with_the_rounding_to_one(shared_contract, world):
    approve_one(world)  # 1 h: 200 or 300 by role, which does not split evenly in three
    unbilled = Actual.objects.filter(contract=shared_contract, transaction_type=TransactionType.UNBILLED_SALES)
    by_customer = {a.customer.number: a for a in unbilled.select_related("customer")}
    total = sum(a.amount for a in unbilled)
    price = unbilled.first().price
    assert total == price and sum(a.quantity for a in unbilled) == 1
    assert by_customer["C-1001"].amount == by_customer["C-1002"].amount == (price * Decimal("0.3333")).quantize(
        Decimal("0.01"))
    assert by_customer["C-1003"].amount == price - 2 * by_customer["C-1001"].amount  # the rounding customer
    assert Actual.objects.filter(transaction_type=TransactionType.COST, contract=shared_contract).count() == 1


def test_it_creates_one_invoice_per_contract_customer(shared_contract, world):
    approve_one(world)
    ids = Actual.objects.filter(contract=shared_contract, transaction_type=TransactionType.UNBILLED_SALES)
    backlog.mark_ready_to_invoice(actual_ids=list(ids.values_list("pk", flat=True)), ready=True, by=world["pm"])
    invoices = invoicing.create_proforma_invoices(contract_id=shared_contract.pk, by=world["pm"])
    assert sorted(i.customer.number for i in invoices) == ["C-1001", "C-1002", "C-1003"]
    assert sum(i.total for i in invoices) == sum(ids.values_list("amount", flat=True))
    for invoice in invoices:
        invoicing.confirm_proforma(invoice_id=invoice.pk, by=world["pm"])
    sync()
    from finance.services import importing

    importing.import_from_staging(triggered_by="test")
    from finance.models import InvoiceProposal

    for proposal in InvoiceProposal.objects.all():
        post(proposal)
    sync()
    assert set(Invoice.objects.filter(pk__in=[i.pk for i in invoices]).values_list("status", flat=True)) == {"posted"}
    assert_invariants_hold_once_settled()


@pytest.mark.parametrize("splits,message", [
    ([("C-1001", "60", True), ("C-1002", "30", False)], "total 90"),
    ([("C-1001", "50", True), ("C-1002", "50", True)], "Exactly one customer"),
    ([("C-1001", "50", False), ("C-1002", "50", False)], "Exactly one customer"),
    ([("C-1001", "0", True), ("C-1002", "100", False)], "more than 0"),
    ([("C-1001", "50", True), ("C-1001", "50", False)], "only once"),
])
def test_it_refuses_splits_that_do_not_add_up_and_changes_nothing(world, splits, message):
    contract = ProjectContract.objects.get(number="PC-1002")
    Actual.objects.filter(contract=contract).update(contract=None)
    ids = {c.number: c.pk for c in Customer.objects.all()}
    with pytest.raises(DomainError, match=message):
        contracts.set_contract_customers(contract_id=contract.pk, by=world["pm"],
                                         splits=[(ids[n], Decimal(p), r) for n, p, r in splits])
    assert not ContractCustomer.objects.filter(contract=contract).exists()


def test_it_keeps_the_customers_of_a_contract_with_actuals(world):
    contract = ProjectContract.objects.get(number="PC-1001")
    customer = Customer.objects.get(number="C-1001")
    with pytest.raises(DomainError, match="already has actuals"):
        contracts.set_contract_customers(contract_id=contract.pk, by=world["pm"],
                                         splits=[(customer.pk, Decimal(100), True)])


def test_it_sets_the_split_on_the_contract_page_and_says_what_is_wrong(world, as_user):
    from django.urls import reverse

    contract = ProjectContract.objects.get(number="PC-1002")
    Actual.objects.filter(contract=contract).update(contract=None)
    c1, c2 = Customer.objects.get(number="C-1001"), Customer.objects.get(number="C-1002")
    url = reverse("dataverse:contract_detail", args=[contract.pk])
    form = {"form-TOTAL_FORMS": "3", "form-INITIAL_FORMS": "0", "form-0-customer": c1.pk,
            "form-0-split_percent": "70", "form-1-customer": c2.pk, "form-1-split_percent": "20",
            "form-1-is_rounding": "on"}
    client = as_user(world["pm"])
    assert "total 90" in client.post(url, form, follow=True).content.decode()
    assert not ContractCustomer.objects.filter(contract=contract).exists()
    client.post(url, form | {"form-1-split_percent": "30"})
    assert sorted(ContractCustomer.objects.filter(contract=contract).values_list("split_percent", flat=True)) == [
        Decimal(30), Decimal(70)]
