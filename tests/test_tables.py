"""Rows rendered in one pass (projinv/tables.py, D33) make django-tables2's own markup, cell for cell."""

import re

import pytest
from django.contrib.auth.models import User
from django.template import RequestContext, Template
from django.test import RequestFactory
from django.utils import translation
from django_tables2 import RequestConfig

from dataverse import selectors
from dataverse.models import Invoice, InvoiceLineDetail, TimeEntry
from dataverse.services import entries
from dataverse.tables import AwaitingApprovalTable, BacklogTable, InvoiceLineDetailTable
from finance.tables import ProposalLineTable
from projinv.pages import LAZY_PAGES
from projinv.tables import QUICK_ROWS

from .helpers import invoice_contract, run_pipeline_to_proposal

pytestmark = pytest.mark.django_db(databases=["default", "finance"])


def rendered(make_table, template_name, query):
    request = RequestFactory().get("/", query)
    request.user = User.objects.get(username="pm")
    table = make_table()
    table.template_name = template_name
    RequestConfig(request, paginate={"per_page": 2, **LAZY_PAGES}).configure(table)
    html = Template("{% load django_tables2 %}{% render_table table %}").render(
        RequestContext(request, {"table": table}))
    # Whitespace between tags and the per-render CSRF mask aside, the markup must be the same.
    html = re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "csrf", html)
    return re.sub(r">\s+<", "><", html).strip()


def details(invoice, **kwargs):
    return lambda: InvoiceLineDetailTable(
        InvoiceLineDetail.objects.filter(invoice=invoice).select_related("invoice_line__contract_line"), **kwargs)


@pytest.fixture
def tables(world):
    """Each table of the four heavy pages, over rows with something to show in every column."""
    confirmed, proposal = run_pipeline_to_proposal("PC-1001")  # its details confirmed, its proposal lines
    draft = invoice_contract("PC-1002")  # backlog rows on a named draft
    submitted = TimeEntry.objects.filter(status=TimeEntry.Status.SUBMITTED).order_by("pk").values_list("pk", flat=True)
    entries.approve_time_entries(entry_ids=list(submitted[:2]), by=User.objects.get(username="pm"))  # not ready
    return {
        "backlog": lambda: BacklogTable(selectors.backlog()),
        "awaiting approval": lambda: AwaitingApprovalTable(selectors.awaiting_approval(), prefix="awaiting-"),
        "draft details": details(draft, editable=True),
        "confirmed details": details(Invoice.objects.get(number=confirmed.number), selectable=True),
        "proposal lines": lambda: ProposalLineTable(proposal.lines.all(), editable=True),
        "nothing": details(None),
    }


@pytest.mark.parametrize("language", ["en", "sv"])
@pytest.mark.parametrize("query", [{}, {"sort": "-amount"}, {"page": "2", "awaiting-page": "2"}])
def test_it_renders_the_rows_as_django_tables2_s_template_does(tables, language, query):
    with translation.override(language):
        for name, make_table in tables.items():
            quick = rendered(make_table, QUICK_ROWS, query)
            assert quick == rendered(make_table, "projinv/table.html", query), name
            assert "<tbody" in quick
