"""Dataverse pages: thin views over the services (design.md §5)."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_tables2 import RequestConfig

from projinv.domain import DomainError
from projinv.pages import LAZY_PAGES, TablePage, run_action, selected_ids

from . import selectors
from .forms import DetailForm, SplitFormSet
from .models import (
    Actual,
    Invoice,
    InvoiceLineDetail,
    InvoiceSchedule,
    ProjectContract,
    TimeEntry,
)
from .services import backlog, bulk, contracts, corrections, drafts, entries, invoicing
from .tables import (
    ActualTable,
    BacklogTable,
    ContractTable,
    InvoiceLineDetailTable,
    InvoiceScheduleTable,
    InvoiceTable,
    TimeEntryTable,
)


class TimeEntryList(TablePage):
    permission_required = "dataverse.view_timeentry"
    table_class = TimeEntryTable
    queryset = TimeEntry.objects.select_related("resource", "project", "role")
    filterset_fields = ["status", "project"]
    title = gettext_lazy("Time entries")
    intro = gettext_lazy("Submit entries, then approve them: approval creates the cost and unbilled sales actuals.")
    bulk_actions = (
        ("dataverse:entries_submit", gettext_lazy("Submit selected"), "dataverse.add_timeentry"),
        ("dataverse:entries_approve", gettext_lazy("Approve selected"), "dataverse.approve_timeentry"),
        ("dataverse:entries_reject", gettext_lazy("Reject selected"), "dataverse.approve_timeentry"),
        ("dataverse:entries_recall", gettext_lazy("Recall selected approvals"), "dataverse.approve_timeentry"),
    )


class ActualList(TablePage):
    permission_required = "dataverse.view_actual"
    table_class = ActualTable
    queryset = Actual.objects.select_related("project", "contract", "invoice")
    filterset_fields = ["transaction_type", "billing_status", "contract", "invoice"]
    title = gettext_lazy("Actuals")


class Backlog(TablePage):
    permission_required = "dataverse.manage_backlog"
    table_class = BacklogTable
    queryset = selectors.backlog()
    filterset_fields = ["contract", "billing_status"]
    title = gettext_lazy("Billing backlog")
    intro = gettext_lazy("Unbilled sales not yet invoiced, each saying whether it can be billed now and why not. "
                         "Mark them ready, then create the invoice from the contract.")
    bulk_actions = (
        ("dataverse:backlog_ready", gettext_lazy("Mark ready to invoice"), "dataverse.manage_backlog"),
        ("dataverse:backlog_not_ready", gettext_lazy("Mark not ready"), "dataverse.manage_backlog"),
    )


class ContractList(TablePage):
    permission_required = "dataverse.view_projectcontract"
    table_class = ContractTable
    queryset = ProjectContract.objects.select_related("customer")
    filterset_fields = ["status"]
    title = gettext_lazy("Project contracts")
    bulk_actions = (("dataverse:contracts_invoice", gettext_lazy("Create invoices for selected"),
                     "dataverse.create_proforma"),)


class InvoiceScheduleList(TablePage):
    permission_required = "dataverse.view_projectcontract"
    table_class = InvoiceScheduleTable
    queryset = InvoiceSchedule.objects.select_related("contract_line__contract")
    filterset_fields = ["run_status", "contract_line__contract"]
    title = gettext_lazy("Invoice schedule")
    intro = gettext_lazy("Each row makes invoices on its run date for transactions up to the day before; the "
                         "job runs every hour and runs each row once.")


class InvoiceList(TablePage):
    permission_required = "dataverse.view_invoice"
    table_class = InvoiceTable
    queryset = Invoice.objects.select_related("contract", "customer")
    filterset_fields = ["status", "bulk_status", "contract"]
    title = gettext_lazy("Proforma invoices")
    bulk_actions = (("dataverse:invoices_confirm", gettext_lazy("Confirm selected (in the background)"),
                     "dataverse.confirm_invoice"),)


@permission_required("dataverse.view_invoice", raise_exception=True)
def invoice_detail(request, pk):
    invoice = get_object_or_404(Invoice.objects.select_related("contract", "customer", "confirmed_by", "corrects"),
                                pk=pk)
    details = InvoiceLineDetailTable(
        InvoiceLineDetail.objects.filter(invoice=invoice).select_related("invoice_line__contract_line"),
        editable=invoice.is_editable and request.user.has_perm("dataverse.create_proforma"),
        selectable=invoice.status in (Invoice.Status.CONFIRMED, Invoice.Status.POSTED),
    )
    RequestConfig(request, paginate={"per_page": 100, **LAZY_PAGES}).configure(details)
    lines = invoice.lines.select_related("contract_line")
    revisable = invoice.status in (Invoice.Status.CONFIRMED, Invoice.Status.POSTED) and request.user.has_perm(
        "dataverse.create_proforma")
    drafts_to_add_to = (Invoice.objects.filter(contract=invoice.contract, customer=invoice.customer,
                                               status__in=Invoice.EDITABLE).order_by("-pk") if revisable else [])
    return render(request, "dataverse/invoice_detail.html", {
        "invoice": invoice, "lines": lines, "details": details, "title": invoice.number, "revisable": revisable,
        "drafts_to_add_to": drafts_to_add_to})


@require_POST
@permission_required("dataverse.add_timeentry", raise_exception=True)
def entries_submit(request):
    ids = selected_ids(request)
    return run_action(request, lambda: entries.submit_time_entries(entry_ids=ids, by=request.user),
                      success=lambda n: _("%(count)d entries submitted.") % {"count": n}, fallback="dataverse:entries")


@require_POST
@permission_required("dataverse.approve_timeentry", raise_exception=True)
def entries_approve(request):
    ids = selected_ids(request)
    return run_action(request, lambda: entries.approve_time_entries(entry_ids=ids, by=request.user),
                      success=lambda new: _("Approved; %(count)d actuals created.") % {"count": len(new)},
                      fallback="dataverse:entries")

@require_POST
@permission_required("dataverse.approve_timeentry", raise_exception=True)
def entries_reject(request):
    ids = selected_ids(request)
    return run_action(request, lambda: entries.reject_time_entries(entry_ids=ids, by=request.user),
                      success=lambda n: _("%(count)d entries rejected.") % {"count": n}, fallback="dataverse:entries")


@require_POST
@permission_required("dataverse.approve_timeentry", raise_exception=True)
def entries_recall(request):
    ids = selected_ids(request)
    return run_action(request, lambda: entries.recall_time_entries(entry_ids=ids, by=request.user),
                      success=lambda new: _("Recalled; %(count)d actuals reversed.") % {"count": len(new)},
                      fallback="dataverse:entries")


def _mark(request, *, ready):
    ids = selected_ids(request)
    return run_action(request, lambda: backlog.mark_ready_to_invoice(actual_ids=ids, ready=ready, by=request.user),
                      success=lambda n: _("%(count)d actuals updated.") % {"count": n}, fallback="dataverse:backlog")


@require_POST
@permission_required("dataverse.manage_backlog", raise_exception=True)
def backlog_ready(request):
    return _mark(request, ready=True)


@require_POST
@permission_required("dataverse.manage_backlog", raise_exception=True)
def backlog_not_ready(request):
    return _mark(request, ready=False)


@require_POST
@permission_required("dataverse.create_proforma", raise_exception=True)
def invoice_create(request, contract_pk):
    get_object_or_404(ProjectContract, pk=contract_pk)
    def create():
        invoices = invoicing.create_proforma_invoices(contract_id=contract_pk, by=request.user)
        return invoices[0] if len(invoices) == 1 else invoices  # one invoice: open it

    return run_action(request, create,
                      success=lambda made: _("Proforma invoices created: %(numbers)s.") % {
                          "numbers": ", ".join(i.number for i in (made if isinstance(made, list) else [made]))},
                      fallback="dataverse:invoices")


@require_POST
@permission_required("dataverse.confirm_invoice", raise_exception=True)
def invoice_confirm(request, pk):
    invoice = get_object_or_404(Invoice, pk=pk)
    return run_action(request, lambda: invoicing.confirm_proforma(invoice_id=invoice.pk, by=request.user),
                      success=lambda inv: _("Invoice %(number)s confirmed.") % {"number": inv.number},
                      fallback=invoice)


@permission_required("dataverse.create_proforma", raise_exception=True)
def detail_edit(request, pk):
    detail = get_object_or_404(InvoiceLineDetail.objects.select_related("invoice"), pk=pk)
    form = DetailForm(request.POST or None, initial={
        "quantity": detail.quantity, "price": detail.price, "billing_type": detail.billing_type,
        "tax": detail.tax, "description": detail.description})
    if request.method == "POST" and form.is_valid():
        try:
            drafts.update_detail(detail_id=detail.pk, by=request.user, **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The detail is updated; the totals follow."))
            return redirect(detail.invoice)
    return render(request, "dataverse/detail_edit.html", {"form": form, "detail": detail,
                                                          "invoice": detail.invoice, "title": detail.invoice.number})


@require_POST
@permission_required("dataverse.create_proforma", raise_exception=True)
def detail_delete(request, pk):
    detail = get_object_or_404(InvoiceLineDetail.objects.select_related("invoice"), pk=pk)
    return run_action(request, lambda: drafts.delete_detail(detail_id=detail.pk, by=request.user),
                      success=_("The detail is off the invoice; its actual is back in the backlog."),
                      fallback=detail.invoice)


@require_POST
@permission_required("dataverse.create_proforma", raise_exception=True)
def invoice_refresh(request, pk):
    invoice = get_object_or_404(Invoice, pk=pk)
    return run_action(request, lambda: drafts.refresh_invoice(invoice_id=invoice.pk, by=request.user),
                      success=lambda n: _("%(count)d late transactions added.") % {"count": n}, fallback=invoice)


@require_POST
@permission_required("dataverse.create_proforma", raise_exception=True)
def invoice_revise(request, pk):
    invoice = get_object_or_404(Invoice, pk=pk)
    into = request.POST.get("into") or None
    if into is not None and not (into.isdigit() and Invoice.objects.filter(pk=into).exists()):
        messages.error(request, _("Choose a draft to add the corrections to."))
        return redirect(invoice)
    return run_action(
        request, lambda: corrections.revise_invoice(invoice_id=invoice.pk, by=request.user,
                                                    detail_ids=selected_ids(request), into_invoice_id=into),
        success=lambda draft: _("Corrective draft %(number)s: enter the quantities that should finally be "
                                "billed (0 credits everything).") % {"number": draft.number},
        fallback=invoice)


@permission_required("dataverse.view_projectcontract", raise_exception=True)
def contract_detail(request, pk):
    contract = get_object_or_404(ProjectContract.objects.select_related("customer", "sales_price_list"), pk=pk)
    splits = contract.contract_customers.select_related("customer")
    formset = SplitFormSet(request.POST or None, initial=[
        {"customer": s.customer, "split_percent": s.split_percent, "is_rounding": s.is_rounding} for s in splits])
    if request.method == "POST":
        if not request.user.has_perm("dataverse.change_projectcontract"):
            raise PermissionDenied
        if formset.is_valid():
            rows = [(f["customer"].pk, f["split_percent"], f["is_rounding"])
                    for f in formset.cleaned_data if f.get("customer")]
            try:
                contracts.set_contract_customers(contract_id=contract.pk, splits=rows, by=request.user)
            except DomainError as error:
                messages.error(request, str(error))
            else:
                messages.success(request, _("The contract's customers are saved."))
                return redirect("dataverse:contract_detail", contract.pk)
    return render(request, "dataverse/contract_detail.html", {
        "contract": contract, "lines": contract.lines.select_related("project"), "splits": splits,
        "formset": formset, "title": contract.number})


@require_POST
@permission_required("dataverse.create_proforma", raise_exception=True)
def contracts_invoice(request):
    results = bulk.create_invoices_for(contract_ids=selected_ids(request), by=request.user)
    for result in results:
        if result.error:
            messages.warning(request, _("%(contract)s: %(error)s") % {"contract": result.contract,
                                                                     "error": result.error})
        else:
            messages.success(request, _("%(contract)s: %(invoices)s created.") % {
                "contract": result.contract, "invoices": ", ".join(result.invoices)})
    if not results:
        messages.error(request, _("Select the contracts to invoice."))
    return redirect("dataverse:invoices")


@require_POST
@permission_required("dataverse.confirm_invoice", raise_exception=True)
def invoices_confirm(request):
    return run_action(request, lambda: bulk.schedule_confirmation(invoice_ids=selected_ids(request), by=request.user),
                      success=lambda n: _("%(count)d invoices scheduled for confirmation; their status follows "
                                          "here.") % {"count": n},
                      fallback="dataverse:invoices")

