"""What Dataverse may send finance, through the bridge: staged actuals and proposal headers.

Both are idempotent on their business key (ON CONFLICT DO NOTHING): at-least-once delivery
becomes effectively-once here.
"""

import json
from datetime import date, timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, transaction

from ..models import InvoiceProposal
from ..selectors import payment_days

STAGE_ACTUALS_SQL = """
INSERT INTO finance_actualstaging (
    dataverse_actual_id, legal_entity, transaction_type, transaction_class, billing_type, project_number,
    contract_number, contract_line_name, customer_number, resource_name, role_name, invoice_number,
    invoiced_actual_id, transaction_date, accounting_date, quantity, price, amount, currency, description,
    status, wait_reason, received_at, accounting_currency, voucher)
SELECT r.actual_id, r.legal_entity, r.transaction_type, r.transaction_class, r.billing_type, r.project_number,
       coalesce(r.contract_number, ''), coalesce(r.contract_line_name, ''), coalesce(r.customer_number, ''),
       coalesce(r.resource_name, ''), coalesce(r.role_name, ''), coalesce(r.invoice_number, ''),
       r.invoiced_actual_id, r.transaction_date, r.accounting_date, r.quantity, r.price, r.amount, r.currency,
       coalesce(r.description, ''), 'received', '', now(), '', ''
  FROM jsonb_to_recordset(%s::jsonb) AS r(
       actual_id uuid, legal_entity text, transaction_type text, transaction_class text, billing_type text,
       project_number text, contract_number text, contract_line_name text, customer_number text,
       resource_name text, role_name text, invoice_number text, invoiced_actual_id uuid,
       transaction_date date, accounting_date date, quantity numeric, price numeric, amount numeric,
       currency text, description text)
ON CONFLICT (dataverse_actual_id) DO NOTHING
"""


@transaction.atomic(using="finance")
def receive_actuals(*, rows: list[dict]) -> int:
    """Stage actuals (one row per Dataverse actual, unique). Returns how many were new."""
    with connections["finance"].cursor() as cursor:
        cursor.execute(STAGE_ACTUALS_SQL, [json.dumps(rows, cls=DjangoJSONEncoder)])
        return cursor.rowcount


@transaction.atomic(using="finance")
def receive_invoice_proposal(*, header: dict) -> bool:
    """Create the proposal header for a confirmed proforma, at most once (BR-01, BR-02).

    Returns False when it already existed (a redelivery): nothing changes then.
    """
    days = payment_days(legal_entity=header["legal_entity"], customer_number=header["customer_number"])
    invoice_date = date.fromisoformat(str(header["invoice_date"]))
    _proposal, created = InvoiceProposal.objects.get_or_create(
        number=header["invoice_number"],
        defaults=dict(
            name=header["name"], legal_entity=header["legal_entity"], customer_number=header["customer_number"],
            contract_number=header["contract_number"], currency=header["currency"], invoice_date=invoice_date,
            due_date=invoice_date + timedelta(days=days),
            accounting_date=date.fromisoformat(str(header["accounting_date"])),
            expected_line_count=header["billed_sales_count"], dataverse_amount=header["amount"],
        ),
    )
    return created
