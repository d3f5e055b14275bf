"""The accountant's set-up pages: lists at a constant query count, create and edit with clear errors,
fiscal periods closed and reopened (issue #4 "editable in the portal")."""

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from finance import setup_pages
from finance.models import (
    CostRevenueProfile,
    CostRevenueProfileRule,
    FiscalPeriod,
    IntegrationParameters,
    LedgerAccount,
    LegalEntity,
    PostingSetup,
    ProjectCategory,
    ProjectGroup,
)

pytestmark = pytest.mark.django_db(databases=["default", "finance"])


@pytest.fixture
def accountant(world, as_user):
    return as_user(world["accountant"])


def queries(client, url) -> int:
    with CaptureQueriesContext(connections["default"]) as default, \
            CaptureQueriesContext(connections["finance"]) as finance:
        assert client.get(url).status_code == 200
    return len(default) + len(finance)


def grow(entities):
    """More of every set-up record with related columns: a second legal entity, enabled."""
    entity = entities.create("DEMF", currency="EUR")
    group = ProjectGroup.objects.create(legal_entity=entity, code="FP", name="Fixed price")
    CostRevenueProfileRule.objects.create(legal_entity=entity, profile=entity.cost_revenue_profiles.first(),
                                          project_group=group)
    ProjectCategory.objects.create(legal_entity=entity, code="TRAVEL", name="Travel", category_type="expense")


@pytest.mark.parametrize("page", setup_pages.PAGES, ids=[p.slug for p in setup_pages.PAGES])
def test_it_lists_each_set_up_page_at_a_constant_query_count(page, accountant, entities):
    url = reverse(f"finance:setup_{page.name}")
    before = queries(accountant, url)
    grow(entities)

    assert queries(accountant, url) == before


def test_it_creates_a_ledger_account_and_refuses_a_duplicate_with_a_form_error(accountant):
    entity = LegalEntity.objects.get(code="USPM")
    url = reverse("finance:setup_ledger_accounts_new")

    response = accountant.post(url, {"legal_entity": entity.pk, "number": "132900", "name": "WIP other"})
    assert response.status_code == 302
    count = LedgerAccount.objects.count()
    again = accountant.post(url, {"legal_entity": entity.pk, "number": "132900", "name": "Twice"})

    assert again.status_code == 200 and "already exists" in again.content.decode()
    assert LedgerAccount.objects.count() == count


def test_it_refuses_a_posting_set_up_account_missing_from_the_chart(accountant):
    setup = PostingSetup.objects.get(legal_entity__code="USPM")
    fields = {name: getattr(setup, name) for name in PostingSetup.ACCOUNT_FIELDS}

    response = accountant.post(reverse("finance:setup_posting_setups_edit", args=[setup.pk]),
                               {**fields, "legal_entity": setup.legal_entity_id, "cost": "999999"})

    assert response.status_code == 200
    assert "Main account 999999 is not in the chart of accounts" in response.content.decode()
    setup.refresh_from_db()
    assert setup.cost == "600100"


def test_it_enables_a_new_legal_entity_for_project_operations(accountant):
    response = accountant.post(reverse("finance:setup_legal_entities_new"), {
        "code": "GBPM", "name": "Contoso UK", "accounting_currency": "GBP", "roll_to_open_period": "on"})

    assert response.status_code == 302
    entity = LegalEntity.objects.get(code="GBPM")
    parameters = IntegrationParameters.objects.get(legal_entity=entity)
    assert (parameters.period_unit, parameters.chargeable_line_property.code, parameters.hour_category.code) == (
        "months", "CHARGEABLE", "Hour")
    assert set(entity.cost_revenue_profiles.values_list("code", flat=True)) == {"TM", "FP"}


def test_it_refuses_a_profile_rule_naming_two_criteria(accountant):
    entity = LegalEntity.objects.get(code="USPM")
    profile = CostRevenueProfile.objects.get(legal_entity=entity, code="TM")
    count = CostRevenueProfileRule.objects.count()

    response = accountant.post(reverse("finance:setup_profile_rules_new"), {
        "legal_entity": entity.pk, "profile": profile.pk, "project_number": "PRJ-1001", "contract_number": "PC-1001"})

    assert response.status_code == 200 and "A rule names one project" in response.content.decode()
    assert CostRevenueProfileRule.objects.count() == count


def test_it_refuses_revenue_accrual_on_costs_not_posted_to_profit_and_loss(accountant):
    profile = CostRevenueProfile.objects.get(legal_entity__code="USPM", code="TM")

    response = accountant.post(reverse("finance:setup_profiles_edit", args=[profile.pk]), {
        "legal_entity": profile.legal_entity_id, "code": "TM", "name": "T&M", "billing_method": "tm",
        "post_costs_hour": "balance", "post_costs_expense": "pl", "post_costs_item": "pl",
        "on_account_invoicing": "balance", "accrue_revenue_hour": "on"})

    assert response.status_code == 200 and "Revenue can accrue only" in response.content.decode()
    profile.refresh_from_db()
    assert profile.post_costs_hour == "pl"


def test_it_closes_and_reopens_a_fiscal_period(accountant):
    period = FiscalPeriod.objects.create(legal_entity=LegalEntity.objects.get(code="USPM"), name="2026-01",
                                         start="2026-01-01", end="2026-01-31")
    page = accountant.get(reverse("finance:setup_fiscal_periods_edit", args=[period.pk]))
    assert reverse("finance:fiscal_period_close", args=[period.pk]) in page.content.decode()

    accountant.post(reverse("finance:fiscal_period_close", args=[period.pk]))
    period.refresh_from_db()
    assert period.closed
    again = accountant.post(reverse("finance:fiscal_period_close", args=[period.pk]), follow=True)
    assert "already closed" in again.content.decode()

    accountant.post(reverse("finance:fiscal_period_reopen", args=[period.pk]))
    period.refresh_from_db()
    assert not period.closed


def test_it_never_changes_a_legal_entity_s_code_that_staging_rows_name(accountant):
    entity = LegalEntity.objects.get(code="USPM")

    response = accountant.post(reverse("finance:setup_legal_entities_edit", args=[entity.pk]), {
        "code": "XXXX", "name": "Renamed", "accounting_currency": "USD", "roll_to_open_period": "on",
        "default_item_tax_group": "SERV"})

    entity.refresh_from_db()
    assert (response.status_code, entity.code, entity.name) == (302, "USPM", "Renamed")


def stale_form(monkeypatch, page_slug, meanwhile):
    """The page's form, with `meanwhile` committed after the record was read and before it is saved."""
    page = setup_pages.BY_SLUG[page_slug]
    form_class = page.form_class()

    class Stale(form_class):
        def clean(self):
            meanwhile()
            return super().clean()

    monkeypatch.setattr(setup_pages.SetupPage, "form_class",
                        lambda self: Stale if self.slug == page_slug else form_class)


def test_it_keeps_a_bridge_upsert_made_while_the_project_page_was_open(accountant, monkeypatch):
    from finance.models import Project
    from finance.services import inbound

    inbound.receive_projects(rows=[{"project_number": "PRJ-1001", "name": "ERP rollout", "legal_entity": "USPM",
                                    "deleted": False, "modified_on": "2026-01-01T00:00:00+00:00"}])
    project = Project.objects.get(project_number="PRJ-1001")
    group = ProjectGroup.objects.filter(legal_entity__code="USPM").first()
    stale_form(monkeypatch, "projects", lambda: inbound.receive_projects(rows=[{
        "project_number": "PRJ-1001", "name": "Renamed in Dataverse", "legal_entity": "USPM", "deleted": False,
        "modified_on": "2099-01-01T00:00:00+00:00"}]))

    response = accountant.post(reverse("finance:setup_projects_edit", args=[project.pk]),
                               {"project_group": group.pk})

    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.name, project.project_group_id) == ("Renamed in Dataverse", group.pk)


def test_it_refuses_a_stale_item_tax_group_once_an_import_took_the_milestone(accountant, monkeypatch):
    from finance.models import OnAccountTransaction

    on_account = OnAccountTransaction.objects.create(
        milestone_id="00000000-0000-4000-8000-000000000009", contract_number="PC-1001", legal_entity="USPM",
        milestone_date="2026-03-10", amount=5000, currency="USD", modified_on="2026-03-01T00:00:00Z")
    stale_form(monkeypatch, "on-account-transactions", lambda: OnAccountTransaction.objects.filter(
        pk=on_account.pk).update(status=OnAccountTransaction.Status.INVOICE_PROPOSAL))  # the import, meanwhile

    response = accountant.post(reverse("finance:setup_on_account_transactions_edit", args=[on_account.pk]),
                               {"item_tax_group": "SERV"})

    assert "cannot change now" in response.content.decode()
    on_account.refresh_from_db()
    assert (on_account.status, on_account.item_tax_group) == (OnAccountTransaction.Status.INVOICE_PROPOSAL, "")


def test_it_sends_an_anonymous_visitor_of_the_set_up_pages_to_the_login_page(world, client):
    from finance.models import Project

    project = Project.objects.create(project_number="PRJ-9001", legal_entity="USPM", modified_on="2026-03-01T00:00:00Z")
    for url in (reverse("finance:setup"), reverse("finance:setup_legal_entities_new"),
                reverse("finance:setup_projects_edit", args=[project.pk])):
        response = client.get(url)
        assert (response.status_code, response["Location"]) == (302, f"{reverse('login')}?next={url}")
