"""check_invariants compares the two databases by aggregates and names the invoices that differ."""

import pytest
from django.db import connections, transaction

from dataverse.models import Actual, TransactionType
from finance.models import InvoiceProposalLine
from projinv.dualwrite.invariants import check_invariants

from ..helpers import post, run_pipeline_to_proposal, sync

pytestmark = pytest.mark.django_db(databases=["default", "finance"])


def forced(using, sql, params):
    """Change a row past the immutability triggers, as only a database superuser could."""
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)


DIFFER = "billed sales differ from the proposal lines"


def rules(result):
    return {v["rule"]: v for v in result.violations}


def test_it_names_the_invoice_whose_billed_sales_lack_a_proposal_line(world):
    invoice, proposal = run_pipeline_to_proposal()
    assert check_invariants(grace_minutes=0, triggered_by="test").ok
    line = InvoiceProposalLine.objects.filter(proposal=proposal).order_by("pk").first()
    forced("finance", "DELETE FROM finance_invoiceproposalline WHERE id = %s", [line.pk])

    violation = rules(check_invariants(grace_minutes=0, triggered_by="test"))[DIFFER]
    billed = Actual.objects.filter(invoice=invoice, transaction_type=TransactionType.BILLED_SALES).count()
    assert violation["count"] == 1
    assert violation["examples"] == [f"{invoice.number}: {billed} billed, {billed - 1} on proposal lines"]


def test_it_notices_a_line_that_points_at_another_actual_although_the_counts_match(world):
    invoice, proposal = run_pipeline_to_proposal()
    first, second = InvoiceProposalLine.objects.filter(proposal=proposal).order_by("pk")[:2]
    # Both lines on one staging row would break the one-to-one; point one line at an unbilled row instead.
    forced("finance", """UPDATE finance_invoiceproposalline SET staging_id = (
                           SELECT id FROM finance_actualstaging WHERE transaction_type = 'unbilled_sales'
                            ORDER BY id LIMIT 1) WHERE id = %s""", [second.pk])

    violation = rules(check_invariants(grace_minutes=0, triggered_by="test"))[DIFFER]
    assert violation["examples"][0].startswith(f"{invoice.number}: ")


def test_it_counts_invoiced_actuals_whose_voucher_never_came_back(world):
    invoice, proposal = run_pipeline_to_proposal()
    post(proposal)
    sync()
    assert check_invariants(grace_minutes=0, triggered_by="test").ok
    billed = list(Actual.objects.filter(invoice=invoice, transaction_type=TransactionType.BILLED_SALES)
                  .values_list("pk", flat=True))
    forced("default", "UPDATE dataverse_actual SET voucher = '' WHERE id = ANY(%s)", [billed])

    violation = rules(check_invariants(grace_minutes=0, triggered_by="test"))[
        "invoiced actuals without their voucher in Dataverse"]
    assert violation["count"] == len(billed)
    assert violation["examples"] == [f"{invoice.number}: {len(billed)}"]
