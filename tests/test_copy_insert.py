"""projinv.bulk.copy_insert and copy_rows: what the hot paths rely on when they write with COPY."""

from decimal import Decimal

import pytest

from dataverse.models import Actual, TransactionConnection
from projinv.bulk import copy_insert, copy_rows
from projinv.dualwrite.models import Change, DataverseChange, FinanceChange

pytestmark = pytest.mark.django_db(databases=["default", "finance"])


def test_it_gives_keys_in_list_order_and_stores_what_bulk_create_would():
    changes = copy_insert(DataverseChange, [
        DataverseChange(map_code="msdyn_actuals", key=f"k{n}", payload=[{"amount": Decimal("10.10"), "n": n}])
        for n in range(3)])
    keys = [c.pk for c in changes]
    assert keys == sorted(keys) and len(set(keys)) == 3
    stored = DataverseChange.objects.get(pk=keys[1])
    # Choices are written as their values, JSON by the field's encoder (Decimal as text), defaults kept.
    assert (stored.status, stored.payload, stored.attempts) == (Change.Status.PENDING, [{"amount": "10.10", "n": 1}], 0)
    assert stored.created_at is not None and not changes[0]._state.adding


def test_it_writes_to_the_model_s_database():
    [change] = copy_insert(FinanceChange, [FinanceChange(map_code="msdyn_actuals_writeback", key="x", payload=[])])
    assert FinanceChange.objects.using("finance").filter(pk=change.pk).exists()
    assert not DataverseChange.objects.filter(key="x").exists()


def test_it_links_rows_to_rows_saved_just_before(world):
    cost, sale = Actual.objects.filter(transaction_type__in=["cost", "unbilled_sales"]).order_by("pk")[:2]
    copies = copy_insert(Actual, [Actual(**{f.attname: getattr(a, f.attname) for f in Actual._meta.concrete_fields
                                            if f.attname not in ("id", "uuid")}) for a in (cost, sale)])
    [link] = copy_insert(TransactionConnection, [TransactionConnection(
        transaction1=copies[1], transaction1_role="unbilled_sales", transaction2=copies[0], transaction2_role="cost")])
    assert (link.transaction1_id, link.transaction2_id) == (copies[1].pk, copies[0].pk)
    assert TransactionConnection.objects.filter(pk=link.pk, transaction2__amount=cost.amount).exists()


def test_it_refuses_a_row_pointing_at_an_unsaved_one_and_writes_nothing(world):
    before = TransactionConnection.objects.count()
    unsaved = Actual()
    with pytest.raises(ValueError, match="unsaved related object"):
        copy_insert(TransactionConnection, [TransactionConnection(
            transaction1=unsaved, transaction1_role="unbilled_sales", transaction2=unsaved, transaction2_role="cost")])
    assert TransactionConnection.objects.count() == before  # and the transaction is still usable


def test_plain_rows_get_keys_and_the_defaults_a_new_instance_would_have(world):
    cost = Actual.objects.filter(transaction_type="cost").order_by("pk").first()
    row = {f.attname: getattr(cost, f.attname) for f in Actual._meta.concrete_fields
           if f.attname not in ("id", "uuid", "created_at", "adjustment_status", "skip_sync", "voucher")}
    rows = [dict(row), dict(row)]

    keys = copy_rows(Actual, rows)

    assert keys == sorted(keys) and [r["id"] for r in rows] == keys
    first, second = Actual.objects.filter(pk__in=keys).order_by("pk")
    assert first.uuid != second.uuid  # a callable default is called per row
    assert (first.adjustment_status, first.skip_sync, first.voucher, first.amount) == ("", False, "", cost.amount)
    assert first.created_at is not None  # auto_now_add, as save() would set it


def test_plain_rows_with_an_unknown_field_are_refused_and_nothing_is_written():
    before = DataverseChange.objects.count()
    with pytest.raises(ValueError, match="DataverseChange has no field project"):
        copy_rows(DataverseChange, [{"map_code": "msdyn_actuals", "key": "k", "payload": [], "project": 1}])
    assert DataverseChange.objects.count() == before
