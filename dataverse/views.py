"""Dataverse pages: thin views over the services (design.md §5)."""

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_tables2 import RequestConfig

from projinv.domain import DomainError
from projinv.pages import LAZY_PAGES, TablePage, run_action, selected_ids

from . import selectors
from .forms import (
    ContractForm,
    ContractLineForm,
    DetailForm,
    EntryForm,
    ManualDetailForm,
    MilestoneFormSet,
    NewContractForm,
    PriceForm,
    ResourceForm,
    ResourceRoleForm,
    SplitFormSet,
    TransactionCategoryForm,
    milestone_rows,
)
from .models import (
    Actual,
    CategoryPrice,
    ContractLine,
    Entry,
    Invoice,
    InvoiceLineDetail,
    InvoiceSchedule,
    PriceList,
    ProjectContract,
    Resource,
    ResourceRole,
    RolePrice,
    TimeEntry,
    TransactionCategory,
)
from .services import (
    backlog,
    bulk,
    contract_lines,
    contracts,
    corrections,
    drafts,
    entries,
    invoicing,
    masterdata,
    milestones,
    resources,
)
from .tables import (
    ActualTable,
    AwaitingApprovalTable,
    BacklogTable,
    ContractLineTable,
    ContractTable,
    EntryQueueTable,
    EntryTable,
    InvoiceLineDetailTable,
    InvoiceScheduleTable,
    InvoiceTable,
    MilestoneBacklogTable,
    PriceListTable,
    ResourceRoleTable,
    ResourceTable,
    TimeEntryTable,
    TimeQueueTable,
    TransactionCategoryTable,
)


def split_rows(formset) -> list[tuple]:
    """(customer id, split %, takes rounding) of the filled rows of a billing-split formset."""
    return [(f["customer"].pk, f["split_percent"], f["is_rounding"]) for f in formset.cleaned_data if f.get("customer")]


class WithNewLink:
    """A table page with a link to a creation form, for those who may create."""

    template_name = "dataverse/table_with_new.html"
    new_url_name = new_label = new_permission = ""

    def get_context_data(self, **kwargs):
        return super().get_context_data(**kwargs) | {"may_create": self.request.user.has_perm(self.new_permission)}


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
    template_name = "dataverse/backlog.html"
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

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # Totals of what the filters show, summed when the page is read: always current (one query).
        context["totals"] = selectors.backlog_totals(context["filter"].qs)
        awaiting = AwaitingApprovalTable(selectors.awaiting_approval(), prefix="awaiting-")
        RequestConfig(self.request, paginate={"per_page": 50, **LAZY_PAGES}).configure(awaiting)
        context["awaiting"] = awaiting
        return context


class MilestoneBacklog(TablePage):
    permission_required = "dataverse.manage_backlog"
    table_class = MilestoneBacklogTable
    queryset = selectors.milestone_backlog()
    filterset_fields = ["contract_line__contract", "invoice_status"]
    title = gettext_lazy("Milestone backlog")
    intro = gettext_lazy("Fixed-price milestones not yet invoiced in full, each saying whether it can be billed now "
                         "and why not. Mark them ready, then create the invoice from the contract.")
    bulk_actions = (
        ("dataverse:milestones_ready", gettext_lazy("Mark ready for invoicing"), "dataverse.manage_backlog"),
        ("dataverse:milestones_not_ready", gettext_lazy("Mark not ready"), "dataverse.manage_backlog"),
    )


def _mark_milestones(request, *, ready):
    ids = selected_ids(request)
    return run_action(request, lambda: milestones.mark_milestones_ready(milestone_ids=ids, ready=ready,
                                                                        by=request.user),
                      success=lambda n: _("%(count)d milestones updated.") % {"count": n},
                      fallback="dataverse:milestone_backlog")


@require_POST
@permission_required("dataverse.manage_backlog", raise_exception=True)
def milestones_ready(request):
    return _mark_milestones(request, ready=True)


@require_POST
@permission_required("dataverse.manage_backlog", raise_exception=True)
def milestones_not_ready(request):
    return _mark_milestones(request, ready=False)


@require_POST
@permission_required("dataverse.change_contractline", raise_exception=True)
def line_milestones(request, pk):
    """Save a fixed-price line's milestones; they must total its value (BR-13)."""
    line = get_object_or_404(ContractLine, pk=pk)
    formset = MilestoneFormSet(request.POST, prefix="milestones")
    if not formset.is_valid():
        messages.error(request, _("Give each milestone a name, a date and an amount."))
        return redirect("dataverse:line_edit", line.pk)
    return run_action(request, lambda: milestones.set_milestones(line_id=line.pk, milestones=milestone_rows(formset),
                                                                 by=request.user),
                      success=_("The milestones are saved."), fallback=reverse("dataverse:line_edit", args=[line.pk]))


class ContractList(WithNewLink, TablePage):
    permission_required = "dataverse.view_projectcontract"
    new_url_name, new_label = "dataverse:contract_create", gettext_lazy("New contract")
    new_permission = "dataverse.add_projectcontract"
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
    add_form = (ManualDetailForm(invoice=invoice, initial={"transaction_date": invoice.invoice_date})
                if invoice.is_editable and request.user.has_perm("dataverse.create_proforma") else None)
    return render(request, "dataverse/invoice_detail.html", {
        "invoice": invoice, "lines": lines, "details": details, "title": invoice.number, "revisable": revisable,
        "drafts_to_add_to": drafts_to_add_to, "add_form": add_form})


@require_POST
@permission_required("dataverse.add_timeentry", raise_exception=True)
def entries_submit(request):
    ids = selected_ids(request)
    return run_action(request, lambda: entries.submit_time_entries(entry_ids=ids, by=request.user),
                      success=lambda n: _("%(count)d entries submitted.") % {"count": n}, fallback="dataverse:entries")


def billable_quantities(request, ids) -> dict:
    """The approver's billable quantities (`billable_<pk>` inputs of the queue), for the selected rows."""
    quantities = {}
    for pk in ids:
        value = request.POST.get(f"billable_{pk}", "").strip()
        if value:
            try:
                quantities[pk] = Decimal(value)
            except InvalidOperation:
                raise DomainError(_("%(value)s is not a quantity.") % {"value": value}) from None
    return quantities


def back(request, default: str) -> str:
    """Where an entry action returns: the approval queue when it came from there."""
    return "dataverse:approval_queue" if request.POST.get("from") == "queue" else default


def _approve(request, approve, *, fallback):
    """Approve the selected entries with the billable quantities typed beside them."""
    ids = selected_ids(request)
    return run_action(request, lambda: approve(ids, billable_quantities(request, ids)),
                      success=lambda new: _("Approved; %(count)d actuals created.") % {"count": len(new)},
                      fallback=back(request, fallback))


@require_POST
@permission_required("dataverse.approve_timeentry", raise_exception=True)
def entries_approve(request):
    return _approve(request, lambda ids, billable: entries.approve_time_entries(
        entry_ids=ids, by=request.user, billable_hours=billable), fallback="dataverse:entries")

@require_POST
@permission_required("dataverse.approve_timeentry", raise_exception=True)
def entries_reject(request):
    ids = selected_ids(request)
    return run_action(request, lambda: entries.reject_time_entries(entry_ids=ids, by=request.user),
                      success=lambda n: _("%(count)d entries rejected.") % {"count": n},
                      fallback=back(request, "dataverse:entries"))


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
def detail_add(request, pk):
    invoice = get_object_or_404(Invoice, pk=pk)
    form = ManualDetailForm(request.POST, invoice=invoice)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(invoice)
    data = form.cleaned_data
    return run_action(request, lambda: drafts.add_manual_detail(
        invoice_line_id=data["invoice_line"].pk, by=request.user, transaction_class=data["transaction_class"],
        quantity=data["quantity"], price=data["price"], billing_type=data["billing_type"],
        transaction_date=data["transaction_date"], role_id=data["role"] and data["role"].pk,
        category_id=data["category"] and data["category"].pk, tax=data["tax"] or Decimal(0),
        description=data["description"]),
        success=_("The detail is added; its actuals are made when the invoice is confirmed."), fallback=invoice)


@require_POST
@permission_required("dataverse.create_proforma", raise_exception=True)
def detail_delete(request, pk):
    detail = get_object_or_404(InvoiceLineDetail.objects.select_related("invoice"), pk=pk)
    return run_action(request, lambda: drafts.delete_detail(detail_id=detail.pk, by=request.user),
                      success=_("The detail is off the invoice; its actual is back in the backlog."),
                      fallback=detail.invoice)


@require_POST
@permission_required("dataverse.create_proforma", raise_exception=True)
def invoice_review(request, pk):
    invoice = get_object_or_404(Invoice, pk=pk)
    in_review = request.POST.get("to") == Invoice.Status.IN_REVIEW
    return run_action(request, lambda: invoicing.set_in_review(invoice_id=invoice.pk, in_review=in_review,
                                                               by=request.user),
                      success=lambda inv: _("Invoice %(number)s is %(status)s.") % {
                          "number": inv.number, "status": inv.get_status_display()}, fallback=invoice)


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
            rows = split_rows(formset)
            try:
                contracts.set_contract_customers(contract_id=contract.pk, splits=rows, by=request.user)
            except DomainError as error:
                messages.error(request, str(error))
            else:
                messages.success(request, _("The contract's customers are saved."))
                return redirect("dataverse:contract_detail", contract.pk)
    moves = [(status, ProjectContract.Status(status).label) for status in ProjectContract.Status.values
             if status in ProjectContract.MOVES[contract.status]]
    header_form = ContractForm(initial={"name": contract.name, "sales_price_list": contract.sales_price_list_id})
    return render(request, "dataverse/contract_detail.html", {
        "contract": contract, "lines": contract.lines.select_related("project"), "splits": splits,
        "formset": formset, "title": contract.number, "moves": moves, "header_form": header_form})


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



# --- Expense, material and fee entries, and the approval queue -------------------------------------


class EntryList(WithNewLink, TablePage):
    permission_required = "dataverse.view_entry"
    table_class = EntryTable
    queryset = Entry.objects.select_related("category", "project", "task")
    filterset_fields = ["status", "transaction_class", "project", "category"]
    new_url_name, new_label, new_permission = "dataverse:entry_create", gettext_lazy("New entry"), "dataverse.add_entry"
    title = gettext_lazy("Expense, material and fee entries")
    intro = gettext_lazy("Submit entries, then approve them in the approval queue: approval creates the cost and "
                         "unbilled sales actuals, priced by category.")
    bulk_actions = (
        ("dataverse:other_entries_submit", gettext_lazy("Submit selected"), "dataverse.add_entry"),
        ("dataverse:other_entries_approve", gettext_lazy("Approve selected"), "dataverse.approve_entry"),
        ("dataverse:other_entries_reject", gettext_lazy("Reject selected"), "dataverse.approve_entry"),
        ("dataverse:other_entries_recall", gettext_lazy("Recall selected approvals"), "dataverse.approve_entry"),
    )


@permission_required("dataverse.add_entry", raise_exception=True)
def entry_create(request):
    form = EntryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            entries.create_entry(
                transaction_class=data["transaction_class"], category_id=data["category"].pk,
                project_id=data["project"].pk, task_id=data["task"].pk if data["task"] else None,
                resource_id=data["resource"].pk if data["resource"] else None, date=data["date"],
                quantity=data["quantity"], description=data["description"], by=request.user)
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The entry is saved as a draft: submit it for approval."))
            return redirect("dataverse:other_entries")
    return render(request, "dataverse/form.html", {
        "form": form, "title": _("New expense, material or fee entry"), "back": reverse("dataverse:other_entries")})


@permission_required("dataverse.approve_entry", raise_exception=True)
def approval_queue(request):
    """Submitted entries of every class, with the billable quantity to enter where it differs."""
    tables = [
        ("time", _("Time"), TimeQueueTable(TimeEntry.objects.filter(status=TimeEntry.Status.SUBMITTED)
                                           .select_related("resource", "project", "role")),
         "dataverse:entries_approve", "dataverse:entries_reject",
         request.user.has_perm("dataverse.approve_timeentry")),
        ("other", _("Expenses, material and fees"),
         EntryQueueTable(Entry.objects.filter(status=Entry.Status.SUBMITTED).select_related("category", "project",
                                                                                            "task")),
         "dataverse:other_entries_approve", "dataverse:other_entries_reject", True),
    ]
    for _key, _label, table, *_rest in tables:
        RequestConfig(request, paginate={"per_page": 50, **LAZY_PAGES}).configure(table)
    return render(request, "dataverse/approval_queue.html", {
        "title": _("Approval queue"), "tables": [t for t in tables if t[-1]]})


def _entry_action(request, service, success):
    ids = selected_ids(request)
    return run_action(request, lambda: service(entry_ids=ids, by=request.user), success=success,
                      fallback=back(request, "dataverse:other_entries"))


@require_POST
@permission_required("dataverse.add_entry", raise_exception=True)
def other_entries_submit(request):
    return _entry_action(request, entries.submit_entries, lambda n: _("%(count)d entries submitted.") % {"count": n})


@require_POST
@permission_required("dataverse.approve_entry", raise_exception=True)
def other_entries_approve(request):
    return _approve(request, lambda ids, billable: entries.approve_entries(
        entry_ids=ids, by=request.user, billable_quantities=billable), fallback="dataverse:other_entries")


@require_POST
@permission_required("dataverse.approve_entry", raise_exception=True)
def other_entries_reject(request):
    return _entry_action(request, entries.reject_entries, lambda n: _("%(count)d entries rejected.") % {"count": n})


@require_POST
@permission_required("dataverse.approve_entry", raise_exception=True)
def other_entries_recall(request):
    return _entry_action(request, entries.recall_entries,
                         lambda new: _("Recalled; %(count)d actuals reversed.") % {"count": len(new)})


# --- Contract lines, contract header and status --------------------------------------------------------


class ContractLineList(TablePage):
    permission_required = "dataverse.view_contractline"
    table_class = ContractLineTable
    queryset = ContractLine.objects.select_related("contract", "project").annotate(task_count=Count("line_tasks"))
    filterset_fields = ["contract", "project", "billing_method", "included_tasks"]
    title = gettext_lazy("Contract lines")
    intro = gettext_lazy("Each line bills a project's tasks (all, or selected ones) for the classes it includes; "
                         "with all tasks, a project and class can be on one line of a contract only.")


LINE_RULES = Prefetch("line_tasks"), Prefetch("line_roles"), Prefetch("line_categories")


@permission_required("dataverse.view_contractline", raise_exception=True)
def line_edit(request, pk=None, contract_pk=None):
    """Show a line, or a new one of a contract; save it (POST) with the change permission."""
    line = get_object_or_404(ContractLine.objects.select_related("contract").prefetch_related(*LINE_RULES), pk=pk) \
        if pk else None
    contract = line.contract if line else get_object_or_404(ProjectContract, pk=contract_pk)
    form = ContractLineForm(request.POST or None, initial=ContractLineForm.initial_for(line) if line else {
        "include_time": True, "included_tasks": ContractLine.IncludedTasks.ALL})
    if request.method == "POST":
        if not request.user.has_perm("dataverse.change_contractline"):
            raise PermissionDenied
        if form.is_valid():
            try:
                saved = contract_lines.save_contract_line(contract_id=contract.pk, line_id=line.pk if line else None,
                                                          by=request.user, **form.service_arguments())
            except DomainError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Line %(name)s is saved.") % {"name": saved.name})
                return redirect("dataverse:contract_detail", contract.pk)
    milestone_formset = MilestoneFormSet(prefix="milestones", initial=[
        {"id": m.pk, "name": m.name, "milestone_date": m.milestone_date, "amount": m.amount, "tax": m.tax}
        for m in line.milestones.all()]) if line and line.billing_method == ContractLine.BillingMethod.FIXED_PRICE \
        else None
    line_customers = list(line.line_customers.select_related("customer")) if line else []
    customers_formset = SplitFormSet(prefix="customers", initial=[
        {"customer": c.customer, "split_percent": c.split_percent, "is_rounding": c.is_rounding}
        for c in line_customers]) if line else None
    return render(request, "dataverse/line_form.html", {
        "form": form, "line": line, "contract": contract, "milestones": milestone_formset,
        "line_customers": line_customers, "customers": customers_formset,
        "title": line.name if line else _("New line of %(number)s") % {"number": contract.number},
        "editable": not contract.is_closed and request.user.has_perm("dataverse.change_contractline")})


@require_POST
@permission_required("dataverse.change_contractline", raise_exception=True)
def line_customers(request, pk):
    """Save a line's own customers and splits (none: the line bills by the contract's split)."""
    line = get_object_or_404(ContractLine, pk=pk)
    formset = SplitFormSet(request.POST, prefix="customers")
    if not formset.is_valid():
        messages.error(request, _("Check the customers: each needs a customer and a split %."))
        return redirect("dataverse:line_edit", line.pk)
    rows = split_rows(formset)
    return run_action(request, lambda: contract_lines.set_contract_line_customers(line_id=line.pk, splits=rows,
                                                                                  by=request.user),
                      success=_("The line's customers are saved."), fallback=reverse("dataverse:line_edit",
                                                                                      args=[line.pk]))


@require_POST
@permission_required("dataverse.change_contractline", raise_exception=True)
def line_delete(request, pk):
    line = get_object_or_404(ContractLine, pk=pk)
    return run_action(request, lambda: contract_lines.delete_contract_line(line_id=line.pk, by=request.user),
                      success=_("The line is deleted."), fallback=reverse("dataverse:contract_detail",
                                                                           args=[line.contract_id]))


@permission_required("dataverse.add_projectcontract", raise_exception=True)
def contract_create(request):
    form = NewContractForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            contract = contracts.create_contract(
                number=data["number"], name=data["name"], customer_id=data["customer"].pk,
                legal_entity=data["legal_entity"], currency=data["currency"].upper(),
                sales_price_list_id=data["sales_price_list"].pk, by=request.user)
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Contract %(number)s is created as a draft: add its lines, then activate it.")
                             % {"number": contract.number})
            return redirect("dataverse:contract_detail", contract.pk)
    return render(request, "dataverse/form.html", {
        "form": form, "title": _("New project contract"), "back": reverse("dataverse:contracts"),
        "intro": _("The sales currency cannot change once the contract is saved.")})


@require_POST
@permission_required("dataverse.change_projectcontract", raise_exception=True)
def contract_update(request, pk):
    contract = get_object_or_404(ProjectContract, pk=pk)
    form = ContractForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the contract a name and a price list."))
        return redirect("dataverse:contract_detail", contract.pk)
    return run_action(request, lambda: contracts.update_contract(
                          contract_id=contract.pk, name=form.cleaned_data["name"], by=request.user,
                          sales_price_list_id=form.cleaned_data["sales_price_list"].pk,
                          currency=request.POST.get("currency") or None),
                      success=_("The contract is saved."),
                      fallback=reverse("dataverse:contract_detail", args=[contract.pk]))


@require_POST
@permission_required("dataverse.manage_contract_status", raise_exception=True)
def contract_status(request, pk):
    contract = get_object_or_404(ProjectContract, pk=pk)
    return run_action(request, lambda: contracts.change_contract_status(
                          contract_id=contract.pk, status=request.POST.get("status", ""), by=request.user),
                      success=lambda c: _("Contract %(number)s is %(status)s.") % {
                          "number": c.number, "status": c.get_status_display()},
                      fallback=reverse("dataverse:contract_detail", args=[contract.pk]))


# --- Transaction categories and price lists ---------------------------------------------------------


class TransactionCategoryList(WithNewLink, TablePage):
    permission_required = "dataverse.view_transactioncategory"
    table_class = TransactionCategoryTable
    queryset = TransactionCategory.objects.all()
    filterset_fields = ["transaction_class"]
    new_url_name, new_label = "dataverse:category_create", gettext_lazy("New category")
    new_permission = "dataverse.change_transactioncategory"
    title = gettext_lazy("Transaction categories")
    intro = gettext_lazy("What expenses, material and fees are for; each is a project category in finance.")


@permission_required("dataverse.view_transactioncategory", raise_exception=True)
def category_edit(request, pk=None):
    category = get_object_or_404(TransactionCategory, pk=pk) if pk else None
    initial = {"name": category.name, "transaction_class": category.transaction_class,
               "unit": category.unit} if category else {}
    form = TransactionCategoryForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if not request.user.has_perm("dataverse.change_transactioncategory"):
            raise PermissionDenied
        if form.is_valid():
            try:
                masterdata.save_transaction_category(category_id=category.pk if category else None,
                                                     by=request.user, **form.cleaned_data)
            except DomainError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("The category is saved."))
                return redirect("dataverse:categories")
    return render(request, "dataverse/form.html", {
        "form": form, "title": category.name if category else _("New transaction category"),
        "back": reverse("dataverse:categories"),
        "editable": request.user.has_perm("dataverse.change_transactioncategory")})


class PriceListList(TablePage):
    permission_required = "dataverse.view_pricelist"
    table_class = PriceListTable
    queryset = PriceList.objects.annotate(role_count=Count("role_prices", distinct=True),
                                          category_count=Count("category_prices", distinct=True))
    filterset_fields = ["currency"]
    title = gettext_lazy("Price lists")
    intro = gettext_lazy("Cost lists (on projects) and sales lists (on contracts): a unit price per role and per "
                         "category, read when entries are approved.")


@permission_required("dataverse.view_pricelist", raise_exception=True)
def price_list_detail(request, pk):
    price_list = get_object_or_404(PriceList, pk=pk)
    form = PriceForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm("dataverse.change_pricelist"):
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                masterdata.set_price(price_list_id=price_list.pk, price=data["price"], by=request.user,
                                     role_id=data["role"].pk if data["role"] else None,
                                     category_id=data["category"].pk if data["category"] else None)
            except DomainError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("The price is saved."))
                return redirect("dataverse:price_list_detail", price_list.pk)
    return render(request, "dataverse/price_list_detail.html", {
        "price_list": price_list, "form": form, "title": price_list.name,
        "role_prices": RolePrice.objects.filter(price_list=price_list).select_related("role").order_by("role__name"),
        "category_prices": CategoryPrice.objects.filter(price_list=price_list).select_related("category")
        .order_by("category__name")})


class ResourceRoleList(WithNewLink, TablePage):
    permission_required = "dataverse.view_resourcerole"
    table_class = ResourceRoleTable
    queryset = ResourceRole.objects.annotate(resources=Count("resource")).order_by("name")
    filterset_fields = []
    new_url_name, new_label = "dataverse:role_create", gettext_lazy("New role")
    new_permission = "dataverse.change_resourcerole"
    title = gettext_lazy("Resource roles")
    intro = gettext_lazy("What time is priced and reported by; each role has a price on the cost and sales lists.")


class ResourceList(WithNewLink, TablePage):
    permission_required = "dataverse.view_resource"
    table_class = ResourceTable
    queryset = Resource.objects.select_related("role").order_by("name")
    filterset_fields = ["role"]
    new_url_name, new_label = "dataverse:resource_create", gettext_lazy("New resource")
    new_permission = "dataverse.change_resource"
    title = gettext_lazy("Bookable resources")
    intro = gettext_lazy("The people who record time, each with the role their time is priced by by default.")


def _master_form(request, *, form, permission, save, saved, title, back):
    """Show a small master-data form; save it (POST) with the change permission."""
    if request.method == "POST":
        if not request.user.has_perm(permission):
            raise PermissionDenied
        if form.is_valid():
            try:
                save(form.cleaned_data)
            except DomainError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, saved)
                return redirect(back)
    return render(request, "dataverse/form.html", {"form": form, "title": title, "back": reverse(back),
                                                   "editable": request.user.has_perm(permission)})


@permission_required("dataverse.view_resourcerole", raise_exception=True)
def role_edit(request, pk=None):
    role = get_object_or_404(ResourceRole, pk=pk) if pk else None
    form = ResourceRoleForm(request.POST or None, initial={"name": role.name} if role else {})
    return _master_form(
        request, form=form, permission="dataverse.change_resourcerole",
        save=lambda data: resources.save_resource_role(name=data["name"], role_id=role and role.pk, by=request.user),
        saved=_("The role is saved."), title=role.name if role else _("New resource role"), back="dataverse:roles")


@permission_required("dataverse.view_resource", raise_exception=True)
def resource_edit(request, pk=None):
    resource = get_object_or_404(Resource, pk=pk) if pk else None
    form = ResourceForm(request.POST or None,
                        initial={"name": resource.name, "role": resource.role_id} if resource else {})
    return _master_form(
        request, form=form, permission="dataverse.change_resource",
        save=lambda data: resources.save_resource(name=data["name"], role_id=data["role"].pk,
                                                  resource_id=resource and resource.pk, by=request.user),
        saved=_("The resource is saved."), title=resource.name if resource else _("New bookable resource"),
        back="dataverse:resources")
