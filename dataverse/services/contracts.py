"""Contract customers and their billing splits (domain.md §2.1.2, BR-14)."""

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from projinv.domain import DomainError
from projinv.money import round_money

from ..models import Actual, ContractCustomer, ProjectContract, TransactionType

HUNDRED = Decimal(100)


@transaction.atomic
def set_contract_customers(*, contract_id: int, splits: list[tuple[int, Decimal, bool]], by) -> None:
    """Replace a contract's customers with (customer id, split %, takes rounding) triples.

    The splits must total 100 % with exactly one rounding customer. A contract whose actuals exist
    keeps its customers: they can no longer be changed (the split of past actuals would not match).
    """
    contract = ProjectContract.objects.select_for_update().get(pk=contract_id)
    if not splits:
        raise DomainError(_("A contract needs at least one customer."))
    if any(split <= 0 or split > HUNDRED for _c, split, _r in splits):
        raise DomainError(_("Each billing split must be more than 0 % and at most 100 %."))
    if sum(split for _c, split, _r in splits) != HUNDRED:
        raise DomainError(_("The billing splits total %(total)s %%, not 100 %%.")
                          % {"total": sum(split for _c, split, _r in splits)})
    if sum(1 for *_rest, rounding in splits if rounding) != 1:
        raise DomainError(_("Exactly one customer must take the rounding difference."))
    if len({customer for customer, *_rest in splits}) != len(splits):
        raise DomainError(_("A customer can appear only once on a contract."))
    if Actual.objects.filter(contract=contract, transaction_type=TransactionType.UNBILLED_SALES).exists():
        raise DomainError(_("Contract %(number)s already has actuals: its customers can no longer change.")
                          % {"number": contract.number})
    ContractCustomer.objects.filter(contract=contract).delete()
    ContractCustomer.objects.bulk_create(
        ContractCustomer(contract=contract, customer_id=customer, split_percent=split, is_rounding=rounding)
        for customer, split, rounding in splits
    )


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
