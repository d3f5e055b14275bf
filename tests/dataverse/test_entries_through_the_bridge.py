"""An approved expense travels to finance like time, and is invoiced like time."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from dataverse.models import Actual, Entry
from dataverse.services import entries, invoicing

from ..helpers import assert_invariants_hold_once_settled, invoice_contract, sync

pytestmark = pytest.mark.django_db(databases=["default", "finance"])


def test_it_stages_journalizes_and_invoices_an_expense(world):
    from finance.models import ActualStaging
    from finance.services import importing

    entry = Entry.objects.filter(project__number="PRJ-1001", status="submitted", category__name="Hotel").get()
    entries.approve_entries(entry_ids=[entry.pk], by=world["pm"])
    uuids = {str(u) for u in Actual.objects.filter(entry=entry).values_list("uuid", flat=True)}
    sync()
    staged = ActualStaging.objects.filter(dataverse_actual_id__in=uuids)
    assert {(s.transaction_class, s.amount) for s in staged} == {("expense", Decimal(300)), ("expense", Decimal(330))}
    importing.import_from_staging(triggered_by="test")
    invoice = invoice_contract("PC-1001")
    assert invoice.details.filter(transaction_class="expense").get().amount == 330
    invoicing.confirm_proforma(invoice_id=invoice.pk, by=world["pm"])
    assert_invariants_hold_once_settled()


def test_it_keeps_what_an_actual_records_from_any_change(world):
    entry = Entry.objects.filter(status="submitted").first()
    actual = Actual.objects.get(pk=entries.approve_entries(entry_ids=[entry.pk], by=world["pm"])[0])
    for change in ({"entry": None}, {"transaction_category": None}, {"quantity": Decimal(9)}):
        with pytest.raises(IntegrityError, match="cannot be deleted or changed"), transaction.atomic():
            Actual.objects.filter(pk=actual.pk).update(**change)
    with pytest.raises(IntegrityError, match="cannot be deleted or changed"), transaction.atomic():
        with connection.cursor() as cursor:  # below the ORM's own protection: the database refuses too
            cursor.execute("DELETE FROM dataverse_actual WHERE id = %s", [actual.pk])
    Actual.objects.filter(pk=actual.pk).update(description="Hotel, two nights")  # descriptions stay editable
    assert Actual.objects.get(pk=actual.pk).entry_id == entry.pk
