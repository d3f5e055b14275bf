"""Import from staging reads each proposal's billed sales by its invoice number, whatever the planner's
statistics say of a batch that has just arrived (D80, D85).

A plan is behaviour here: with the other plan, 2,000 proposals of 100 billed sales took 85 s to check
instead of a second, each proposal reading every pending billed sale.
"""

import pytest
from django.db import connections

from finance import models as fin
from finance.services import importing
from projinv import sqlgen

pytestmark = pytest.mark.django_db(databases=["default", "finance"])

PROPOSALS, PER_PROPOSAL = 50, 100


def execute(statement: str, params=None) -> list[tuple]:
    with connections["finance"].cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def staging_rows(count: int, **values: str) -> None:
    execute(sqlgen.insert_select(fin.ActualStaging, {
        "dataverse_actual_id": "gen_random_uuid()", "legal_entity": "'USPM'", "transaction_class": "'time'",
        "billing_type": "'chargeable'", "project_number": "'PRJ-1001'", "transaction_date": "'2026-11-02'",
        "accounting_date": "'2026-11-02'", "quantity": "8", "price": "200", "amount": "1600", "currency": "'USD'",
        **values}, f"FROM generate_series(0, {count} - 1) AS g(i)"))


@pytest.fixture
def fresh_batch():
    """Last month's work, posted and in the statistics; then proposals and their billed sales arrive."""
    staging_rows(20_000, transaction_type="'cost'", status="'posted'")
    execute("ANALYZE finance_actualstaging")
    execute("ANALYZE finance_invoiceproposal")
    execute(sqlgen.insert_select(fin.InvoiceProposal, {
        "number": "'PI-' || g.i", "legal_entity": "'USPM'", "customer_number": "'C-1001'",
        "contract_number": "'PC-1001'", "currency": "'USD'", "invoice_date": "'2026-11-30'",
        "accounting_date": "'2026-11-30'", "expected_line_count": str(PER_PROPOSAL), "dataverse_amount": "160000",
        "amount": "0", "tax": "0"}, f"FROM generate_series(0, {PROPOSALS} - 1) AS g(i)"))
    staging_rows(PROPOSALS * PER_PROPOSAL, transaction_type="'billed_sales'", status="'received'",
                 invoice_number=f"'PI-' || (g.i % {PROPOSALS})")


def plan(statement: str, params: dict) -> str:
    return "\n".join(line for (line,) in execute("EXPLAIN " + statement, params))


def test_readiness_reads_a_just_arrived_batch_by_invoice_number(fresh_batch):
    readiness = plan(importing.PROPOSAL_READINESS_SQL, {"only": ""})

    assert "staging_billed_by_invoice" in readiness
    assert "staging_pending" not in readiness  # every pending billed sale, once per proposal


def test_readiness_counts_each_proposal_s_pending_billed_sales(fresh_batch):
    rows = execute(importing.PROPOSAL_READINESS_SQL, {"only": ""})

    assert len(rows) == PROPOSALS
    assert {(expected, staged) for _pk, _number, expected, staged, *_rest in rows} == {(PER_PROPOSAL, PER_PROPOSAL)}
