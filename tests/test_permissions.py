"""Every page and action, for every persona: allowed, 403, or the login page (issue #2).

A refused POST must change nothing; GET on an action is not allowed at all.
"""

from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from dataverse.models import (
    Actual,
    ContractLine,
    Entry,
    Invoice,
    InvoiceLineDetail,
    PriceList,
    ProjectContract,
    Resource,
    ResourceRole,
    TimeEntry,
    TransactionCategory,
)
from finance import setup_pages
from finance.models import (
    ExchangeRate,
    FiscalPeriod,
    ImportRun,
    IntegrationJournal,
    InvoiceProposal,
    LegalEntity,
    ProjectInvoice,
    Voucher,
)
from finance.services import inbound
from projinv.dualwrite.models import DataverseChange, MapState

from .helpers import post, run_pipeline_to_proposal

PM, ACC, AR, INT, OUT = "pm", "accountant", "arclerk", "integration", "outsider"
EVERYONE = {PM, ACC, AR, INT, OUT}

# url name, kwargs key (an object made by the fixture), who may see it
PAGES = [
    ("home", None, EVERYONE),
    ("dataverse:entries", None, {PM}),
    ("dataverse:actuals", None, {PM, ACC, INT}),
    ("dataverse:backlog", None, {PM}),
    ("dataverse:contracts", None, {PM}),
    ("dataverse:contract_detail", "contract_pk", {PM}),
    ("dataverse:schedule", None, {PM}),
    ("dataverse:invoices", None, {PM, ACC, INT}),
    ("dataverse:invoice_detail", "invoice", {PM, ACC, INT}),
    ("dataverse:detail_edit", "draft_detail", {PM}),
    ("dataverse:other_entries", None, {PM}),
    ("dataverse:milestone_backlog", None, {PM}),
    ("dataverse:contract_create", None, {PM}),
    ("dataverse:entry_create", None, {PM}),
    ("dataverse:approval_queue", None, {PM}),
    ("dataverse:lines", None, {PM}),
    ("dataverse:line_edit", "line", {PM}),
    ("dataverse:line_create", "contract", {PM}),
    ("dataverse:categories", None, {PM}),
    ("dataverse:category_create", None, {PM}),
    ("dataverse:category_edit", "category", {PM}),
    ("dataverse:roles", None, {PM}),
    ("dataverse:role_create", None, {PM}),
    ("dataverse:role_edit", "role", {PM}),
    ("dataverse:resources", None, {PM}),
    ("dataverse:resource_create", None, {PM}),
    ("dataverse:resource_edit", "resource", {PM}),
    ("dataverse:price_lists", None, {PM}),
    ("dataverse:price_list_detail", "price_list", {PM}),
    ("finance:staging", None, {ACC, INT}),
    ("finance:imports", None, {ACC, INT}),
    ("finance:journals", None, {ACC}),
    ("finance:journal_detail", "journal", {ACC}),
    ("finance:transactions", None, {ACC}),
    ("finance:proposals", None, {ACC, AR}),
    ("finance:proposal_detail", "proposal", {ACC, AR}),
    ("finance:invoices", None, {ACC, AR}),
    ("finance:customer_transactions", None, {ACC, AR}),
    ("finance:vouchers", None, {ACC, AR}),
    ("finance:voucher_detail", "voucher", {ACC, AR}),
    ("finance:trial_balance", None, {ACC, AR}),
    ("finance:ageing", None, {ACC, AR}),
    ("finance:wip", None, {ACC}),
    ("finance:setup", None, {ACC}),
    *[(f"finance:setup_{page.name}", None, {ACC}) for page in setup_pages.PAGES],
    *[(f"finance:setup_{p.name}_new", None, {ACC}) for p in setup_pages.PAGES if p.editable and p.can_add],
    *[(f"finance:setup_{p.name}_edit", f"setup_{p.name}", {ACC}) for p in setup_pages.PAGES if p.editable],
    ("dualwrite:overview", None, {INT}),
    ("dualwrite:errors", None, {INT}),
    ("dualwrite:activity", None, {INT}),
    ("dualwrite:reconciliation", None, {ACC, INT}),
    ("dualwrite:reconcile_invoice", "number", {ACC, INT}),
]

ACTIONS = [
    ("dataverse:entries_submit", None, {PM}),
    ("dataverse:entries_approve", None, {PM}),
    ("dataverse:entries_reject", None, {PM}),
    ("dataverse:entries_recall", None, {PM}),
    ("dataverse:backlog_ready", None, {PM}),
    ("dataverse:backlog_not_ready", None, {PM}),
    ("dataverse:invoice_create", "contract", {PM}),
    ("dataverse:invoice_confirm", "draft", {PM}),
    ("dataverse:invoice_refresh", "draft", {PM}),
    ("dataverse:detail_add", "draft", {PM}),
    ("dataverse:invoice_review", "draft", {PM}),
    ("dataverse:invoice_revise", "invoice", {PM}),
    ("dataverse:contracts_invoice", None, {PM}),
    ("dataverse:invoices_confirm", None, {PM}),
    ("dataverse:detail_delete", "draft_detail", {PM}),
    ("dataverse:other_entries_submit", None, {PM}),
    ("dataverse:other_entries_approve", None, {PM}),
    ("dataverse:other_entries_reject", None, {PM}),
    ("dataverse:other_entries_recall", None, {PM}),
    ("dataverse:line_delete", "line", {PM}),
    ("dataverse:line_milestones", "line", {PM}),
    ("dataverse:line_customers", "line", {PM}),
    ("dataverse:milestones_ready", None, {PM}),
    ("dataverse:milestones_not_ready", None, {PM}),
    ("dataverse:contract_update", "contract_pk", {PM}),
    ("dataverse:contract_status", "contract_pk", {PM}),
    ("finance:import_run", None, {ACC, AR}),
    ("finance:proposal_import", "proposal", {ACC, AR}),
    ("finance:proposal_post", "proposal", {ACC, AR}),
    ("finance:proposals_post", None, {ACC, AR}),
    ("finance:proposal_delete_lines", "proposal", {ACC, AR}),
    ("finance:proposal_dates", "proposal", {ACC, AR}),
    ("finance:proposal_tax_groups", "proposal", {ACC, AR}),
    ("finance:journal_reset", "journal", {ACC}),
    ("finance:fiscal_period_close", "setup_fiscal_periods", {ACC}),
    ("finance:fiscal_period_reopen", "setup_fiscal_periods", {ACC}),
    ("dualwrite:retry", None, {INT}),
    ("dualwrite:retry_all", None, {INT}),
    ("dualwrite:take", None, {INT}),
    ("dualwrite:dismiss", None, {INT}),
    ("dualwrite:replay", None, {INT}),
    ("dualwrite:sweep", None, {INT}),
    ("dualwrite:map_state", "map", {INT}),
    ("dualwrite:initial_sync", "master_map", {INT}),
    ("dualwrite:resync_invoice", "number", {INT}),
    ("dualwrite:resync_actuals", None, {INT}),
]


@pytest.fixture
def objects(world, db):
    """An invoice posted all the way, a second contract's draft, and the users."""
    invoice, proposal = run_pipeline_to_proposal("PC-1001")
    voucher = post(proposal).voucher
    User.objects.create_user(OUT, password="x")
    from .helpers import invoice_contract

    draft = invoice_contract("PC-1002")
    return {
        "invoice": {"pk": invoice.pk}, "proposal": {"pk": proposal.pk}, "voucher": {"pk": voucher.pk},
        "contract": {"contract_pk": ProjectContract.objects.get(number="PC-1002").pk}, "draft": {"pk": draft.pk},
        "draft_detail": {"pk": draft.details.first().pk},
        "contract_pk": {"pk": ProjectContract.objects.get(number="PC-1002").pk},
        "number": {"number": invoice.number}, "map": {"code": "msdyn_actuals"},
        "master_map": {"code": "msdyn_projects"},
        "journal": {"pk": IntegrationJournal.objects.first().pk}, **setup_records(),
        "line": {"pk": ProjectContract.objects.get(number="PC-1002").lines.get().pk},
        "category": {"pk": TransactionCategory.objects.get(name="Hotel").pk},
        "role": {"pk": ResourceRole.objects.get(name="Consultant").pk},
        "resource": {"pk": Resource.objects.order_by("pk").first().pk},
        "price_list": {"pk": PriceList.objects.get(name="USPM sales 2026").pk},
    }


def setup_records() -> dict:
    """One record of each editable set-up page; the demo seeds most, the rest are made here."""
    inbound.receive_projects(rows=[{"project_number": "PRJ-1001", "name": "ERP", "legal_entity": "USPM",
                                    "modified_on": "2026-01-01T00:00:00+00:00"}])
    ExchangeRate.objects.get_or_create(from_currency="EUR", to_currency="USD", valid_from="2026-01-01",
                                       defaults={"rate": "1.1"})
    FiscalPeriod.objects.get_or_create(legal_entity=LegalEntity.objects.get(code="USPM"), start="2099-01-01",
                                       defaults={"name": "2099-01", "end": "2099-01-31"})
    inbound.receive_on_account_transactions(rows=[{
        "milestone_id": "00000000-0000-4000-8000-000000000001", "contract_number": "PC-1001", "line_name": "FP",
        "project_number": "PRJ-1001", "legal_entity": "USPM", "name": "Go-live", "milestone_date": "2026-04-30",
        "amount": "5000", "currency": "USD", "modified_on": "2026-01-01T00:00:00+00:00"}])
    return {f"setup_{page.name}": {"pk": page.model.objects.order_by("pk").values_list("pk", flat=True).first()}
            for page in setup_pages.PAGES if page.editable}


class FormNesting(HTMLParser):
    """Counts forms opened inside forms: browsers drop the inner one, and its button posts the outer."""

    def __init__(self):
        super().__init__()
        self.depth = self.nested = 0

    def handle_starttag(self, tag, attrs):
        if tag == "form":
            self.nested += self.depth > 0
            self.depth += 1

    def handle_endtag(self, tag):
        if tag == "form":
            self.depth -= 1


def nested_forms(html: str) -> int:
    parser = FormNesting()
    parser.feed(html)
    return parser.nested


def state():
    """A fingerprint of everything a refused action might have changed."""
    return (
        list(TimeEntry.objects.order_by("pk").values_list("status", flat=True)),
        list(Entry.objects.order_by("pk").values_list("status", flat=True)),
        list(ProjectContract.objects.order_by("pk").values_list("status", "name", "modified_on")),
        list(ContractLine.objects.order_by("pk").values_list("pk", "name")),
        list(Actual.objects.order_by("pk").values_list("billing_status", flat=True)),
        list(Invoice.objects.order_by("pk").values_list("status", "total")),
        list(InvoiceLineDetail.objects.order_by("pk").values_list("pk", "quantity")),
        list(InvoiceProposal.objects.order_by("pk").values_list("status", "invoice_date", "due_date")),
        ProjectInvoice.objects.count(), ImportRun.objects.count(), Voucher.objects.count(),
        list(DataverseChange.objects.order_by("pk").values_list("status", "attempts")),
        list(MapState.objects.values_list("map_code", "state")),
    )


def url_for(name, key, objects):
    return reverse(name, kwargs=objects[key] if key else None)


@pytest.mark.django_db(databases=["default", "finance"])
@pytest.mark.parametrize("name,key,allowed", PAGES, ids=[p[0] for p in PAGES])
def test_it_shows_each_page_only_to_its_roles(name, key, allowed, objects, client, as_user):
    url = url_for(name, key, objects)
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith(reverse("login")), "anonymous → login"
    responses = {username: as_user(User.objects.get(username=username)).get(url) for username in EVERYONE}
    assert {u: r.status_code for u, r in responses.items()} == {u: 200 if u in allowed else 403 for u in EVERYONE}
    nesting = {u: nested_forms(r.content.decode()) for u, r in responses.items() if u in allowed}
    assert nesting == dict.fromkeys(allowed, 0)


@pytest.mark.django_db(databases=["default", "finance"])
@pytest.mark.parametrize("name,key,allowed", ACTIONS, ids=[a[0] for a in ACTIONS])
def test_it_refuses_each_action_to_other_roles_and_changes_nothing(name, key, allowed, objects, client, as_user):
    url = url_for(name, key, objects)
    before = state()
    response = client.post(url)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    for username in EVERYONE - allowed:
        assert as_user(User.objects.get(username=username)).post(url).status_code == 403, username
    assert state() == before


@pytest.mark.django_db(databases=["default", "finance"])
@pytest.mark.parametrize("name,key,allowed", ACTIONS, ids=[a[0] for a in ACTIONS])
def test_it_accepts_state_changes_only_as_post(name, key, allowed, objects, as_user):
    user = User.objects.get(username=sorted(allowed)[0])
    assert as_user(user).get(url_for(name, key, objects)).status_code == 405


@pytest.mark.django_db(databases=["default", "finance"])
def test_it_keeps_the_admin_to_staff(objects, as_user):
    response = as_user(User.objects.get(username=PM)).get(reverse("admin:index"))
    assert response.status_code == 302 and "/admin/login/" in response.url
    assert as_user(User.objects.get(username="admin")).get(reverse("admin:index")).status_code == 200
