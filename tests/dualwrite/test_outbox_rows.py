"""The relay streams a batch of claimed changes from the outbox into the receiver with COPY (D82)."""

import uuid
from decimal import Decimal

import psycopg
import pytest
from django.db import DataError, connections

from projinv import batches
from projinv.dualwrite.models import DataverseChange
from projinv.dualwrite.relay import OutboxRows

BOTH = ["default", "finance"]
KEYS = {"actual_id": "msdyn_actualid", "amount": "msdyn_amount", "description": "msdyn_description",
        "billable": "billable"}
COLUMNS = {"actual_id": "uuid", "amount": "numeric", "description": "text", "billable": "boolean",
           "invoice_number": "text"}


def change(rows: list[dict]) -> int:
    return DataverseChange.objects.create(map_code="msdyn_actuals", key="k", payload=rows, row_count=len(rows)).pk


@pytest.mark.django_db(databases=BOTH)
def test_the_rows_arrive_in_the_changes_order_exact_and_renamed():
    first, second, third = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    earlier = change([{"msdyn_actualid": str(first), "msdyn_amount": Decimal("12345678901234.5678"),
                       "msdyn_description": "Tab\there, new\nline, back\\slash, «ünïcode»", "billable": True,
                       "unmapped": {"nested": 1}}])
    later = change([{"msdyn_actualid": str(second), "msdyn_amount": Decimal("-0.01"), "msdyn_description": None,
                     "billable": False},
                    {"msdyn_actualid": str(third), "msdyn_amount": 7}])  # no description, no flag

    rows = batches.read(connections["finance"], OutboxRows(DataverseChange, (later, earlier), KEYS), COLUMNS)

    assert rows == [
        {"actual_id": second, "amount": Decimal("-0.01"), "description": None, "billable": False,
         "invoice_number": None},
        {"actual_id": third, "amount": Decimal("7"), "description": None, "billable": None, "invoice_number": None},
        {"actual_id": first, "amount": Decimal("12345678901234.5678"),
         "description": "Tab\there, new\nline, back\\slash, «ünïcode»", "billable": True, "invoice_number": None},
    ]


def temporary_tables(connection) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_class WHERE relpersistence = 't' AND relname LIKE 'batch_%%'")
        return cursor.fetchone()[0]


@pytest.mark.django_db(databases=BOTH)
def test_a_value_the_receiver_cannot_read_fails_its_statement_and_leaves_nothing_behind():
    bad = change([{"msdyn_actualid": "not a uuid", "msdyn_amount": 1}])
    finance = connections["finance"]
    with pytest.raises(DataError, match="uuid"):
        batches.read(finance, OutboxRows(DataverseChange, (bad,), KEYS), COLUMNS)
    assert temporary_tables(finance) == 0  # it went with the failed savepoint


@pytest.mark.django_db(databases=BOTH)
def test_a_failure_in_the_middle_of_the_stream_ends_both_copies_and_both_connections_go_on(monkeypatch):
    many = change([{"msdyn_actualid": str(uuid.uuid4()), "msdyn_amount": n} for n in range(5000)])
    written = []

    def write_one_then_fail(self, buffer):  # the receiving side goes away after the first row
        if written:
            raise ConnectionError("finance went away")
        written.append(buffer)

    monkeypatch.setattr(psycopg.Copy, "write", write_one_then_fail)
    with pytest.raises(ConnectionError):
        batches.read(connections["finance"], OutboxRows(DataverseChange, (many,), KEYS), COLUMNS)
    monkeypatch.undo()

    # The outbox's COPY was cut after a row of 5,000: its connection is ready for the relay's next query.
    assert DataverseChange.objects.filter(pk=many).exists()
    assert temporary_tables(connections["finance"]) == 0


@pytest.mark.django_db(databases=BOTH)
def test_a_statement_s_table_is_dropped_once_it_has_run_even_inside_a_longer_transaction():
    rows = change([{"msdyn_actualid": str(uuid.uuid4()), "msdyn_amount": 1}])
    finance = connections["finance"]
    for _ in range(3):  # the test's transaction wraps all three, as a caller's may
        assert len(batches.read(finance, OutboxRows(DataverseChange, (rows,), KEYS), COLUMNS)) == 1
    assert temporary_tables(finance) == 0


@pytest.mark.django_db(databases=BOTH)
def test_a_batch_goes_to_the_other_system_s_database_only():
    rows = change([{"msdyn_actualid": str(uuid.uuid4()), "msdyn_amount": 1}])
    with pytest.raises(ValueError, match="other system"):
        batches.read(connections["default"], OutboxRows(DataverseChange, (rows,), KEYS), COLUMNS)
