"""The master-data maps: what Dataverse masters reaches finance as a reference copy, every change
in order, an old change never over a newer one, deletes included; and milestones as on-account
transactions, invoiced through to the ledger."""

from datetime import date
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.urls import reverse

from dataverse.models import Actual, ContractLine, Invoice, Milestone, Project, ProjectContract, TransactionType
from dataverse.services import contract_lines, invoicing, masterdata, milestones
from finance import models as fin
from finance.services import importing
from projinv.domain import DomainError
from projinv.dualwrite import errors
from projinv.dualwrite.initial_sync import run_initial_sync
from projinv.dualwrite.maps import MASTER_DATA
from projinv.dualwrite.models import Change, DataverseChange

from ..helpers import assert_invariants_hold_once_settled, post, sync

pytestmark = pytest.mark.django_db(databases=["default", "finance"])


def test_it_gives_finance_the_contracts_customers_lines_projects_and_categories(world):
    sync()
    contract = fin.ProjectContract.objects.get(contract_number="PC-1001")
    assert (contract.legal_entity, contract.customer_number, contract.currency, contract.active) == (
        "USPM", "C-1001", "USD", True)
    assert fin.FundingSource.objects.filter(contract_number="PC-1001", customer_number="C-1001",
                                            is_primary=True, active=True).exists()
    line = ContractLine.objects.get(contract__number="PC-1001")
    rule = fin.ContractBillingRule.objects.get(contract_number="PC-1001", line_name=line.name)
    assert (rule.project_number, rule.billing_method) == (line.project.number, line.billing_method)
    assert set(fin.Project.objects.values_list("project_number", flat=True)) == {"PRJ-1001", "PRJ-1002"}
    assert fin.TransactionCategory.objects.filter(category="Hotel", transaction_class="expense").exists()
    assert_invariants_hold_once_settled()


def test_it_delivers_a_record_s_changes_in_order_and_never_an_old_one_over_a_newer(world):
    sync()
    project = Project.objects.get(number="PRJ-1001")
    for name in ("ERP rollout, phase 1", "ERP rollout, phase 2"):
        masterdata.update_project(project_id=project.pk, by=world["pm"], name=name,
                                  cost_price_list_id=project.cost_price_list_id)
    first, second = DataverseChange.objects.filter(map_code="msdyn_projects", status=Change.Status.PENDING)
    assert first.ordering_key == second.ordering_key == "PRJ-1001"
    sync()
    assert fin.Project.objects.get(project_number="PRJ-1001").name == "ERP rollout, phase 2"

    errors.replay(source="dataverse", change_ids=[first.pk], by="integration")  # the old one, again
    sync()
    assert fin.Project.objects.get(project_number="PRJ-1001").name == "ERP rollout, phase 2"


def test_it_tells_finance_of_a_renamed_line_by_retiring_the_old_rule(world):
    sync()
    line = ContractLine.objects.get(contract__number="PC-1002")
    old_name = line.name
    contract_lines.save_contract_line(contract_id=line.contract_id, line_id=line.pk, name="Consulting, 2027",
                                      project_id=line.project_id, billing_method=line.billing_method,
                                      by=world["pm"])
    sync()
    rules = dict(fin.ContractBillingRule.objects.filter(contract_number="PC-1002")
                 .values_list("line_name", "active"))
    assert rules == {old_name: False, "Consulting, 2027": True}


def test_it_invoices_a_milestone_through_its_on_account_transaction_to_a_balanced_voucher(world):
    contract = ProjectContract.objects.get(number="PC-1001")
    line = contract_lines.save_contract_line(
        contract_id=contract.pk, name="Fixed fee", project_id=contract.lines.get().project_id, billing_method="fp",
        include_time=False, contracted_amount=Decimal(10000), by=world["pm"])
    first, _second = milestones.set_milestones(line_id=line.pk, by=world["pm"], milestones=[
        {"name": "Design signed off", "milestone_date": date(2026, 11, 2), "amount": Decimal(4000), "tax": 0},
        {"name": "Go-live", "milestone_date": date(2026, 12, 1), "amount": Decimal(6000), "tax": 0}])
    sync()
    on_account = fin.OnAccountTransaction.objects.get(milestone_id=first.uuid)
    assert (on_account.amount, on_account.contract_number, on_account.line_name) == (4000, "PC-1001", "Fixed fee")

    milestones.mark_milestones_ready(milestone_ids=[first.pk], ready=True, by=world["pm"])
    invoice = invoicing.create_proforma_invoice(contract_id=contract.pk, by=world["pm"])
    invoicing.confirm_proforma(invoice_id=invoice.pk, by=world["pm"])
    sync()
    importing.import_from_staging(triggered_by="test")
    proposal = fin.InvoiceProposal.objects.get(number=invoice.number)
    milestone_line = proposal.lines.get(transaction_class="milestone")
    assert milestone_line.amount == Decimal(4000)
    posted = post(proposal)
    sync()
    entries = fin.LedgerEntry.objects.filter(voucher=posted.voucher)
    assert entries.aggregate(total=Sum("amount"))["total"] == 0
    billed = Actual.objects.get(invoice=invoice, milestone=first, transaction_type=TransactionType.BILLED_SALES)
    assert billed.voucher == posted.voucher.number
    assert Invoice.objects.get(pk=invoice.pk).status == Invoice.Status.POSTED
    assert Milestone.objects.get(pk=first.pk).invoice_status == Milestone.InvoiceStatus.CUSTOMER_INVOICE_POSTED
    assert_invariants_hold_once_settled()


def test_it_resends_every_record_of_a_map_on_initial_sync_and_finance_keeps_the_newest(world):
    sync()
    fin.Project.objects.all().delete()  # a new finance environment
    assert run_initial_sync(map_code="msdyn_projects") == Project.objects.count()
    assert run_initial_sync(map_code="msdyn_projects") == Project.objects.count()  # pressed twice
    sync()
    assert set(fin.Project.objects.values_list("project_number", flat=True)) == set(
        Project.objects.values_list("number", flat=True))
    with pytest.raises(DomainError, match="Only master-data maps"):
        run_initial_sync(map_code="msdyn_actuals")


def test_it_offers_the_initial_sync_on_the_overview_for_master_data_maps_only(world, as_user):
    response = as_user(world["integration"]).get(reverse("dualwrite:overview"))
    for code in MASTER_DATA:
        assert reverse("dualwrite:initial_sync", args=[code]).encode() in response.content
    assert reverse("dualwrite:initial_sync", args=["msdyn_actuals"]).encode() not in response.content
    response = as_user(world["integration"]).post(reverse("dualwrite:initial_sync", args=["msdyn_projects"]),
                                                  follow=True)
    assert b"records queued for finance" in response.content
