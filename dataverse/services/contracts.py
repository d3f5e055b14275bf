"""Project contracts: header, status and customers with their billing splits (domain.md §2.1, §3.1,
BR-14). Every change is announced to the bridge (`master_data_changed`)."""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from projinv.domain import DomainError
from projinv.money import round_money

from .. import selectors
from ..models import (
    Actual,
    ContractCustomer,
    ContractLineCustomer,
    Invoice,
    PriceList,
    ProjectContract,
    TransactionType,
)
from .masterdata import announce

HUNDRED = Decimal(100)
Status = ProjectContract.Status


def locked_contract(contract_id: int, *, for_change=True) -> ProjectContract:
    """The contract, row-locked; a closed one is read-only (domain.md §3.1)."""
    contract = ProjectContract.objects.select_for_update().get(pk=contract_id)
    if for_change and contract.is_closed:
        raise DomainError(_("Contract %(number)s is closed: it can no longer change.") % {"number": contract.number})
    return contract


def _check_price_list(price_list_id, currency):
    price_list = PriceList.objects.get(pk=price_list_id)
    if price_list.currency != currency:
        raise DomainError(_("Price list %(list)s is in %(its)s; the contract sells in %(currency)s.")
                          % {"list": price_list, "its": price_list.currency, "currency": currency})


@transaction.atomic
def create_contract(*, number: str, name: str, customer_id: int, legal_entity: str, currency: str,
                    sales_price_list_id: int, by) -> ProjectContract:
    """A new contract, in Draft. Its sales currency is fixed from now on."""
    if ProjectContract.objects.filter(number=number).exists():
        raise DomainError(_("There is already a contract %(number)s.") % {"number": number})
    _check_price_list(sales_price_list_id, currency)
    contract = ProjectContract.objects.create(number=number, name=name, customer_id=customer_id,
                                              legal_entity=legal_entity, currency=currency,
                                              sales_price_list_id=sales_price_list_id, status=Status.DRAFT)
    announce(selectors.CONTRACTS, selectors.contract_rows([contract.pk]))
    announce(selectors.CONTRACT_CUSTOMERS, selectors.contract_customer_rows([contract.pk]))
    return contract


@transaction.atomic
def update_contract(*, contract_id: int, by, name: str, sales_price_list_id: int, currency: str | None = None,
                    customer_id: int | None = None) -> ProjectContract:
    """Change the name or price list; the customer only while Draft. The currency is locked after save."""
    contract = locked_contract(contract_id)
    if currency is not None and currency != contract.currency:
        raise DomainError(_("The sales currency of contract %(number)s is locked after save: it stays %(currency)s.")
                          % {"number": contract.number, "currency": contract.currency})
    before = selectors.contract_customer_rows([contract.pk])
    if customer_id is not None and customer_id != contract.customer_id:
        if contract.status != Status.DRAFT:
            raise DomainError(_("The customer of contract %(number)s can change only while it is a draft.")
                              % {"number": contract.number})
        if contract.contract_customers.exists() or ContractLineCustomer.objects.filter(
                contract_line__contract=contract).exists():
            raise DomainError(_("Contract %(number)s has customers with splits: change them there.")
                              % {"number": contract.number})
        contract.customer_id = customer_id
    _check_price_list(sales_price_list_id, contract.currency)
    contract.name, contract.sales_price_list_id = name, sales_price_list_id
    contract.save(update_fields=["name", "sales_price_list", "customer", "modified_on"])
    announce(selectors.CONTRACTS, selectors.contract_rows([contract.pk]))
    _announce_customers(contract, before)
    return contract


@transaction.atomic
def change_contract_status(*, contract_id: int, status: str, by) -> ProjectContract:
    """Draft → Active, Draft or Active → Closed. A contract with drafts stays open: a closed contract
    takes no new invoices, so its drafts could never be confirmed."""
    contract = locked_contract(contract_id, for_change=False)
    contract.move_to(status)  # raises InvalidTransition for any other move
    if status == Status.CLOSED:
        drafts = list(Invoice.objects.filter(contract=contract, status__in=Invoice.EDITABLE)
                      .order_by("pk").values_list("number", flat=True))
        if drafts:
            raise DomainError(_("Contract %(number)s has draft invoices (%(drafts)s): confirm or empty them before "
                                "closing it.") % {"number": contract.number, "drafts": ", ".join(drafts)})
    contract.save(update_fields=["status", "modified_on"])
    announce(selectors.CONTRACTS, selectors.contract_rows([contract.pk]))
    return contract


def _announce_customers(contract, before: list[dict]) -> None:
    """The contract's customers now, and a delete for each one that is no longer among them."""
    after = selectors.contract_customer_rows([contract.pk])
    kept = {row["msdyn_customer"] for row in after}
    gone = [row for row in before if row["msdyn_customer"] not in kept]
    announce(selectors.CONTRACT_CUSTOMERS, after + selectors.as_deleted(gone, at=timezone.now()))


@transaction.atomic
def set_contract_customers(*, contract_id: int, splits: list[tuple[int, Decimal, bool]], by) -> None:
    """Replace a contract's customers with (customer id, split %, takes rounding) triples.

    The splits must total 100 % with exactly one rounding customer. A contract whose actuals exist
    keeps its customers: they can no longer be changed (the split of past actuals would not match).
    """
    contract = locked_contract(contract_id)
    if not splits:
        raise DomainError(_("A contract needs at least one customer."))
    check_splits(splits)
    if used := ContractLineCustomer.objects.filter(contract_line__contract=contract).exclude(
            customer_id__in=[customer for customer, *_rest in splits]).select_related("customer", "contract_line") \
            .order_by("pk").first():
        # A line's customers are contract customers (D71): the line would bill someone without an invoice.
        raise DomainError(_("%(customer)s bills part of line %(line)s: take it off the line first.")
                          % {"customer": used.customer, "line": used.contract_line.name})
    if contract.customer_id not in {customer for customer, *_rest in splits}:
        # The primary contract customer cannot be deleted (domain.md §3.1).
        raise DomainError(_("%(customer)s is the contract's customer: it must stay among its customers.")
                          % {"customer": contract.customer})
    if Actual.objects.filter(contract=contract, transaction_type=TransactionType.UNBILLED_SALES).exists():
        raise DomainError(_("Contract %(number)s already has actuals: its customers can no longer change.")
                          % {"number": contract.number})
    before = selectors.contract_customer_rows([contract.pk])
    ContractCustomer.objects.filter(contract=contract).delete()
    ContractCustomer.objects.bulk_create(
        ContractCustomer(contract=contract, customer_id=customer, split_percent=split, is_rounding=rounding)
        for customer, split, rounding in splits
    )
    _announce_customers(contract, before)


def check_splits(splits) -> None:
    """(customer id, split %, takes rounding) triples: each share in (0, 100], totalling 100 %, one
    customer taking the rounding, no customer twice (BR-14). Contract and line customers alike."""
    if any(split is None or split <= 0 or split > HUNDRED for _c, split, _r in splits):
        raise DomainError(_("Each billing split must be more than 0 % and at most 100 %."))
    if sum(split for _c, split, _r in splits) != HUNDRED:
        raise DomainError(_("The billing splits total %(total)s %%, not 100 %%.")
                          % {"total": sum(split for _c, split, _r in splits)})
    if sum(1 for *_rest, rounding in splits if rounding) != 1:
        raise DomainError(_("Exactly one customer must take the rounding difference."))
    if len({customer for customer, *_rest in splits}) != len(splits):
        raise DomainError(_("A customer can appear only once in a billing split."))


def contract_customer_ids(contract: ProjectContract) -> set[int]:
    """Who the contract bills: its split's customers, or its own customer when it has no split."""
    return set(contract.contract_customers.values_list("customer_id", flat=True)) or {contract.customer_id}


def split_amounts(contract: ProjectContract, quantity: Decimal, amount: Decimal, splits) -> list[tuple]:
    """(customer id, quantity, amount) per contract customer; the rounding customer takes the rest."""
    if not splits:
        return [(contract.customer_id, quantity, amount)]
    shares = []
    for split in splits:
        if not split.is_rounding:
            shares.append((split.customer_id, (quantity * split.split_percent / HUNDRED).quantize(Decimal("0.0001")),
                           round_money(amount * split.split_percent / HUNDRED, contract.currency)))
    rounding = next(s for s in splits if s.is_rounding)
    shares.append((rounding.customer_id, quantity - sum(q for _c, q, _a in shares),
                   amount - sum(a for _c, _q, a in shares)))
    return shares
