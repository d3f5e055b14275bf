"""Sales tax is finance's (domain.md §10 Q3): computed from groups, editable per line, posted, and
written back to Dataverse."""

from decimal import Decimal

import pytest

from dataverse.models import Actual, Invoice
from finance.models import LedgerEntry
from finance.services import proposals
from projinv.domain import DomainError
from projinv.dualwrite import reconciliation

from ..helpers import assert_invariants_hold_once_settled, post, run_pipeline_to_proposal, sync

pytestmark = pytest.mark.django_db(databases=["default", "finance"])


def test_it_taxes_each_chargeable_line_by_the_customers_group(world):
    invoice, proposal = run_pipeline_to_proposal("PC-1002")  # Contoso: US-WA, 8.25 % on services
    lines = list(proposal.lines.all())
    assert {(line.sales_tax_group, line.item_tax_group) for line in lines} == {("US-WA", "SERV")}
    for line in lines:
        assert line.tax == (line.amount * Decimal("0.0825")).quantize(Decimal("0.01"))
    assert proposal.tax == sum(line.tax for line in lines) > 0

    posted = post(proposal)
    ledger = {e.posting_type: e.accounting_amount for e in LedgerEntry.objects.filter(voucher=posted.voucher)}
    assert ledger["sales_tax"] == -proposal.tax
    assert ledger["customer_balance"] == proposal.amount + proposal.tax == posted.total
    sync()
    invoice.refresh_from_db()
    assert invoice.posted_tax_amount == proposal.tax  # the enhanced summary carries finance's tax
    billed = Actual.objects.filter(invoice=invoice, transaction_type="billed_sales")
    assert sum(a.sales_tax_amount for a in billed) == proposal.tax
    [row] = reconciliation.compare_invoices([invoice.number])
    assert row["differences"] == []  # compared before tax: Dataverse's tax is only indicative
    assert_invariants_hold_once_settled()


def test_it_recalculates_the_tax_when_an_accountant_changes_the_groups(world):
    _invoice, proposal = run_pipeline_to_proposal("PC-1002")
    line = proposal.lines.first()
    assert proposals.set_tax_groups(proposal_id=proposal.pk, line_ids=[line.pk], sales_tax_group="EXEMPT",
                                    item_tax_group="SERV", by="accountant") == 1
    line.refresh_from_db()
    proposal.refresh_from_db()
    assert (line.sales_tax_group, line.tax) == ("EXEMPT", 0)
    assert proposal.tax == sum(line.tax for line in proposal.lines.all())
    with pytest.raises(DomainError, match="no sales tax group NOPE"):
        proposals.set_tax_groups(proposal_id=proposal.pk, line_ids=[line.pk], sales_tax_group="NOPE",
                                 item_tax_group="SERV", by="accountant")
    line.refresh_from_db()
    assert line.sales_tax_group == "EXEMPT"


def test_it_charges_no_tax_to_an_exempt_customer(world):
    invoice, proposal = run_pipeline_to_proposal("PC-1001")
    assert proposal.tax == 0 and set(proposal.lines.values_list("sales_tax_group", flat=True)) == {"EXEMPT"}
    assert Invoice.objects.get(pk=invoice.pk).tax == 0


def test_it_says_plainly_that_an_invoice_without_billed_sales_has_nothing_to_import(world):
    from finance.models import InvoiceProposal
    from finance.services import importing, inbound

    inbound.receive_invoice_proposal(header=dict(
        invoice_number="INV-999999", name="Empty", legal_entity="USPM", customer_number="C-1001",
        contract_number="PC-1001", currency="USD", invoice_date="2026-11-01", accounting_date="2026-11-01",
        billed_sales_count=0, amount=Decimal(0), tax=Decimal(0)))
    importing.import_from_staging(triggered_by="test")
    proposal = InvoiceProposal.objects.get(number="INV-999999")
    assert proposal.status == "header_only" and "declares no billed sales" in proposal.import_message
