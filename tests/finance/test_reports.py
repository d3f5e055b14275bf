"""Trial balance, ageing and WIP: exact amounts from the worked pipeline, and CSV exports."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from finance import reports
from finance.models import CustomerTransaction

from ..helpers import post, run_pipeline_to_proposal

pytestmark = pytest.mark.django_db(databases=["default", "finance"])


@pytest.fixture
def posted(world):
    _invoice, proposal = run_pipeline_to_proposal()
    return post(proposal)


def test_it_balances_the_trial_balance(posted):
    rows = reports.trial_balance(start=posted.invoice_date - timedelta(days=60), end=posted.invoice_date)
    by_account = {r["account"]: r for r in rows}
    assert sum(r["debit"] for r in rows) == sum(r["credit"] for r in rows)  # every voucher balances
    assert by_account["130100"]["closing"] == posted.total  # accounts receivable
    assert by_account["401100"]["closing"] == -posted.total  # invoiced revenue


def test_it_ages_open_customer_balances(posted):
    on_time = reports.ageing(as_of=posted.due_date)
    late = reports.ageing(as_of=posted.due_date + timedelta(days=45))
    assert (on_time[0]["current"], on_time[0]["total"]) == (posted.total, posted.total)
    assert (late[0]["current"], late[0]["days_31_60"]) == (0, posted.total)
    assert CustomerTransaction.objects.count() == 1


def test_it_reports_wip_per_project(posted, world):
    rows = {r["project_number"]: r for r in reports.wip()}
    # PRJ-1001's two approved entries were invoiced: nothing remains; PRJ-1002's are still in WIP.
    assert rows["PRJ-1001"]["remaining"] == 0 and rows["PRJ-1001"]["invoiced"] == posted.total
    assert rows["PRJ-1002"]["invoiced"] == 0 and rows["PRJ-1002"]["remaining"] > 0


@pytest.mark.parametrize("name", ["finance:trial_balance", "finance:ageing", "finance:wip"])
def test_it_exports_each_report_as_csv(posted, as_user, name):
    client = as_user(User.objects.get(username="accountant"))
    assert client.get(reverse(name)).status_code == 200
    response = client.get(reverse(name), {"export": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert len(rows) >= 2 and all(len(row) == len(rows[0]) for row in rows)
    assert any(Decimal(cell) for row in rows[1:] for cell in row if cell.replace(".", "").lstrip("-").isdigit())


def test_it_leaves_unbilled_sales_that_accrued_nothing_out_of_wip(ledger, staging):
    from finance.models import CostRevenueProfile
    from finance.services import importing

    accrued = staging.unbilled(project_number="PRJ-1001")
    staging.receive(accrued)
    importing.import_from_staging(triggered_by="test")
    CostRevenueProfile.objects.filter(legal_entity=ledger, code="TM").update(accrue_revenue_hour=False)
    staging.receive(staging.unbilled(project_number="PRJ-1001"))
    importing.import_from_staging(triggered_by="test")

    [row] = reports.wip()
    assert (row["project_number"], row["accrued"], row["remaining"]) == ("PRJ-1001", Decimal("1600"), Decimal("1600"))
