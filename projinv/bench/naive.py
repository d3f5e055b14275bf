"""The naive Django version of each stage: a Python loop of `save()`, one row at a time.

Timed on a small sample of the stage's real input, inside transactions that are rolled back
(so the benchmark's data is untouched), then extrapolated to the stage's volume. It is the
generous kind of naive: one transaction around the loop, not a commit per row. What it shows is
the gain of the set-based services over the obvious implementation.
"""

from django.db import transaction
from django.utils import timezone

from dataverse import models as dv
from dataverse import selectors as dv_selectors
from finance import models as fin
from finance import selectors as fin_selectors
from finance.services.posting import exchange_rate
from projinv.dualwrite.maps import ACTUALS
from projinv.dualwrite.models import DataverseChange, FinanceChange

from .timing import stopwatch

SAMPLE = 100  # rows per naive sample


class _Rollback(Exception):
    pass


def timed_rolled_back(work) -> float:
    """Seconds `work()` takes in one transaction per database, which is then rolled back."""
    with stopwatch() as elapsed:
        try:
            with transaction.atomic(using="default"), transaction.atomic(using="finance"):
                work()
                raise _Rollback
        except _Rollback:
            pass
    return elapsed()


def _queue(model, map_code: str, row: dict, key) -> None:
    model(map_code=map_code, key=str(key), payload=row, row_count=1).save()


def approve(entry_ids: list[int], user) -> float:
    def work():
        now = timezone.now()
        for entry in dv.TimeEntry.objects.filter(pk__in=entry_ids).order_by("pk"):
            project = dv.Project.objects.select_related("cost_price_list").get(pk=entry.project_id)
            cost_price = dv.RolePrice.objects.get(price_list=project.cost_price_list_id, role=entry.role_id).price
            line = dv.ContractLine.objects.select_related("contract").filter(
                project_id=entry.project_id, include_time=True, contract__status="active").first()
            common = dict(transaction_class="time", project_id=entry.project_id, task_id=entry.task_id,
                          resource_id=entry.resource_id, role_id=entry.role_id, time_entry=entry,
                          transaction_date=entry.date, accounting_date=entry.date, quantity=entry.hours,
                          description=entry.description, contract=line.contract, contract_line=line,
                          customer_id=line.contract.customer_id)
            cost = dv.Actual(transaction_type="cost", billing_type="not_available", price=cost_price,
                             amount=entry.hours * cost_price, currency=project.cost_price_list.currency, **common)
            cost.save()
            sales_price = dv.RolePrice.objects.get(price_list=line.contract.sales_price_list_id,
                                                   role=entry.role_id).price
            unbilled = dv.Actual(transaction_type="unbilled_sales", billing_type="chargeable",
                                 billing_status="unbilled_sales_created", price=sales_price,
                                 amount=entry.hours * sales_price, currency=line.contract.currency, **common)
            unbilled.save()
            dv.TransactionConnection(transaction1=unbilled, transaction1_role="unbilled_sales",
                                     transaction2=cost, transaction2_role="cost").save()
            entry.status, entry.approved_at, entry.approved_by = "approved", now, user
            entry.save()
            for actual in (cost, unbilled):
                _queue(DataverseChange, "msdyn_actuals", dv_selectors.synced_actual_rows([actual.pk])[0], actual.uuid)

    return timed_rolled_back(work)


STAGING_FIELDS = {f.attname: f for f in fin.ActualStaging._meta.concrete_fields}


def bridge(rows: list[dict]) -> float:
    """`rows`: msdyn_actuals payload rows (the outbox's); one staging row saved per actual."""
    def work():
        for row in ACTUALS.translate(rows):
            actual_id = row.pop("actual_id")
            fin.ActualStaging(dataverse_actual_id=actual_id, **{
                k: ("" if v is None and not STAGING_FIELDS[k].null else v) for k, v in row.items()}).save()

    return timed_rolled_back(work)


def import_post(staging_ids: list[int]) -> float:
    def work():
        run = fin.ImportRun.objects.create(triggered_by="bench naive")
        journals = {}
        for staging in fin.ActualStaging.objects.filter(pk__in=staging_ids).order_by("pk"):
            entity = fin.LegalEntity.objects.select_related("posting_setup").get(code=staging.legal_entity)
            setup = entity.posting_setup
            rate = exchange_rate(from_currency=staging.currency, to_currency=entity.accounting_currency,
                                 on=staging.accounting_date)
            period = staging.accounting_date.replace(day=1)
            if (entity.code, period) not in journals:
                journals[entity.code, period] = fin.IntegrationJournal.objects.create(
                    number=f"NJ-{run.pk}-{len(journals)}", legal_entity=entity.code, period=period, run=run,
                    status="posted")
            number = f"NV-{run.pk}-{staging.pk}"
            accounting = staging.amount * rate
            fin.IntegrationJournalLine(
                journal=journals[entity.code, period], staging=staging, voucher=number,
                transaction_type=staging.transaction_type, transaction_date=staging.transaction_date,
                accounting_date=staging.accounting_date, quantity=staging.quantity, amount=staging.amount,
                currency=staging.currency, exchange_rate=rate, accounting_amount=accounting).save()
            voucher = fin.Voucher(number=number, legal_entity=entity.code, date=staging.accounting_date,
                                  source="integration_journal")
            voucher.save()
            cost = staging.transaction_type == "cost"
            for account, posting_type, sign in (
                    (setup.cost if cost else setup.wip_sales_value, "cost" if cost else "wip_sales_value", 1),
                    (setup.cost_offset if cost else setup.accrued_revenue,
                     "cost_offset" if cost else "accrued_revenue", -1)):
                fin.LedgerEntry(voucher=voucher, account=account, posting_type=posting_type,
                                amount=sign * staging.amount, currency=staging.currency,
                                accounting_amount=sign * accounting,
                                accounting_currency=entity.accounting_currency).save()
            fin.ProjectTransaction(
                staging=staging, dataverse_actual_id=staging.dataverse_actual_id, legal_entity=entity.code,
                project_number=staging.project_number, transaction_type=staging.transaction_type,
                transaction_class=staging.transaction_class, accounting_date=staging.accounting_date,
                quantity=staging.quantity, amount=staging.amount, currency=staging.currency, exchange_rate=rate,
                accounting_amount=accounting, voucher=number).save()
            staging.status, staging.voucher, staging.posting_date = "posted", number, staging.accounting_date
            staging.exchange_rate, staging.accounting_amount = rate, accounting
            staging.accounting_currency = entity.accounting_currency
            staging.save()
            _queue(FinanceChange, "msdyn_actuals_writeback", fin_selectors.accounting_details([staging.pk])[0],
                   staging.dataverse_actual_id)

    return timed_rolled_back(work)


def confirm(detail_ids: list[int]) -> float:
    def work():
        today = timezone.localdate()
        for detail in dv.InvoiceLineDetail.objects.filter(pk__in=detail_ids).select_related("actual"):
            original = detail.actual
            shared = dict(transaction_class=original.transaction_class, project_id=original.project_id,
                          task_id=original.task_id, resource_id=original.resource_id, role_id=original.role_id,
                          customer_id=original.customer_id, contract_id=original.contract_id,
                          contract_line_id=original.contract_line_id, time_entry_id=original.time_entry_id,
                          invoice_id=detail.invoice_id, invoice_line_detail=detail,
                          transaction_date=original.transaction_date, currency=original.currency,
                          billing_status="customer_invoice_posted", description=detail.description,
                          accounting_date=today)
            reversal = dv.Actual(transaction_type="unbilled_sales", billing_type=original.billing_type,
                                 adjustment_status="unadjustable", skip_sync=True, quantity=-original.quantity,
                                 price=original.price, amount=-original.amount, **shared)
            reversal.save()
            billed = dv.Actual(transaction_type="billed_sales", billing_type=detail.billing_type,
                               quantity=detail.quantity, price=detail.price, amount=detail.amount, **shared)
            billed.save()
            dv.TransactionConnection(transaction1=reversal, transaction1_role="reversing", transaction2=original,
                                     transaction2_role="original").save()
            dv.TransactionConnection(transaction1=billed, transaction1_role="billed_sales", transaction2=original,
                                     transaction2_role="unbilled_sales").save()
            original.billing_status = "customer_invoice_posted"
            original.save()
            _queue(DataverseChange, "msdyn_actuals", dv_selectors.synced_actual_rows([billed.pk])[0], billed.uuid)

    return timed_rolled_back(work)


def proposal_lines(staging_ids: list[int]) -> float:
    def work():
        proposals = {}
        for staging in fin.ActualStaging.objects.filter(pk__in=staging_ids).order_by("pk"):
            proposal = proposals.get(staging.invoice_number) or fin.InvoiceProposal.objects.get(
                number=staging.invoice_number)
            proposals[staging.invoice_number] = proposal
            transaction_ = fin.ProjectTransaction.objects.get(dataverse_actual_id=staging.invoiced_actual_id)
            fin.InvoiceProposalLine(proposal=proposal, staging=staging, project_transaction=transaction_,
                                    transaction_class=staging.transaction_class,
                                    transaction_date=staging.transaction_date, quantity=staging.quantity,
                                    price=staging.price, amount=staging.amount, tax=0,
                                    currency=staging.currency).save()
            transaction_.status = "invoice_proposal"
            transaction_.save()
            staging.status = "proposal_line"
            staging.save()
            proposal.amount += staging.amount
        for proposal in proposals.values():
            proposal.status = "open"
            proposal.save()

    return timed_rolled_back(work)


def post_lines(proposal_ids: list[int]) -> float:
    """The per-line part of posting, row by row: project transactions invoiced, accounting details
    on the staging rows, a write-back queued per line."""
    def work():
        for line in fin.InvoiceProposalLine.objects.filter(proposal_id__in=proposal_ids).select_related(
                "project_transaction", "staging"):
            line.project_transaction.status = "invoiced"
            line.project_transaction.save()
            staging = line.staging
            staging.status, staging.voucher, staging.posting_date = "invoiced", "V-NAIVE", staging.transaction_date
            staging.exchange_rate, staging.accounting_amount, staging.accounting_currency = 1, staging.amount, "USD"
            staging.sales_tax_amount = line.tax
            staging.save()
            _queue(FinanceChange, "msdyn_actuals_writeback", fin_selectors.accounting_details([staging.pk])[0],
                   staging.dataverse_actual_id)

    return timed_rolled_back(work)


def write_back(rows: list[dict]) -> float:
    """`rows`: write-back payload rows; one actual fetched and saved per row."""
    def work():
        now = timezone.now()
        for row in rows:
            actual = dv.Actual.objects.get(uuid=row["actual_id"])
            actual.voucher, actual.posting_date = row["voucher"], row["posting_date"]
            actual.exchange_rate, actual.accounting_amount = row["exchange_rate"], row["accounting_amount"]
            actual.accounting_currency, actual.sales_tax_amount = row["accounting_currency"], row["sales_tax_amount"]
            actual.written_back_at = now
            actual.save(update_fields=["voucher", "posting_date", "exchange_rate", "accounting_amount",
                                       "accounting_currency", "sales_tax_amount", "written_back_at"])

    return timed_rolled_back(work)
