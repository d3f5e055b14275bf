"""projinv.jsonrows: a batch in the source's words, read by one statement in the receiver's."""

import uuid
from datetime import date
from decimal import Decimal

import pytest
from django.db import DataError, connection

from projinv import jsonrows
from projinv.jsonrows import JsonRows

COLUMNS = {"actual_id": "uuid", "amount": "numeric", "transaction_date": "date", "invoice_number": "text"}


def read(rows: JsonRows) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT r.actual_id, r.amount, r.transaction_date, r.invoice_number "
                       f"FROM {rows.source(COLUMNS)} ORDER BY r.amount", [rows.document])
        return cursor.fetchall()


@pytest.mark.django_db
def test_the_statement_renames_the_source_s_keys_and_reads_a_column_the_map_lacks_as_null():
    key = uuid.uuid4()
    # As the outbox stores it: Dataverse's words, an amount with more digits than a float holds.
    document = (f'[{{"msdyn_actualid": "{key}", "msdyn_amount": 12345678901234.5678, '
                f'"msdyn_documentdate": "2026-11-30", "msdyn_invoice": "PI-1", "unmapped": 1}}]')
    rows = JsonRows(document, keys={"actual_id": "msdyn_actualid", "amount": "msdyn_amount",
                                    "transaction_date": "msdyn_documentdate"})

    assert read(rows) == [(key, Decimal("12345678901234.5678"), date(2026, 11, 30), None)]
    assert rows.as_list() == [{"actual_id": str(key), "amount": Decimal("12345678901234.5678"),
                               "transaction_date": "2026-11-30"}]


@pytest.mark.django_db
def test_plain_rows_are_encoded_once_and_read_under_their_own_names():
    key = uuid.uuid4()
    rows = JsonRows.of([{"actual_id": key, "amount": Decimal("10.10"), "transaction_date": date(2026, 1, 2),
                         "invoice_number": "PI-2"}])

    assert JsonRows.of(rows) is rows
    assert read(rows) == [(key, Decimal("10.10"), date(2026, 1, 2), "PI-2")]


@pytest.mark.django_db
def test_a_statement_run_with_server_bound_parameters_fails_with_django_s_errors():
    rows = JsonRows("[{not json")
    with pytest.raises(DataError):
        jsonrows.execute(connection, f"SELECT count(*) FROM {rows.source(COLUMNS)}", [rows.document])
