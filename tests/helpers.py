"""Small helpers that walk the pipeline through its services, as the workers would."""

from django.contrib.auth.models import User

from dataverse.models import Actual, ProjectContract, TransactionType
from dataverse.services import backlog, invoicing
from finance.models import InvoiceProposal
from finance.services import importing, posting
from projinv.dualwrite import relay


def sync() -> int:
    """Deliver every due change, both directions, until nothing is left."""
    total = 0
    while delivered := relay.deliver_due():
        total += delivered
    return total


def invoice_contract(number="PC-1001", *, pm=None):
    """Mark a contract's unbilled sales ready and create its proforma invoice."""
    pm = pm or User.objects.get(username="pm")
    contract = ProjectContract.objects.get(number=number)
    ids = list(Actual.objects.filter(contract=contract, transaction_type=TransactionType.UNBILLED_SALES)
               .values_list("pk", flat=True))
    backlog.mark_ready_to_invoice(actual_ids=ids, ready=True, by=pm)
    return invoicing.create_proforma_invoice(contract_id=contract.pk, by=pm)


def run_pipeline_to_proposal(number="PC-1001"):
    """Approved actuals staged and posted, an invoice confirmed and its proposal lines imported."""
    sync()
    importing.import_from_staging(triggered_by="test")
    invoice = invoice_contract(number)
    invoicing.confirm_proforma(invoice_id=invoice.pk, by=User.objects.get(username="pm"))
    sync()
    importing.import_from_staging(triggered_by="test")
    return invoice, InvoiceProposal.objects.get(number=invoice.number)


def post(proposal):
    return posting.post_proposal(proposal_id=proposal.pk, by="arclerk")


def assert_invariants_hold_once_settled():
    """Let in-flight work finish (deliver, import, deliver back), then check the whole system."""
    from projinv.dualwrite.invariants import check_invariants

    sync()
    importing.import_from_staging(triggered_by="test")
    sync()
    result = check_invariants(grace_minutes=0, triggered_by="test")
    assert result.ok, result.violations
