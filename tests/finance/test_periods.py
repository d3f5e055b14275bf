"""Closed fiscal periods: rolled to the next open period, or refused, as the legal entity says (BR-24)."""

from datetime import date
from decimal import Decimal

import pytest

from dataverse.models import Actual
from finance.models import ActualStaging, FiscalPeriod, LegalEntity, ProjectInvoice
from finance.services import importing
from projinv.domain import DomainError

from ..helpers import post, run_pipeline_to_proposal, sync

pytestmark = pytest.mark.django_db(databases=["default", "finance"])


def close_the_period_of(day: date, *, roll: bool):
    entity = LegalEntity.objects.get(code="USPM")
    LegalEntity.objects.filter(pk=entity.pk).update(roll_to_open_period=roll)
    first = day.replace(day=1)
    following = (first.replace(day=28).toordinal() + 4)
    next_first = date.fromordinal(following).replace(day=1)
    FiscalPeriod.objects.create(legal_entity=entity, name="closed", start=first,
                                end=date.fromordinal(next_first.toordinal() - 1), closed=True)
    FiscalPeriod.objects.create(legal_entity=entity, name="open", start=next_first,
                                end=date(next_first.year + 1, 1, 1))
    return next_first


def test_it_rolls_journal_lines_of_a_closed_period_to_the_next_open_one(world):
    sync()
    day = ActualStaging.objects.order_by("accounting_date").first().accounting_date
    next_open = close_the_period_of(day, roll=True)
    importing.import_from_staging(triggered_by="test")
    sync()
    rolled = ActualStaging.objects.filter(transaction_date__lt=next_open)
    assert rolled.exists() and set(rolled.values_list("posting_date", flat=True)) == {next_open}
    assert set(Actual.objects.filter(uuid__in=list(rolled.values_list("dataverse_actual_id", flat=True)))
               .values_list("posting_date", flat=True)) == {next_open}


def test_it_keeps_rows_waiting_when_the_period_is_closed_and_rolling_is_off(world):
    sync()
    day = ActualStaging.objects.order_by("accounting_date").first().accounting_date
    close_the_period_of(day, roll=False)
    run = importing.import_from_staging(triggered_by="test")
    waiting = ActualStaging.objects.filter(status="waiting")
    assert run.waiting_rows == waiting.count() > 0
    assert set(waiting.values_list("wait_reason", flat=True)) == {"period_closed"}
    FiscalPeriod.objects.filter(closed=True).update(closed=False)  # the accountant reopens it
    importing.import_from_staging(triggered_by="test")
    assert not ActualStaging.objects.filter(status="waiting").exists()


def test_it_refuses_or_rolls_posting_into_a_closed_period(world):
    _invoice, proposal = run_pipeline_to_proposal()
    next_open = close_the_period_of(proposal.invoice_date, roll=False)
    with pytest.raises(DomainError, match="No open fiscal period"):
        post(proposal)
    assert not ProjectInvoice.objects.exists()
    LegalEntity.objects.update(roll_to_open_period=True)
    invoice = post(proposal)
    assert invoice.invoice_date == invoice.voucher.date == next_open
    assert invoice.total == Decimal(proposal.amount)
