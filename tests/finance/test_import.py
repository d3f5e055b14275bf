"""Import from staging: journalize and post, then build proposal lines (domain.md §2.3, §2.8, §4.7, §4.9;
BR-03, BR-04, BR-05, BR-06, BR-22)."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connections

from dataverse.models import Actual, TimeEntry
from dataverse.services import entries, invoicing
from finance.models import (
    ActualStaging,
    CostRevenueProfile,
    ExchangeRate,
    ImportIssue,
    ImportRun,
    IntegrationJournal,
    IntegrationJournalLine,
    InvoiceProposal,
    InvoiceProposalLine,
    LedgerEntry,
    PostingSetup,
    ProjectTransaction,
    Voucher,
)
from finance.services import importing
from projinv.dualwrite import demo
from tests.helpers import invoice_contract, sync

pytestmark = pytest.mark.django_db(databases=["default", "finance"])

Status = ActualStaging.Status


def run():
    return importing.import_from_staging(triggered_by="test")


def postings(voucher: str) -> list[tuple]:
    """(account, posting type, accounting amount) of a voucher, by account."""
    return sorted(LedgerEntry.objects.filter(voucher__number=voucher)
                  .values_list("account", "posting_type", "accounting_amount"))


def unbalanced_vouchers() -> dict:
    totals: dict[str, Decimal] = {v: Decimal(0) for v in Voucher.objects.values_list("number", flat=True)}
    for number, amount in LedgerEntry.objects.values_list("voucher__number", "accounting_amount"):
        totals[number] += amount
    return {number: total for number, total in totals.items() if total != 0}


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in (
        IntegrationJournal, IntegrationJournalLine, Voucher, LedgerEntry, ProjectTransaction, InvoiceProposalLine)}


def confirm(contract: str, pm) -> InvoiceProposal:
    """Invoice and confirm a contract in Dataverse and deliver the result: the proposal header."""
    invoice = invoice_contract(contract, pm=pm)
    invoicing.confirm_proforma(invoice_id=invoice.pk, by=pm)
    sync()
    return InvoiceProposal.objects.get(number=invoice.number)


# --- Journalizing and posting cost and unbilled sales ----------------------------------------


def test_it_journalizes_and_posts_cost_and_unbilled_sales(world):
    sync()
    staged = list(ActualStaging.objects.order_by("pk"))
    assert len(staged) == 8  # 2 approved entries per project, a cost and an unbilled sale each

    result = run()

    assert (result.status, result.journal_lines, result.waiting_rows) == (ImportRun.Status.SUCCEEDED, 8, 0)
    lines = {line.staging_id: line for line in IntegrationJournalLine.objects.all()}
    assert sorted(lines) == [s.pk for s in staged]  # one journal line per actual
    assert len({line.voucher for line in lines.values()}) == 8  # and a voucher each
    # Journals group the lines per legal entity and month.
    assert sorted(IntegrationJournal.objects.values_list("legal_entity", "period")) == sorted(
        {("USPM", s.accounting_date.replace(day=1)) for s in staged})

    def voucher_of(transaction_type, role):
        row = next(s for s in staged if (s.project_number, s.transaction_type, s.role_name)
                   == ("PRJ-1001", transaction_type, role))
        return lines[row.pk].voucher

    # 6 h Consultant: cost 6 × 100, unbilled 6 × 200; 8 h Architect: cost 8 × 150, unbilled 8 × 300.
    assert postings(voucher_of("cost", "Consultant")) == [
        ("600100", "cost", Decimal("600.00")), ("600900", "cost_offset", Decimal("-600.00"))]
    assert postings(voucher_of("unbilled_sales", "Consultant")) == [
        ("132200", "wip_sales_value", Decimal("1200.00")), ("401200", "accrued_revenue", Decimal("-1200.00"))]
    assert postings(voucher_of("cost", "Architect")) == [
        ("600100", "cost", Decimal("1200.00")), ("600900", "cost_offset", Decimal("-1200.00"))]
    assert postings(voucher_of("unbilled_sales", "Architect")) == [
        ("132200", "wip_sales_value", Decimal("2400.00")), ("401200", "accrued_revenue", Decimal("-2400.00"))]
    assert Voucher.objects.count() == 8 and unbalanced_vouchers() == {}

    for row in staged:
        row.refresh_from_db()
        voucher = lines[row.pk].voucher
        assert (row.status, row.wait_reason, row.voucher, row.posting_date) == (
            Status.POSTED, "", voucher, row.accounting_date)
        assert (row.exchange_rate, row.accounting_amount, row.accounting_currency) == (1, row.amount, "USD")
        transaction = row.project_transaction
        assert (transaction.status, transaction.voucher, transaction.dataverse_actual_id) == (
            ProjectTransaction.Status.POSTED, voucher, row.dataverse_actual_id)
        assert (transaction.amount, transaction.accounting_amount) == (row.amount, row.amount)


def test_it_changes_nothing_when_run_again(world):
    sync()
    run()
    before = counts()
    staging_before = list(ActualStaging.objects.order_by("pk").values())

    again = run()

    assert (again.status, again.journal_lines, again.waiting_rows) == (ImportRun.Status.SUCCEEDED, 0, 0)
    assert counts() == before
    assert list(ActualStaging.objects.order_by("pk").values()) == staging_before


def test_it_writes_the_journal_vouchers_back_to_the_dataverse_actuals(world):
    sync()
    run()
    sync()  # finance → Dataverse: voucher, date, rate, accounting amount

    synced = Actual.objects.filter(skip_sync=False)
    assert synced.count() == 8
    vouchers = dict(ActualStaging.objects.values_list("dataverse_actual_id", "voucher"))
    for actual in synced:
        assert actual.voucher == vouchers[actual.uuid]
        assert (actual.exchange_rate, actual.accounting_amount, actual.accounting_currency) == (
            1, actual.amount, "USD")


def test_it_posts_no_accrual_when_the_profile_does_not_accrue_revenue_on_hours(ledger, staging):
    CostRevenueProfile.objects.filter(legal_entity=ledger, code="TM").update(accrue_revenue_hour=False)
    cost, unbilled = staging.cost(), staging.unbilled()
    staging.receive(cost, unbilled)

    run()

    # Both are posted to the project subledger, but only the cost reaches the general ledger.
    assert set(ActualStaging.objects.values_list("status", flat=True)) == {Status.POSTED}
    assert ProjectTransaction.objects.count() == 2
    assert sorted(LedgerEntry.objects.values_list("posting_type", "accounting_amount")) == [
        ("cost", Decimal("800.00")), ("cost_offset", Decimal("-800.00"))]


# --- Rows that wait ----------------------------------------------------------------------------


def test_it_holds_a_row_without_an_exchange_rate_until_the_rate_exists(ledger, staging):
    usd = staging.unbilled()
    eur = staging.unbilled(currency="EUR", quantity=Decimal("1"), price=Decimal("100.15"), amount=Decimal("100.15"))
    staging.receive(usd, eur)

    result = run()

    row = ActualStaging.objects.get(dataverse_actual_id=eur["actual_id"])
    assert (row.status, row.wait_reason) == (Status.WAITING, "exchange_rate_missing")
    assert not IntegrationJournalLine.objects.filter(staging=row).exists()
    assert not ProjectTransaction.objects.filter(staging=row).exists()
    # The other row is not held up by it.
    assert ActualStaging.objects.get(dataverse_actual_id=usd["actual_id"]).status == Status.POSTED
    assert (result.journal_lines, result.waiting_rows) == (1, 1)

    # A rate that only starts after the accounting date does not apply (rates are date-effective).
    ExchangeRate.objects.create(from_currency="EUR", to_currency="USD", valid_from=staging.DAY + timedelta(days=1),
                                rate=Decimal("9"))
    run()
    row.refresh_from_db()
    assert (row.status, row.wait_reason) == (Status.WAITING, "exchange_rate_missing")

    ExchangeRate.objects.create(from_currency="EUR", to_currency="USD", valid_from=staging.DAY, rate=Decimal("1.1"))
    result = run()

    row.refresh_from_db()
    # 100.15 × 1.1 = 110.165: money rounds half up, to 110.17 (half-even would give 110.16).
    assert (row.status, row.wait_reason, row.exchange_rate, row.accounting_amount, row.accounting_currency) == (
        Status.POSTED, "", Decimal("1.1"), Decimal("110.17"), "USD")
    assert result.journal_lines == 1
    entries = LedgerEntry.objects.filter(voucher__number=row.voucher).order_by("account")
    assert [(e.posting_type, e.amount, e.currency, e.accounting_amount, e.accounting_currency) for e in entries] == [
        ("wip_sales_value", Decimal("100.15"), "EUR", Decimal("110.17"), "USD"),
        ("accrued_revenue", Decimal("-100.15"), "EUR", Decimal("-110.17"), "USD"),
    ]


def test_it_holds_rows_until_their_legal_entity_and_posting_setup_exist(ledger, staging, entities):
    rows = [staging.cost(legal_entity="DEMF", currency="EUR"), staging.unbilled(legal_entity="DEMF", currency="EUR")]
    staging.receive(*rows)

    def states():
        return set(ActualStaging.objects.values_list("status", "wait_reason"))

    run()
    assert states() == {(Status.WAITING, "legal_entity_missing")}

    entity = entities.create("DEMF", currency="EUR", posting_setup=False)
    run()
    assert states() == {(Status.WAITING, "posting_setup_missing")}
    assert IntegrationJournalLine.objects.count() == 0

    entities.add_posting_setup(entity)
    result = run()

    assert states() == {(Status.POSTED, "")}
    assert result.journal_lines == 2
    assert sorted(LedgerEntry.objects.values_list("account", "accounting_amount", "accounting_currency")) == [
        ("9132200", Decimal("1600.00"), "EUR"), ("9401200", Decimal("-1600.00"), "EUR"),
        ("9600100", Decimal("800.00"), "EUR"), ("9600900", Decimal("-800.00"), "EUR"),
    ]
    assert unbalanced_vouchers() == {}


# --- Proposal lines ----------------------------------------------------------------------------


def test_it_adds_no_proposal_lines_while_an_invoiced_unbilled_sale_is_unposted(world):
    pm = world["pm"]
    sync()
    run()  # the first two entries' actuals are posted
    # A third entry (8 h Consultant) is approved after the posting set-up went missing: it waits.
    PostingSetup.objects.filter(legal_entity__code="USPM").delete()
    entry = TimeEntry.objects.get(project__number="PRJ-1001", status=TimeEntry.Status.SUBMITTED)
    entries.approve_time_entries(entry_ids=[entry.pk], by=pm)
    proposal = confirm("PC-1001", pm)
    assert proposal.expected_line_count == 3

    result = run()

    proposal.refresh_from_db()
    assert (proposal.status, proposal.amount, proposal.lines.count()) == (
        InvoiceProposal.Status.HEADER_ONLY, 0, 0)
    waiting = ActualStaging.objects.get(transaction_type="unbilled_sales", status=Status.WAITING)
    assert (waiting.wait_reason, waiting.amount) == ("posting_setup_missing", Decimal("1600"))
    # The accountant sees which transaction is missing: its actual, date, amount and why.
    assert proposal.import_message.startswith("Project transaction hasn't been posted yet for 1 billed sales: ")
    assert (f"{waiting.dataverse_actual_id} ({waiting.transaction_date}, 1600.00 USD): "
            "waiting: The legal entity has no posting set-up") in proposal.import_message
    issue = ImportIssue.objects.get(run=result)
    assert (issue.proposal_number, issue.message) == (proposal.number, proposal.import_message)
    # Nothing was taken half-way: the posted unbilled sales are not put on the proposal.
    assert set(ProjectTransaction.objects.values_list("status", flat=True)) == {ProjectTransaction.Status.POSTED}
    assert set(ActualStaging.objects.filter(transaction_type="billed_sales").values_list("status", flat=True)) == {
        Status.RECEIVED}

    demo.load_finance()  # the posting set-up is back
    result = run()

    proposal.refresh_from_db()
    assert (result.journal_lines, result.proposal_lines) == (2, 3)  # posted, then all three lines at once
    assert (proposal.status, proposal.amount, proposal.import_message) == (
        InvoiceProposal.Status.OPEN, Decimal("5200"), "")  # 1,200 + 2,400 + 1,600
    invoiced = proposal.lines.values_list("project_transaction__dataverse_actual_id", flat=True)
    assert waiting.dataverse_actual_id in set(invoiced)
    assert set(ProjectTransaction.objects.filter(pk__in=proposal.lines.values("project_transaction"))
               .values_list("status", flat=True)) == {ProjectTransaction.Status.INVOICE_PROPOSAL}
    assert set(ActualStaging.objects.filter(transaction_type="billed_sales").values_list("status", flat=True)) == {
        Status.PROPOSAL_LINE}


def test_it_adds_no_proposal_lines_while_fewer_billed_sales_are_staged_than_declared(ledger, staging):
    first = staging.unbilled()
    second = staging.unbilled(quantity=Decimal("8"), price=Decimal("300"), amount=Decimal("2400"))
    billed_first, billed_second = (staging.billed(u, invoice="INV-900001") for u in (first, second))
    staging.receive(first, second, billed_first)
    proposal = staging.header("INV-900001", count=2)

    result = run()

    proposal.refresh_from_db()
    assert (proposal.status, proposal.amount, proposal.lines.count()) == (
        InvoiceProposal.Status.HEADER_ONLY, 0, 0)
    assert proposal.import_message.startswith(
        "Invoice proposal wasn't processed because of mismatched billed sales actuals with Dataverse: "
        "Dataverse declared 2 billed sales, 1 are staged.")
    assert ImportIssue.objects.get(run=result).message == proposal.import_message

    staging.receive(billed_second)  # the rest arrives
    result = run()

    proposal.refresh_from_db()
    assert result.proposal_lines == 2
    assert (proposal.status, proposal.amount, proposal.import_message) == (
        InvoiceProposal.Status.OPEN, Decimal("4000"), "")


def test_it_imports_lines_for_one_proposal_only(world):
    pm = world["pm"]
    sync()
    run()
    first, second = confirm("PC-1001", pm), confirm("PC-1002", pm)

    result = importing.import_lines_for(proposal_id=first.pk, triggered_by="accountant")

    first.refresh_from_db()
    second.refresh_from_db()
    assert (result.proposal_number, result.proposal_lines) == (first.number, 2)
    assert (first.status, first.lines.count()) == (InvoiceProposal.Status.OPEN, 2)
    assert (second.status, second.lines.count(), second.import_message) == (
        InvoiceProposal.Status.HEADER_ONLY, 0, "")
    assert not ImportIssue.objects.exists()

    run()  # the periodic run takes the other one
    second.refresh_from_db()
    assert (second.status, second.lines.count()) == (InvoiceProposal.Status.OPEN, 2)


# --- Single flight (BR-05) ---------------------------------------------------------------------


def test_it_skips_a_run_while_another_holds_the_import_lock(world, other_session):
    sync()
    other_session.execute("SELECT pg_advisory_lock(%s)", [importing.IMPORT_LOCK])

    skipped = run()

    assert skipped.status == ImportRun.Status.SKIPPED and skipped.finished_at
    assert set(counts().values()) == {0}
    assert set(ActualStaging.objects.values_list("status", flat=True)) == {Status.RECEIVED}

    other_session.execute("SELECT pg_advisory_unlock(%s)", [importing.IMPORT_LOCK])
    assert (run().status, IntegrationJournalLine.objects.count()) == (ImportRun.Status.SUCCEEDED, 8)


@pytest.mark.django_db(databases=["default", "finance"], transaction=True)
def test_it_never_duplicates_proposal_lines_when_two_imports_run_at_once(world):
    sync()
    run()
    proposal = confirm("PC-1001", world["pm"])
    start, results, errors = threading.Barrier(2), [], []

    def import_in_a_worker():
        try:
            start.wait(timeout=10)
            results.append(run())
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=import_in_a_worker) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)

    assert errors == []
    # Either they overlapped (one is skipped) or one ran after the other (and found nothing to do).
    assert sorted(r.status for r in results) in (
        [ImportRun.Status.SKIPPED, ImportRun.Status.SUCCEEDED], [ImportRun.Status.SUCCEEDED] * 2)
    proposal.refresh_from_db()
    lines = list(proposal.lines.values_list("staging_id", flat=True))
    assert len(lines) == len(set(lines)) == 2
    assert (proposal.status, proposal.amount) == (InvoiceProposal.Status.OPEN, Decimal("3600"))
    assert sum(r.proposal_lines for r in results) == 2
