"""Import messages are stored as a code and parameters and worded only when shown (D48)."""

from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy

from finance import messages
from finance.models import ImportIssue
from finance.services import importing

pytestmark = pytest.mark.django_db(databases=["default", "finance"])


def test_it_stores_the_code_and_parameters_and_words_them_when_shown(ledger, staging, monkeypatch):
    unbilled = staging.unbilled()
    staging.receive(unbilled)
    proposal = staging.header("INV-900001", count=2)
    staging.receive(staging.billed(unbilled, invoice="INV-900001"))

    importing.import_from_staging(triggered_by="test")

    proposal.refresh_from_db()
    issue = ImportIssue.objects.get()
    assert (proposal.import_code, proposal.import_params) == ("count_mismatch", {"expected": 2, "staged": 1})
    assert (issue.code, issue.params, issue.note) == ("count_mismatch", {"expected": 2, "staged": 1}, "")
    # The wording is looked up at display time, in whatever language (catalogue) is active then.
    monkeypatch.setitem(messages.MESSAGES, "count_mismatch", gettext_lazy("%(staged)d of %(expected)d staged"))
    assert (proposal.import_message, issue.message) == ("1 of 2 staged", "1 of 2 staged")


def test_it_words_nested_messages_and_choice_labels(ledger, staging):
    waiting = staging.unbilled(currency="EUR", amount=Decimal("100"))
    staging.receive(waiting)
    staging.receive(staging.billed(waiting, invoice="INV-900001"))
    proposal = staging.header("INV-900001", count=1, currency="EUR")

    importing.import_from_staging(triggered_by="test")

    proposal.refresh_from_db()
    [item] = proposal.import_params["list"]
    assert item == {"code": "waiting", "params": {
        "actual": str(waiting["actual_id"]), "date": str(staging.DAY), "amount": "100.00", "currency": "EUR",
        "reason": "exchange_rate_missing"}}
    assert proposal.import_message == (
        f"Project transaction hasn't been posted yet for 1 billed sales: {waiting['actual_id']} ({staging.DAY}, "
        "100.00 EUR): waiting: No exchange rate for the currency on the accounting date. The next run retries.")


def test_it_shows_an_unknown_code_as_itself():
    assert messages.render("no_such_code", {"x": 1}) == "no_such_code"
