"""The Django admin shows every model; records that only services write are read-only there."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import User
from django.urls import reverse

from finance.models import InvoiceProposal, LedgerEntry

from .helpers import post, run_pipeline_to_proposal

APPS = ("dataverse", "finance", "dualwrite")
MODELS = [m for label in APPS for m in apps.get_app_config(label).get_models()]


def test_it_registers_every_model():
    assert [m._meta.label for m in MODELS if not admin.site.is_registered(m)] == []


@pytest.mark.django_db(databases=["default", "finance"])
def test_it_renders_every_list_and_change_page(world, as_user):
    run_pipeline_to_proposal()
    client = as_user(User.objects.get(username="admin"))
    for model in MODELS:
        opts = model._meta
        assert client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")).status_code == 200, opts
        if obj := model._default_manager.first():
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
            assert client.get(url).status_code == 200, opts


@pytest.mark.django_db(databases=["default", "finance"])
def test_it_keeps_posted_documents_read_only(world, as_user):
    _invoice, proposal = run_pipeline_to_proposal()
    post(proposal)
    client = as_user(User.objects.get(username="admin"))
    entry = LedgerEntry.objects.first()
    assert client.post(reverse("admin:finance_ledgerentry_change", args=[entry.pk]), {}).status_code == 403
    posted = InvoiceProposal.objects.get(pk=proposal.pk)
    response = client.post(reverse("admin:finance_invoiceproposal_change", args=[posted.pk]),
                           {"invoice_date": "2030-01-01", "due_date": "2030-01-31"})
    assert response.status_code == 403
    posted.refresh_from_db()
    assert str(posted.invoice_date) != "2030-01-01"
