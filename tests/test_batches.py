"""projinv.batches: a batch in the source's words, read by one statement in the receiver's."""

import uuid
from datetime import date
from decimal import Decimal

import pytest
from django.db import DataError, connection

from projinv import batches
from projinv.batches import JsonRows

COLUMNS = {"actual_id": "uuid", "amount": "numeric", "transaction_date": "date", "invoice_number": "text"}
READ = "SELECT r.actual_id, r.amount, r.transaction_date, r.invoice_number FROM {rows} ORDER BY r.amount"


def read(rows) -> list[tuple]:
    with batches.execute(connection, READ, rows, COLUMNS) as cursor:
        return cursor.fetchall()


@pytest.mark.django_db
def test_the_statement_renames_the_source_s_keys_and_reads_a_column_the_map_lacks_as_null():
    key = uuid.uuid4()
    # As a source system words it: Dataverse's names, an amount with more digits than a float holds.
    document = (f'[{{"msdyn_actualid": "{key}", "msdyn_amount": 12345678901234.5678, '
                f'"msdyn_documentdate": "2026-11-30", "msdyn_invoice": "PI-1", "unmapped": 1}}]')
    rows = JsonRows(document, keys={"actual_id": "msdyn_actualid", "amount": "msdyn_amount",
                                    "transaction_date": "msdyn_documentdate"})

    assert read(rows) == [(key, Decimal("12345678901234.5678"), date(2026, 11, 30), None)]
    assert batches.read(connection, rows, COLUMNS) == [{
        "actual_id": key, "amount": Decimal("12345678901234.5678"), "transaction_date": date(2026, 11, 30),
        "invoice_number": None}]


@pytest.mark.django_db
def test_plain_rows_are_encoded_once_and_read_under_their_own_names():
    key = uuid.uuid4()
    rows = batches.of([{"actual_id": key, "amount": Decimal("10.10"), "transaction_date": date(2026, 1, 2),
                        "invoice_number": "PI-2"}])

    assert batches.of(rows) is rows
    assert read(rows) == [(key, Decimal("10.10"), date(2026, 1, 2), "PI-2")]


@pytest.mark.django_db
def test_other_parameters_are_named_and_bound_with_the_rows():
    rows = [{"actual_id": uuid.uuid4(), "amount": Decimal("5"), "transaction_date": date(2026, 1, 2),
             "invoice_number": "PI-3"}]
    statement = "SELECT r.amount * %(factor)s FROM {rows}"
    with batches.execute(connection, statement, rows, COLUMNS, {"factor": Decimal("1.5")}) as cursor:
        assert cursor.fetchall() == [(Decimal("7.5"),)]


@pytest.mark.django_db
def test_a_bad_batch_fails_with_django_s_errors():
    with pytest.raises(DataError):
        read(JsonRows("[{not json"))
