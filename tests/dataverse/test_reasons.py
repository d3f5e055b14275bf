"""Worker-written reasons are stored as a code and parameters, and put into words when read."""

import pytest
from django.utils import translation

from dataverse.models import Invoice
from dataverse.reasons import Reason, describe
from dataverse.services import bulk, invoicing
from dataverse.tasks import confirm_scheduled

from ..helpers import invoice_contract

pytestmark = pytest.mark.django_db(databases=["default", "finance"])
Bulk = Invoice.BulkStatus


def test_it_stores_a_refusal_as_a_code_with_parameters(world):
    invoice = invoice_contract("PC-1001")
    bulk.schedule_confirmation(invoice_ids=[invoice.pk], by=world["pm"])
    invoicing.confirm_proforma(invoice_id=invoice.pk, by=world["pm"])  # confirmed meanwhile, by hand
    assert confirm_scheduled(invoice.pk, world["pm"].pk) == Bulk.FAILED
    invoice.refresh_from_db()
    assert (invoice.bulk_reason, invoice.bulk_params) == (Reason.NOT_EDITABLE, {"number": invoice.number,
                                                                                "status": "confirmed"})
    assert invoice.bulk_message == f"Invoice {invoice.number} is Confirmed and cannot be confirmed."
    draft = invoice_contract("PC-1002")
    bulk.schedule_confirmation(invoice_ids=[draft.pk], by=world["pm"])
    draft.details.all().delete()  # nothing left to confirm
    assert confirm_scheduled(draft.pk, world["pm"].pk) == Bulk.FAILED
    draft.refresh_from_db()
    assert (draft.bulk_reason, draft.bulk_params) == (Reason.NO_DETAILS, {"number": draft.number})
    assert draft.bulk_message == f"Invoice {draft.number} has no details: there is nothing to confirm."


@pytest.fixture
def swedish():
    """A Swedish catalogue holding the two strings (the shipped catalogues are not translated yet)."""
    from django.utils.translation import trans_real

    catalog = trans_real.translation("sv")._catalog
    words = {"Invoice %(number)s is %(status)s and cannot be confirmed.":
             "Faktura %(number)s är %(status)s och kan inte bekräftas.", "Confirmed": "Bekräftad"}
    saved = {key: catalog.get(key) for key in words}
    for key, value in words.items():
        catalog[key] = value
    yield
    for key, value in saved.items():
        catalog[key] = value if value is not None else key  # untranslated: the msgid itself


def test_it_puts_a_stored_reason_into_the_readers_language(world, swedish):
    invoice = invoice_contract("PC-1001")
    Invoice.objects.filter(pk=invoice.pk).update(bulk_status=Bulk.FAILED, bulk_reason=Reason.NOT_EDITABLE,
                                                 bulk_params={"number": invoice.number, "status": "confirmed"})
    invoice.refresh_from_db()
    assert invoice.bulk_message == f"Invoice {invoice.number} is Confirmed and cannot be confirmed."
    with translation.override("sv"):
        assert invoice.bulk_message == f"Faktura {invoice.number} är Bekräftad och kan inte bekräftas."


def test_it_keeps_other_systems_refusals_and_unexpected_errors_readable():
    assert describe(Reason.REFUSED, {"message": "The map is stopped."}) == "The map is stopped."
    assert describe(Reason.UNEXPECTED, {"error": "OperationalError: deadlock"}) == (
        "Unexpected error: OperationalError: deadlock")
    assert describe("", {}) == ""
    assert describe("from_the_future", {"x": 1}) == "from_the_future {'x': 1}"


def test_it_stores_a_scheduled_runs_result_as_a_code(world):
    from dataverse.models import ContractLine, InvoiceSchedule, ProjectContract
    from dataverse.services import schedules

    line = ContractLine.objects.get(contract__number="PC-1002")
    ProjectContract.objects.filter(pk=line.contract_id).update(status="closed")
    row = InvoiceSchedule.objects.create(contract_line=line, run_date=line.contract.actuals.first().transaction_date)
    schedules.run_invoice_schedules(today=row.run_date, by=world["pm"])
    row.refresh_from_db()
    assert (row.run_status, row.result_code, row.result_params) == (
        InvoiceSchedule.RunStatus.FAILED, Reason.CONTRACT_NOT_ACTIVE, {"number": "PC-1002"})
    assert row.message == "Contract PC-1002 is not active."
