"""Every scheduled task, run twice or twice at once, leaves the same state as running it once."""

from io import StringIO

import pytest
from django.core.management import call_command

from finance import tasks as finance_tasks
from finance.models import (
    ActualStaging,
    ImportRun,
    IntegrationJournalLine,
    InvoiceProposalLine,
    LedgerEntry,
    ProjectTransaction,
    Voucher,
)
from projinv.dualwrite import demo

from .dualwrite.test_relay import run_concurrently
from .helpers import invoice_contract, sync

BOTH = ["default", "finance"]


def finance_state():
    return (
        IntegrationJournalLine.objects.count(), Voucher.objects.count(), LedgerEntry.objects.count(),
        ProjectTransaction.objects.count(), InvoiceProposalLine.objects.count(),
        sorted(ActualStaging.objects.values_list("status", flat=True)),
    )


def staged_with_an_invoice(world):
    from dataverse.services import invoicing

    sync()
    finance_tasks.import_from_staging()
    invoice = invoice_contract("PC-1001")
    invoicing.confirm_proforma(invoice_id=invoice.pk, by=world["pm"])
    sync()


@pytest.mark.django_db(databases=BOTH)
def test_it_imports_from_staging_twice_with_the_same_result(world):
    staged_with_an_invoice(world)
    finance_tasks.import_from_staging()
    once = finance_state()
    finance_tasks.import_from_staging()
    assert finance_state() == once
    assert InvoiceProposalLine.objects.count() == 2


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_it_imports_from_staging_twice_at_once_with_the_same_result(world):
    staged_with_an_invoice(world)
    run_concurrently(finance_tasks.import_from_staging)
    # Either the second run waited its turn and found nothing, or it was skipped: never both working.
    statuses = sorted(ImportRun.objects.order_by("-pk").values_list("status", flat=True)[:2])
    assert statuses in (["skipped", "succeeded"], ["succeeded", "succeeded"])
    assert InvoiceProposalLine.objects.count() == 2
    assert ProjectTransaction.objects.count() == ActualStaging.objects.exclude(transaction_type="billed_sales").count()


@pytest.mark.django_db(databases=BOTH)
def test_it_loads_the_demo_twice_without_adding_anything(world):
    from dataverse.models import Actual, Customer, TimeEntry
    from finance.models import Customer as FinanceCustomer

    counts = lambda: (Customer.objects.count(), TimeEntry.objects.count(), Actual.objects.count(),  # noqa: E731
                      FinanceCustomer.objects.count())
    before = counts()
    call_command("load_demo", stdout=StringIO())
    assert counts() == before
    assert demo.load_users().keys() == {u for u, *_ in demo.USERS}


@pytest.mark.django_db
def test_it_upserts_the_schedules_by_name():
    from django_q.models import Schedule

    call_command("setup_schedules", stdout=StringIO())
    call_command("setup_schedules", stdout=StringIO())
    assert sorted(Schedule.objects.values_list("name", "func")) == [
        ("dataverse.run_invoice_schedules", "dataverse.tasks.run_invoice_schedules"),
        ("dualwrite.check_invariants", "projinv.dualwrite.tasks.check_invariants"),
        ("dualwrite.prune_activity_log", "projinv.dualwrite.tasks.prune_activity_log"),
        ("dualwrite.sweep_outbox", "projinv.dualwrite.tasks.sweep_outbox"),
        ("finance.import_from_staging", "finance.tasks.import_from_staging"),
    ]
    from django.utils.module_loading import import_string

    for func in Schedule.objects.values_list("func", flat=True):
        assert callable(import_string(func))  # every schedule names a task that exists
