"""A contract in GBP in a USD legal entity, through to the ledger (BR-22's worked example)."""

from datetime import date
from decimal import Decimal

import pytest

from dataverse import models as dv
from dataverse.services import backlog, entries, invoicing
from finance.models import ExchangeRate, LedgerEntry, ProjectTransaction
from finance.services import importing, inbound, proposals

from ..helpers import assert_invariants_hold_once_settled, post, sync

pytestmark = pytest.mark.django_db(databases=["default", "finance"])


def test_it_books_4_hours_at_250_gbp_as_1250_usd_everywhere(world):
    """4 h × 250 GBP = 1,000 GBP; at 1.25 the accounting amount is 1,250 USD for WIP, the reversal,
    revenue and AR (domain.md BR-22)."""
    ExchangeRate.objects.create(from_currency="GBP", to_currency="USD", valid_from=date(2000, 1, 1),
                                rate=Decimal("1.25"))
    role = dv.ResourceRole.objects.get(name="Architect")
    gbp = dv.PriceList.objects.create(name="UK sales", currency="GBP")
    dv.RolePrice.objects.create(price_list=gbp, role=role, price=Decimal(250))
    project = dv.Project.objects.get(number="PRJ-1002")
    contract = dv.ProjectContract.objects.create(number="PC-UK1", name="UK rollout", legal_entity="USPM",
                                                 customer=dv.Customer.objects.get(number="C-1002"), currency="GBP",
                                                 sales_price_list=gbp)
    dv.ContractLine.objects.filter(project=project).update(contract=contract)  # the project now bills in GBP
    # Moved behind the services' back: tell finance of the line's new contract, as the map would (D50).
    line = dv.ContractLine.objects.get(project=project)
    inbound.receive_contract_billing_rules(rows=[{
        "contract_number": contract.number, "line_name": line.name, "project_number": project.number,
        "billing_method": line.billing_method, "deleted": False, "modified_on": "2026-01-01T00:00:00+00:00"}])
    entry = dv.TimeEntry.objects.create(resource=dv.Resource.objects.get(role=role), role=role, project=project,
                                        date=date.today(), hours=Decimal(4), status=dv.TimeEntry.Status.SUBMITTED)
    ids = entries.approve_time_entries(entry_ids=[entry.pk], by=world["pm"])
    unbilled = dv.Actual.objects.get(pk__in=ids, transaction_type="unbilled_sales")
    assert (unbilled.amount, unbilled.currency) == (Decimal(1000), "GBP")

    sync()
    importing.import_from_staging(triggered_by="test")
    wip = ProjectTransaction.objects.get(dataverse_actual_id=unbilled.uuid)
    assert (wip.amount, wip.currency, wip.exchange_rate, wip.accounting_amount) == (
        Decimal(1000), "GBP", Decimal("1.25"), Decimal(1250))

    backlog.mark_ready_to_invoice(actual_ids=[unbilled.pk], ready=True, by=world["pm"])
    invoice = invoicing.create_proforma_invoice(contract_id=contract.pk, by=world["pm"])
    invoicing.confirm_proforma(invoice_id=invoice.pk, by=world["pm"])
    sync()
    importing.import_from_staging(triggered_by="test")
    from finance.models import InvoiceProposal

    proposal = InvoiceProposal.objects.get(number=invoice.number)
    # The accountant makes the lines tax-exempt, to see the example's own figures (8.25 % otherwise).
    proposals.set_tax_groups(proposal_id=proposal.pk, line_ids=proposal.lines.values_list("pk", flat=True),
                             sales_tax_group="EXEMPT", item_tax_group="SERV", by="accountant")
    proposal.refresh_from_db()
    posted = post(proposal)
    ledger = {e.posting_type: (e.amount, e.accounting_amount) for e in LedgerEntry.objects.filter(
        voucher=posted.voucher)}
    assert ledger == {
        "customer_balance": (Decimal(1000), Decimal(1250)),
        "invoiced_revenue": (Decimal(-1000), Decimal(-1250)),
        "wip_sales_value": (Decimal(-1000), Decimal(-1250)),
        "accrued_revenue": (Decimal(1000), Decimal(1250)),
    }
    assert (posted.currency, posted.total, posted.accounting_total) == ("GBP", Decimal(1000), Decimal(1250))
    sync()
    billed = dv.Actual.objects.get(invoice=invoice, transaction_type="billed_sales")
    assert (billed.exchange_rate, billed.accounting_amount, billed.accounting_currency) == (
        Decimal("1.25"), Decimal(1250), "USD")
    assert_invariants_hold_once_settled()
