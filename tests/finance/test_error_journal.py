"""Lines that fail to post move to an error journal and wait there until a person resets it
(domain.md §2.3.5, §4.8; D46)."""

from decimal import Decimal

import pytest
from django.urls import reverse

from finance.models import ActualStaging, IntegrationJournal, IntegrationJournalLine, LedgerAccount, LedgerEntry
from finance.services import importing, journals
from projinv.domain import InvalidTransition

pytestmark = pytest.mark.django_db(databases=["default", "finance"])

Line, Journal = IntegrationJournalLine.Status, IntegrationJournal.Status


def run():
    return importing.import_from_staging(triggered_by="test")


def line_of(row: dict) -> IntegrationJournalLine:
    return IntegrationJournalLine.objects.select_related("journal").get(staging__dataverse_actual_id=row["actual_id"])


@pytest.fixture
def failing(ledger, staging):
    """A cost and an unbilled sale staged while the WIP sales value account is missing from the chart."""
    LedgerAccount.objects.filter(legal_entity=ledger, number="132200").delete()
    cost, unbilled = staging.cost(), staging.unbilled()
    staging.receive(cost, unbilled)
    return cost, unbilled


def test_it_moves_a_line_that_cannot_post_to_an_error_journal_with_the_reason(failing):
    cost, unbilled = failing

    result = run()

    assert (result.journal_lines, result.error_lines) == (1, 1)
    posted, failed = line_of(cost), line_of(unbilled)
    assert (posted.status, posted.journal.status) == (Line.POSTED, Journal.POSTED)
    assert (failed.status, failed.journal.status, failed.journal.original_journal) == (
        Line.ERROR, Journal.ERROR, posted.journal.number)
    assert failed.error == ("Main account 132200 (WIP sales value) does not exist in the chart of accounts of "
                            "USPM.")
    staged = ActualStaging.objects.get(dataverse_actual_id=unbilled["actual_id"])
    assert (staged.status, staged.voucher) == (ActualStaging.Status.JOURNALIZED, "")
    assert not LedgerEntry.objects.filter(voucher__number=failed.voucher).exists()


def test_it_does_not_retry_an_error_journal_until_it_is_reset(ledger, failing):
    _cost, unbilled = failing
    run()
    LedgerAccount.objects.create(legal_entity=ledger, number="132200", name="WIP – sales value")

    again = run()
    assert (again.journal_lines, line_of(unbilled).status) == (0, Line.ERROR)

    journal = journals.reset_journal_to_draft(journal_id=line_of(unbilled).journal_id, by="accountant")
    assert (journal.status, journal.reset_by, line_of(unbilled).status, line_of(unbilled).error_code) == (
        Journal.DRAFT, "accountant", Line.DRAFT, "")
    result = run()

    line = line_of(unbilled)
    assert (result.journal_lines, line.status, line.journal.status) == (1, Line.POSTED, Journal.POSTED)
    assert sorted(LedgerEntry.objects.filter(voucher__number=line.voucher).values_list(
        "posting_type", "accounting_amount")) == [("accrued_revenue", Decimal("-1600.00")),
                                                  ("wip_sales_value", Decimal("1600.00"))]
    assert ActualStaging.objects.get(dataverse_actual_id=unbilled["actual_id"]).status == ActualStaging.Status.POSTED


def test_it_keeps_a_reset_line_that_still_fails_in_its_error_journal(failing):
    _cost, unbilled = failing
    run()
    error_journal = line_of(unbilled).journal
    journals.reset_journal_to_draft(journal_id=error_journal.pk, by="accountant")

    run()

    line = line_of(unbilled)
    assert (line.status, line.journal_id, line.journal.status) == (Line.ERROR, error_journal.pk, Journal.ERROR)
    assert IntegrationJournal.objects.filter(status=Journal.ERROR).count() == 1
    posted_journal = IntegrationJournal.objects.get(number=error_journal.original_journal)
    with pytest.raises(InvalidTransition):
        journals.reset_journal_to_draft(journal_id=posted_journal.pk, by="accountant")  # only error journals


def test_it_keeps_the_journal_an_error_journal_names_when_every_line_moved_out_of_it(ledger, staging):
    LedgerAccount.objects.filter(legal_entity=ledger, number="600100").delete()
    staging.receive(staging.cost())

    run()

    error_journal = IntegrationJournal.objects.get(status=Journal.ERROR)
    original = IntegrationJournal.objects.get(number=error_journal.original_journal)  # it names a journal that is
    assert (original.status, original.lines.count(), error_journal.lines.count()) == (Journal.POSTED, 0, 1)
    run()
    assert IntegrationJournal.objects.filter(pk=original.pk).exists()


def test_it_resets_from_the_journal_page(world, failing, as_user):
    _cost, unbilled = failing
    run()
    journal = line_of(unbilled).journal
    client = as_user(world["accountant"])

    page = client.get(reverse("finance:journal_detail", args=[journal.pk]))
    assert "does not exist in the chart of accounts" in page.content.decode()
    response = client.post(reverse("finance:journal_reset", args=[journal.pk]))

    journal.refresh_from_db()
    assert (response.status_code, journal.status) == (302, Journal.DRAFT)


def test_it_names_the_error_journal_of_an_invoiced_unbilled_sale(staging, failing):
    _cost, unbilled = failing
    staging.receive(staging.billed(unbilled, invoice="INV-900001"))
    proposal = staging.header("INV-900001", count=1)

    run()

    proposal.refresh_from_db()
    journal = line_of(unbilled).journal
    assert (proposal.status, proposal.lines.count()) == ("header_only", 0)
    assert (f"{unbilled['actual_id']} ({staging.DAY}, 1600.00 USD): failed to post, in error journal "
            f"{journal.number}") in proposal.import_message
