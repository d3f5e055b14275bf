"""Posting invoice proposals: invoice, customer transaction, voucher, write-back (domain.md §2.9, §4.9, BR-22)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connections, transaction

from dataverse.models import Actual, Invoice, TransactionType
from finance.models import (
    ActualStaging,
    CustomerTransaction,
    ExchangeRate,
    InvoiceProposal,
    LedgerEntry,
    NumberSequence,
    ProjectInvoice,
    ProjectTransaction,
    Voucher,
)
from finance.services import importing
from projinv.domain import DomainError, InvalidTransition
from tests.helpers import post, run_pipeline_to_proposal, sync

pytestmark = pytest.mark.django_db(databases=["default", "finance"])


def postings(voucher: Voucher) -> list[tuple]:
    """(account, posting type, accounting amount) of a voucher, by account."""
    return sorted(voucher.entries.values_list("account", "posting_type", "accounting_amount"))


def balance(voucher: Voucher) -> Decimal:
    return sum(voucher.entries.values_list("accounting_amount", flat=True), Decimal(0))


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in (
        ProjectInvoice, CustomerTransaction, Voucher, LedgerEntry, NumberSequence)}


def open_proposal(staging, invoice: str, **fields) -> InvoiceProposal:
    """An unbilled sale posted through the journal, and the open proposal that invoices it (finance only)."""
    unbilled = staging.unbilled(**fields)
    staging.receive(unbilled)
    importing.import_from_staging(triggered_by="test")
    staging.receive(staging.billed(unbilled, invoice=invoice, accounting_date=staging.DAY + timedelta(days=5)))
    header = {k: v for k, v in fields.items() if k in ("legal_entity", "currency")}
    staging.header(invoice, count=1, invoice_date=staging.DAY + timedelta(days=5), **header)
    importing.import_from_staging(triggered_by="test")
    proposal = InvoiceProposal.objects.get(number=invoice)
    assert proposal.status == InvoiceProposal.Status.OPEN
    return proposal


def test_it_posts_an_open_proposal_as_an_invoice_with_a_balanced_voucher(world):
    _invoice, proposal = run_pipeline_to_proposal("PC-1001")
    assert (proposal.status, proposal.amount, proposal.tax) == (InvoiceProposal.Status.OPEN, 3600, 0)

    invoice = post(proposal)

    proposal.refresh_from_db()
    assert (proposal.status, proposal.posted_by) == (InvoiceProposal.Status.POSTED, "arclerk")
    assert (invoice.number, invoice.legal_entity, invoice.customer_number, invoice.invoice_date) == (
        "PINV-000001", "USPM", "C-1001", proposal.invoice_date)
    assert (invoice.amount, invoice.tax, invoice.total, invoice.exchange_rate, invoice.accounting_total) == (
        Decimal("3600"), 0, Decimal("3600"), 1, Decimal("3600"))
    assert not invoice.is_credit_note
    # The AR item: the total, due after the customer's 30 days.
    receivable = invoice.customer_transaction
    assert (receivable.customer_number, receivable.amount, receivable.accounting_amount, receivable.date,
            receivable.due_date, receivable.voucher_id) == (
        "C-1001", Decimal("3600"), Decimal("3600"), proposal.invoice_date,
        proposal.invoice_date + timedelta(days=30), invoice.voucher_id)
    # One voucher: AR against revenue, and the accrual reversed (WIP credited, accrued revenue debited).
    voucher = invoice.voucher
    assert (voucher.source, voucher.date, voucher.description) == (
        Voucher.Source.PROJECT_INVOICE, proposal.invoice_date, proposal.number)
    assert postings(voucher) == [
        ("130100", "customer_balance", Decimal("3600.00")),
        ("132200", "wip_sales_value", Decimal("-3600.00")),
        ("401100", "invoiced_revenue", Decimal("-3600.00")),
        ("401200", "accrued_revenue", Decimal("3600.00")),
    ]
    assert balance(voucher) == 0
    # The subledger: the unbilled sales are invoiced; the billed staging rows carry the accounting details.
    assert set(ProjectTransaction.objects.filter(pk__in=proposal.lines.values("project_transaction"))
               .values_list("status", flat=True)) == {ProjectTransaction.Status.INVOICED}
    billed = ActualStaging.objects.filter(pk__in=proposal.lines.values("staging"))
    assert billed.count() == 2
    for row in billed:
        assert (row.status, row.voucher, row.posting_date, row.exchange_rate, row.accounting_currency) == (
            ActualStaging.Status.INVOICED, voucher.number, invoice.invoice_date, 1, "USD")
        assert (row.accounting_amount, row.sales_tax_amount) == (row.amount, 0)

    # The next invoice of the legal entity takes the next number.
    _invoice, second = run_pipeline_to_proposal("PC-1002")
    assert post(second).number == "PINV-000002"


def test_it_credits_sales_tax_and_charges_it_to_the_customer(world):
    _invoice, proposal = run_pipeline_to_proposal("PC-1001")
    # The accountant's sales-tax group edit, reduced to its effect: 8 % on each line (96 + 192).
    for line in proposal.lines.all():
        line.tax = line.amount * Decimal("0.08")
        line.save(update_fields=["tax"])
    InvoiceProposal.objects.filter(pk=proposal.pk).update(tax=Decimal("288"))

    invoice = post(proposal)

    assert (invoice.amount, invoice.tax, invoice.total, invoice.accounting_total) == (
        Decimal("3600"), Decimal("288"), Decimal("3888"), Decimal("3888"))
    assert invoice.customer_transaction.amount == Decimal("3888")
    # AR debit = revenue credit + tax credit.
    assert postings(invoice.voucher) == [
        ("130100", "customer_balance", Decimal("3888.00")),
        ("132200", "wip_sales_value", Decimal("-3600.00")),
        ("222200", "sales_tax", Decimal("-288.00")),
        ("401100", "invoiced_revenue", Decimal("-3600.00")),
        ("401200", "accrued_revenue", Decimal("3600.00")),
    ]
    assert balance(invoice.voucher) == 0
    assert sorted(ActualStaging.objects.filter(pk__in=proposal.lines.values("staging"))
                  .values_list("sales_tax_amount", flat=True)) == [Decimal("96"), Decimal("192")]


def test_it_numbers_invoices_per_legal_entity(ledger, staging, entities):
    entities.create("DEMF", currency="EUR")
    uspm = open_proposal(staging, "INV-900001")
    demf = open_proposal(staging, "INV-900002", legal_entity="DEMF", currency="EUR")

    assert post(uspm).number == "PINV-000001"
    assert post(demf).number == "PINV-000001"  # a sequence of its own


def test_it_refuses_to_post_a_posted_proposal(world):
    _invoice, proposal = run_pipeline_to_proposal("PC-1001")
    post(proposal)
    before = counts()

    with pytest.raises(InvalidTransition, match=rf"^Proposal {proposal.number} is Posted and cannot be posted\.$"):
        post(proposal)

    assert counts() == before
    assert NumberSequence.objects.get().next_value == 2  # no number taken


def test_it_refuses_to_post_a_header_only_proposal(ledger, staging):
    proposal = staging.header("INV-900001", count=1)

    with pytest.raises(InvalidTransition, match=r"is Header only \(no lines yet\) and cannot be posted"):
        post(proposal)

    proposal.refresh_from_db()
    assert proposal.status == InvoiceProposal.Status.HEADER_ONLY
    assert set(counts().values()) == {0}


@pytest.mark.parametrize("statement", [
    "UPDATE finance_ledgerentry SET accounting_amount = 0",
    "DELETE FROM finance_ledgerentry",
    "UPDATE finance_voucher SET date = date + 1",
    "DELETE FROM finance_voucher",
    "UPDATE finance_projectinvoice SET total = 0",
    "UPDATE finance_invoiceproposal SET amount = 0 WHERE status = 'posted'",
    "DELETE FROM finance_invoiceproposalline",
])
def test_it_refuses_any_change_to_posted_documents(world, statement):
    _invoice, proposal = run_pipeline_to_proposal("PC-1001")
    invoice = post(proposal)
    before = postings(invoice.voucher)

    with pytest.raises(IntegrityError) as refused, transaction.atomic(using="finance"):
        with connections["finance"].cursor() as cursor:
            cursor.execute(statement)

    assert refused.value.__cause__.sqlstate == "23001"  # restrict_violation
    assert postings(invoice.voucher) == before
    proposal.refresh_from_db()
    assert (proposal.status, proposal.amount, proposal.lines.count()) == (
        InvoiceProposal.Status.POSTED, Decimal("3600"), 2)


def test_it_refuses_to_post_without_an_exchange_rate(ledger, staging):
    ExchangeRate.objects.create(from_currency="EUR", to_currency="USD", valid_from=staging.DAY, rate=Decimal("1.1"))
    proposal = open_proposal(staging, "INV-900001", currency="EUR", quantity=Decimal("5"), price=Decimal("200"),
                             amount=Decimal("1000"))
    ExchangeRate.objects.all().delete()  # no EUR rate on the invoice date any more
    before = counts()

    with pytest.raises(DomainError, match=rf"^No exchange rate from EUR to USD on {proposal.invoice_date}\.$"):
        post(proposal)

    assert counts() == before
    proposal.refresh_from_db()
    assert proposal.status == InvoiceProposal.Status.OPEN
    assert ActualStaging.objects.get(transaction_type="billed_sales").status == ActualStaging.Status.PROPOSAL_LINE

    ExchangeRate.objects.create(from_currency="EUR", to_currency="USD", valid_from=proposal.invoice_date,
                                rate=Decimal("1.2"))
    invoice = post(proposal)
    assert invoice.number == "PINV-000001"  # the refused attempt took no number
    # Revenue and AR at the invoice date's rate; WIP reversed at the rate it was accrued with (1.1).
    assert postings(invoice.voucher) == [
        ("130100", "customer_balance", Decimal("1200.00")),
        ("132200", "wip_sales_value", Decimal("-1100.00")),
        ("401100", "invoiced_revenue", Decimal("-1200.00")),
        ("401200", "accrued_revenue", Decimal("1100.00")),
    ]


def test_it_writes_the_posting_back_to_dataverse(world):
    dataverse_invoice, proposal = run_pipeline_to_proposal("PC-1001")

    invoice = post(proposal)
    sync()

    billed = Actual.objects.filter(invoice=dataverse_invoice, transaction_type=TransactionType.BILLED_SALES)
    assert billed.count() == 2
    for actual in billed:
        assert (actual.voucher, actual.posting_date, actual.exchange_rate, actual.accounting_amount,
                actual.accounting_currency, actual.sales_tax_amount) == (
            invoice.voucher.number, invoice.invoice_date, 1, actual.amount, "USD", 0)
        assert actual.written_back_at is not None
    dataverse_invoice = Invoice.objects.get(pk=dataverse_invoice.pk)
    assert (dataverse_invoice.status, dataverse_invoice.customer_invoice_number,
            dataverse_invoice.customer_invoice_date, dataverse_invoice.posted_tax_amount) == (
        Invoice.Status.POSTED, "PINV-000001", invoice.invoice_date, 0)
