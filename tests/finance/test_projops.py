"""Project Operations set-up in the import: line properties, project categories, the period unit, and
cost and revenue profiles with rules (domain.md §2.0, §2.3.4–5, §3.2; D42–D45)."""

from datetime import timedelta
from decimal import Decimal

import pytest

from finance.models import (
    ActualStaging,
    ContractBillingRule,
    CostRevenueProfile,
    CostRevenueProfileRule,
    IntegrationJournal,
    IntegrationJournalLine,
    IntegrationParameters,
    LedgerEntry,
    LineProperty,
    Project,
    ProjectCategory,
    ProjectGroup,
    ProjectTransaction,
)
from finance.services import importing, posting

pytestmark = pytest.mark.django_db(databases=["default", "finance"])

Status = ActualStaging.Status


def run():
    return importing.import_from_staging(triggered_by="test")


def staged(row: dict) -> ActualStaging:
    return ActualStaging.objects.get(dataverse_actual_id=row["actual_id"])


def ledger_of(row: dict) -> list[tuple]:
    return sorted(LedgerEntry.objects.filter(voucher__number=staged(row).voucher)
                  .values_list("posting_type", "accounting_amount"))


def test_it_journalizes_with_the_category_and_line_property_of_each_actual(ledger, staging):
    ProjectCategory.objects.create(legal_entity=ledger, code="TRAVEL", name="Travel", category_type="expense",
                                   transaction_category="Travel")
    hours = staging.unbilled()
    travel = staging.unbilled(transaction_class="expense", transaction_category="Travel", quantity=Decimal("1"),
                              price=Decimal("90"), amount=Decimal("90"))
    meals = staging.cost(transaction_class="expense", transaction_category="Meals")  # no such category here
    staging.receive(hours, travel, meals)

    run()

    lines = {line.staging.dataverse_actual_id: line
             for line in IntegrationJournalLine.objects.select_related("staging")}
    assert [(lines[r["actual_id"]].category, lines[r["actual_id"]].line_property) for r in (hours, travel, meals)] == [
        ("Hour", "CHARGEABLE"), ("TRAVEL", "CHARGEABLE"), ("Expense", "NONCHARGE")]
    transaction = ProjectTransaction.objects.get(dataverse_actual_id=travel["actual_id"])
    assert (transaction.category, transaction.line_property) == ("TRAVEL", "CHARGEABLE")


def test_it_holds_a_row_without_a_category_until_the_set_up_is_fixed(ledger, staging):
    parameters = IntegrationParameters.objects.get(legal_entity=ledger)
    parameters.fee_category = None
    parameters.save()
    fee = staging.unbilled(transaction_class="fee", quantity=Decimal("1"), price=Decimal("50"), amount=Decimal("50"))
    staging.receive(fee)

    result = run()

    assert (staged(fee).status, staged(fee).wait_reason, result.waiting_rows) == (
        Status.WAITING, "category_missing", 1)
    assert not IntegrationJournalLine.objects.exists()

    parameters.fee_category = ProjectCategory.objects.get(legal_entity=ledger, code="Fee")
    parameters.save()
    run()
    assert (staged(fee).status, staged(fee).wait_reason) == (Status.POSTED, "")


def test_it_holds_rows_until_the_billing_type_has_a_line_property(ledger, staging):
    IntegrationParameters.objects.filter(legal_entity=ledger).update(complimentary_line_property=None)
    gift = staging.unbilled(billing_type="complimentary")
    staging.receive(gift)

    run()
    assert staged(gift).wait_reason == "line_property_missing"

    IntegrationParameters.objects.filter(legal_entity=ledger).update(
        complimentary_line_property=LineProperty.objects.get(legal_entity=ledger, code="COMPLIMENT"))
    run()
    assert staged(gift).status == Status.POSTED


def test_it_makes_chargeability_on_the_proposal_follow_the_line_property(ledger, staging):
    # This legal entity bills non-chargeable work after all: its line property is chargeable.
    LineProperty.objects.filter(legal_entity=ledger, code="NONCHARGE").update(chargeable=True)

    proposal = staging.invoice(staging.unbilled(billing_type="non_chargeable"))

    line = proposal.lines.get()
    assert (line.billing_type, line.line_property, line.chargeable) == ("non_chargeable", "NONCHARGE", True)
    assert proposal.amount == Decimal("1600")


def test_it_posts_no_revenue_for_a_line_whose_property_is_not_chargeable(ledger, staging):
    LineProperty.objects.filter(legal_entity=ledger, code="CHARGEABLE").update(chargeable=False)

    proposal = staging.invoice(staging.unbilled())

    assert (proposal.amount, proposal.lines.get().chargeable) == (0, False)


def test_it_groups_journals_by_the_period_unit(ledger, staging):
    day = staging.DAY
    rows = [staging.cost(accounting_date=day), staging.cost(accounting_date=day + timedelta(days=1)),
            staging.cost(accounting_date=day.replace(month=day.month + 1))]
    staging.receive(*rows)
    IntegrationParameters.objects.filter(legal_entity=ledger).update(period_unit="days")

    run()
    assert sorted(IntegrationJournal.objects.values_list("period", flat=True)) == sorted(
        r["accounting_date"] for r in rows)

    more = [staging.cost(accounting_date=day), staging.cost(accounting_date=day.replace(year=day.year + 1))]
    staging.receive(*more)
    IntegrationParameters.objects.filter(legal_entity=ledger).update(period_unit="all")
    result = run()
    journal = IntegrationJournal.objects.get(run=result)  # one journal for the run, whatever the dates
    assert (journal.period, journal.lines.count()) == (None, 2)


def test_it_takes_the_most_specific_profile_rule(ledger, staging):
    quiet = CostRevenueProfile.objects.create(legal_entity=ledger, code="NOACCRUE", name="No accrual")
    accruing = CostRevenueProfile.objects.get(legal_entity=ledger, code="TM")
    group = ProjectGroup.objects.get(legal_entity=ledger, code="TM")
    Project.objects.create(project_number="PRJ-2001", legal_entity="USPM", project_group=group,
                           modified_on="2026-03-01T00:00:00Z")
    Project.objects.create(project_number="PRJ-2002", legal_entity="USPM", project_group=group,
                           modified_on="2026-03-01T00:00:00Z")
    Project.objects.create(project_number="PRJ-1001", legal_entity="USPM", modified_on="2026-03-01T00:00:00Z")
    # The group does not accrue, one contract does, one project of it does not again.
    CostRevenueProfileRule.objects.create(legal_entity=ledger, profile=quiet, project_group=group)
    CostRevenueProfileRule.objects.create(legal_entity=ledger, profile=accruing, contract_number="PC-2000")
    CostRevenueProfileRule.objects.create(legal_entity=ledger, profile=quiet, project_number="PRJ-2003")
    by_all = staging.unbilled(project_number="PRJ-1001", contract_number="PC-1001")
    by_group = staging.unbilled(project_number="PRJ-2001", contract_number="PC-1001")
    by_contract = staging.unbilled(project_number="PRJ-2002", contract_number="PC-2000")
    by_project = staging.unbilled(project_number="PRJ-2003", contract_number="PC-2000")
    staging.receive(by_all, by_group, by_contract, by_project)

    run()

    profiles = dict(IntegrationJournalLine.objects.values_list("staging__dataverse_actual_id", "profile"))
    assert [profiles[r["actual_id"]] for r in (by_all, by_group, by_contract, by_project)] == [
        "TM", "NOACCRUE", "TM", "NOACCRUE"]
    accrual = [("accrued_revenue", Decimal("-1600.00")), ("wip_sales_value", Decimal("1600.00"))]
    assert [ledger_of(r) for r in (by_all, by_group, by_contract, by_project)] == [accrual, [], accrual, []]
    assert staged(by_group).voucher == ""  # nothing reached the ledger, nothing to write back


def test_it_takes_the_fixed_price_profile_for_a_fixed_price_line_and_waits_without_one(ledger, staging):
    ContractBillingRule.objects.create(contract_number="PC-1001", line_name="Fixed price", billing_method="fp",
                                       modified_on="2026-03-01T00:00:00Z")
    cost = staging.cost(contract_line_name="Fixed price")
    staging.receive(cost)
    CostRevenueProfileRule.objects.filter(profile__code="FP").delete()

    run()
    assert (staged(cost).status, staged(cost).wait_reason) == (Status.WAITING, "profile_missing")

    CostRevenueProfileRule.objects.create(legal_entity=ledger,
                                          profile=CostRevenueProfile.objects.get(legal_entity=ledger, code="FP"))
    run()
    line = IntegrationJournalLine.objects.get(staging=staged(cost))
    assert (line.profile, line.ledger_posting) == ("FP", "cost_pl")


def test_it_posts_costs_to_the_balance_or_not_at_all_as_the_profile_says(ledger, staging):
    CostRevenueProfile.objects.filter(legal_entity=ledger, code="TM").update(
        post_costs_hour="balance", post_costs_expense="no_ledger", accrue_revenue_hour=False,
        accrue_revenue_expense=False)
    hours, expense = staging.cost(), staging.cost(transaction_class="expense")
    staging.receive(hours, expense)

    run()

    assert ledger_of(hours) == [("cost_offset", Decimal("-800.00")), ("wip_cost_value", Decimal("800.00"))]
    assert (staged(expense).status, staged(expense).voucher, ledger_of(expense)) == (Status.POSTED, "", [])


def test_it_reverses_at_invoicing_only_the_wip_the_profile_accrued(ledger, staging):
    CostRevenueProfile.objects.filter(legal_entity=ledger, code="TM").update(accrue_revenue_hour=False)
    proposal = staging.invoice(staging.unbilled())

    invoice = posting.post_proposal(proposal_id=proposal.pk, by="test")

    assert sorted(invoice.voucher.entries.values_list("posting_type", "accounting_amount")) == [
        ("customer_balance", Decimal("1600.00")), ("invoiced_revenue", Decimal("-1600.00"))]


def test_it_matches_the_demo_s_transaction_categories_to_its_project_categories(ledger, staging):
    airfare = staging.unbilled(transaction_class="expense", transaction_category="Airfare", quantity=Decimal("1"),
                               price=Decimal("440"), amount=Decimal("440"))
    fee = staging.unbilled(transaction_class="fee", transaction_category="Setup fee", quantity=Decimal("1"),
                           price=Decimal("500"), amount=Decimal("500"))
    staging.receive(airfare, fee)

    run()

    assert [ProjectTransaction.objects.get(dataverse_actual_id=r["actual_id"]).category for r in (airfare, fee)] == [
        "AIRFARE", "SETUP-FEE"]


def test_it_takes_the_item_sales_tax_group_of_the_transaction_s_category(ledger, staging):
    from finance.models import ItemSalesTaxGroup, SalesTaxGroup, TaxRate

    goods = ItemSalesTaxGroup.objects.create(legal_entity=ledger, code="GOODS", name="Goods")
    TaxRate.objects.create(sales_tax_group=SalesTaxGroup.objects.get(legal_entity=ledger, code="EXEMPT"),
                           item_tax_group=goods, percent=Decimal("0"))
    ProjectCategory.objects.create(legal_entity=ledger, code="LAPTOP", name="Laptops", category_type="item",
                                   transaction_category="Laptop", item_tax_group="GOODS")

    proposal = staging.invoice(staging.unbilled(transaction_class="material", transaction_category="Laptop"))
    hours = staging.invoice(staging.unbilled(), invoice="INV-900002")

    assert [p.lines.get().item_tax_group for p in (proposal, hours)] == ["GOODS", "SERV"]


def test_it_holds_an_actual_ahead_of_its_contract_billing_rule_then_posts_it_by_the_line_s_profile(ledger, staging):
    cost = staging.cost(contract_line_name="Fixed price")
    staging.receive(cost)

    run()
    assert (staged(cost).status, staged(cost).wait_reason) == (Status.WAITING, "billing_rule_missing")
    assert str(staged(cost).get_wait_reason_display()) == (
        "The contract line has no contract billing rule in finance yet")
    assert not IntegrationJournalLine.objects.exists()

    ContractBillingRule.objects.create(contract_number="PC-1001", line_name="Fixed price", billing_method="fp",
                                       modified_on="2026-03-01T00:00:00Z")
    run()
    line = IntegrationJournalLine.objects.get(staging=staged(cost))
    assert (staged(cost).status, line.profile) == (Status.POSTED, "FP")


def test_it_holds_an_actual_ahead_of_its_project_while_a_project_group_rule_could_decide(ledger, staging):
    quiet = CostRevenueProfile.objects.create(legal_entity=ledger, code="NOACCRUE", name="No accrual")
    group = ProjectGroup.objects.get(legal_entity=ledger, code="TM")
    CostRevenueProfileRule.objects.create(legal_entity=ledger, profile=quiet, project_group=group)
    unbilled = staging.unbilled(project_number="PRJ-2001")
    staging.receive(unbilled)

    run()
    assert (staged(unbilled).status, staged(unbilled).wait_reason) == (Status.WAITING, "project_missing")

    Project.objects.create(project_number="PRJ-2001", legal_entity="USPM", modified_on="2026-03-01T00:00:00Z")
    Project.objects.filter(project_number="PRJ-2001").update(project_group=group)
    run()
    assert IntegrationJournalLine.objects.get(staging=staged(unbilled)).profile == "NOACCRUE"
