"""Finance pages: thin views over the services (design.md §5)."""

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_tables2 import RequestConfig

from projinv.pages import LAZY_PAGES, TablePage, csv_response, run_action, selected_ids

from . import reports, setup_pages
from .forms import ProposalDatesForm
from .models import (
    ActualStaging,
    CustomerTransaction,
    FiscalPeriod,
    ImportIssue,
    ImportRun,
    IntegrationJournal,
    InvoiceProposal,
    ProjectInvoice,
    ProjectTransaction,
    Voucher,
)
from .services import importing, journals, posting, proposals, setup
from .tables import (
    CustomerTransactionTable,
    ImportRunTable,
    JournalLineTable,
    JournalTable,
    ProjectInvoiceTable,
    ProjectTransactionTable,
    ProposalLineTable,
    ProposalTable,
    StagingTable,
    VoucherTable,
)


class StagingList(TablePage):
    permission_required = "finance.view_actualstaging"
    table_class = StagingTable
    queryset = ActualStaging.objects.all()
    filterset_fields = ["status", "transaction_type", "invoice_number"]
    title = gettext_lazy("Actuals staging (ProjCDSActualsImport)")


class ImportRunList(TablePage):
    permission_required = "finance.view_importrun"
    table_class = ImportRunTable
    queryset = ImportRun.objects.all()
    filterset_fields = ["status"]
    template_name = "finance/imports.html"
    title = gettext_lazy("Import from staging")

    def get_context_data(self, **kwargs):
        return super().get_context_data(issues=ImportIssue.objects.select_related("run")[:20], **kwargs)


class JournalList(TablePage):
    permission_required = "finance.view_integrationjournal"
    table_class = JournalTable
    queryset = IntegrationJournal.objects.annotate(line_count=Count("lines")).order_by("-pk")
    filterset_fields = ["status", "legal_entity"]
    title = gettext_lazy("Project Operations integration journals")


class ProjectTransactionList(TablePage):
    permission_required = "finance.view_projecttransaction"
    table_class = ProjectTransactionTable
    queryset = ProjectTransaction.objects.all()
    filterset_fields = ["status", "transaction_type", "project_number"]
    title = gettext_lazy("Posted project transactions")


class ProposalList(TablePage):
    permission_required = "finance.view_invoiceproposal"
    table_class = ProposalTable
    queryset = InvoiceProposal.objects.all()
    filterset_fields = ["status"]
    title = gettext_lazy("Project invoice proposals")
    bulk_actions = (("finance:proposals_post", gettext_lazy("Post selected"), "finance.post_proposal"),)


class ProjectInvoiceList(TablePage):
    permission_required = "finance.view_projectinvoice"
    table_class = ProjectInvoiceTable
    queryset = ProjectInvoice.objects.select_related("proposal", "voucher")
    filterset_fields = ["is_credit_note", "customer_number"]
    title = gettext_lazy("Project invoices")


class CustomerTransactionList(TablePage):
    permission_required = "finance.view_customertransaction"
    table_class = CustomerTransactionTable
    queryset = CustomerTransaction.objects.select_related("invoice")
    filterset_fields = ["customer_number"]
    title = gettext_lazy("Customer transactions")


class VoucherList(TablePage):
    permission_required = "finance.view_voucher"
    table_class = VoucherTable
    queryset = Voucher.objects.all()
    filterset_fields = ["source", "legal_entity"]
    title = gettext_lazy("Vouchers")


@permission_required("finance.view_invoiceproposal", raise_exception=True)
def proposal_detail(request, pk):
    proposal = get_object_or_404(InvoiceProposal, pk=pk)
    lines = ProposalLineTable(proposal.lines.all(), editable=proposal.status == InvoiceProposal.Status.OPEN
                              and request.user.has_perm("finance.post_proposal"))
    RequestConfig(request, paginate={"per_page": 100, **LAZY_PAGES}).configure(lines)
    invoice = ProjectInvoice.objects.filter(proposal=proposal).select_related("voucher").first()
    dates = ProposalDatesForm(initial={"invoice_date": proposal.invoice_date, "due_date": proposal.due_date})
    return render(request, "finance/proposal_detail.html",
                  {"proposal": proposal, "lines": lines, "invoice": invoice, "title": proposal.number, "dates": dates})


@permission_required("finance.view_integrationjournal", raise_exception=True)
def journal_detail(request, pk):
    journal = get_object_or_404(IntegrationJournal, pk=pk)
    lines = JournalLineTable(journal.lines.select_related("staging"))
    RequestConfig(request, paginate={"per_page": 100, **LAZY_PAGES}).configure(lines)
    return render(request, "finance/journal_detail.html", {"journal": journal, "lines": lines,
                                                           "title": journal.number})


@require_POST
@permission_required("finance.reset_journal", raise_exception=True)
def journal_reset(request, pk):
    get_object_or_404(IntegrationJournal, pk=pk)
    return run_action(request, lambda: journals.reset_journal_to_draft(journal_id=pk, by=_who(request)),
                      success=_("Journal reset to draft: the next Import from staging posts its lines."),
                      fallback="finance:journals")


@permission_required("finance.view_voucher", raise_exception=True)
def voucher_detail(request, pk):
    voucher = get_object_or_404(Voucher, pk=pk)
    entries = list(voucher.entries.all())
    balance = sum(e.accounting_amount for e in entries)
    return render(request, "finance/voucher_detail.html",
                  {"voucher": voucher, "entries": entries, "balance": balance, "title": voucher.number,
                   "debits": sum(e.debit or 0 for e in entries), "credits": sum(e.credit or 0 for e in entries)})


def _who(request) -> str:
    return request.user.get_username()


@require_POST
@permission_required("finance.run_import", raise_exception=True)
def import_run(request):
    return run_action(
        request, lambda: importing.import_from_staging(triggered_by=_who(request)),
        success=lambda run: _("Import run %(pk)s: %(status)s; %(journal)d journal lines posted, %(errors)d moved to "
                              "an error journal, %(lines)d proposal lines created, %(waiting)d rows waiting.")
        % {"pk": run.pk, "status": run.get_status_display(), "journal": run.journal_lines,
           "errors": run.error_lines, "lines": run.proposal_lines, "waiting": run.waiting_rows},
        fallback="finance:imports",
    )


@require_POST
@permission_required("finance.run_import", raise_exception=True)
def proposal_import(request, pk):
    proposal = get_object_or_404(InvoiceProposal, pk=pk)

    def outcome(run):
        proposal.refresh_from_db()
        if proposal.status == InvoiceProposal.Status.HEADER_ONLY:
            return _("No lines imported: %(reason)s") % {"reason": proposal.import_message or run.get_status_display()}
        return _("Lines imported: %(count)d.") % {"count": run.proposal_lines}

    return run_action(request, lambda: importing.import_lines_for(proposal_id=pk, triggered_by=_who(request)),
                      success=outcome, fallback=proposal)


@require_POST
@permission_required("finance.post_proposal", raise_exception=True)
def proposal_post(request, pk):
    proposal = get_object_or_404(InvoiceProposal, pk=pk)
    return run_action(request, lambda: posting.post_proposal(proposal_id=pk, by=_who(request)),
                      success=lambda inv: _("Posted as project invoice %(number)s.") % {"number": inv.number},
                      fallback=proposal)


@require_POST
@permission_required("finance.post_proposal", raise_exception=True)
def proposals_post(request):
    results = posting.post_proposals(proposal_ids=selected_ids(request), by=_who(request))
    for result in results:
        if result.error:
            messages.error(request, _("%(proposal)s not posted: %(error)s") % {"proposal": result.proposal,
                                                                              "error": result.error})
        else:
            messages.success(request, _("%(proposal)s posted as %(invoice)s.") % {"proposal": result.proposal,
                                                                                 "invoice": result.invoice})
    if not results:
        messages.error(request, _("Select the proposals to post."))
    return redirect("finance:proposals")


@require_POST
@permission_required("finance.run_import", raise_exception=True)
def proposal_delete_lines(request, pk):
    proposal = get_object_or_404(InvoiceProposal, pk=pk)
    return run_action(request, lambda: proposals.delete_all_lines(proposal_id=pk, by=_who(request)),
                      success=lambda n: _("%(count)d lines deleted; Import from staging re-creates them.")
                      % {"count": n}, fallback=proposal)


@require_POST
@permission_required("finance.post_proposal", raise_exception=True)
def proposal_dates(request, pk):
    proposal = get_object_or_404(InvoiceProposal, pk=pk)
    form = ProposalDatesForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter valid dates."))
        return redirect(proposal)
    return run_action(request, lambda: proposals.set_dates(proposal_id=pk, by=_who(request), **form.cleaned_data),
                      success=_("Dates saved."), fallback=proposal)


def _report(request, *, template, title, columns, rows, filename, **context):
    if request.GET.get("export") == "csv":
        return csv_response(filename, columns, rows)
    return render(request, template, {"title": title, "columns": columns, "rows": rows, **context})


def _date(request, name, default):
    try:
        return date.fromisoformat(request.GET.get(name, ""))
    except ValueError:
        return default


@permission_required("finance.view_voucher", raise_exception=True)
def trial_balance(request):
    today = timezone.localdate()
    start, end = _date(request, "start", today.replace(day=1)), _date(request, "end", today)
    columns = [("voucher__legal_entity", _("Legal entity")), ("account", _("Main account")),
               ("accounting_currency", _("Currency")), ("opening", _("Opening balance")), ("debit", _("Debit")),
               ("credit", _("Credit")), ("closing", _("Closing balance"))]
    return _report(request, template="finance/report.html", title=_("Trial balance"), columns=columns,
                   rows=reports.trial_balance(start=start, end=end), filename=f"trial-balance-{start}-{end}.csv",
                   filters={"start": start, "end": end})


@permission_required("finance.view_customertransaction", raise_exception=True)
def ageing(request):
    as_of = _date(request, "as_of", timezone.localdate())
    columns = [("legal_entity", _("Legal entity")), ("customer_number", _("Customer")), ("currency", _("Currency")),
               ("current", _("Not yet due")), ("days_1_30", _("1–30 days")), ("days_31_60", _("31–60 days")),
               ("days_61_90", _("61–90 days")), ("over_90", _("Over 90 days")), ("total", _("Total"))]
    return _report(request, template="finance/report.html", title=_("Customer ageing"), columns=columns,
                   rows=reports.ageing(as_of=as_of), filename=f"ageing-{as_of}.csv", filters={"as_of": as_of})


@permission_required("finance.view_projecttransaction", raise_exception=True)
def wip(request):
    columns = [("legal_entity", _("Legal entity")), ("project_number", _("Project")), ("accrued", _("Accrued WIP")),
               ("invoiced", _("Invoiced")), ("remaining", _("Remaining WIP"))]
    return _report(request, template="finance/report.html", title=_("WIP per project"), columns=columns,
                   rows=reports.wip(), filename="wip.csv", filters={})


@require_POST
@permission_required("finance.post_proposal", raise_exception=True)
def proposal_tax_groups(request, pk):
    proposal = get_object_or_404(InvoiceProposal, pk=pk)
    return run_action(
        request, lambda: proposals.set_tax_groups(
            proposal_id=pk, line_ids=selected_ids(request), by=_who(request),
            sales_tax_group=request.POST.get("sales_tax_group", "").strip(),
            item_tax_group=request.POST.get("item_tax_group", "").strip()),
        success=lambda n: _("Tax groups changed on %(count)d lines; the tax is recalculated.") % {"count": n},
        fallback=proposal)


# --- Accounting set-up and master data (finance.setup_pages declares each page) --------------


class SetupList(TablePage):
    template_name = "finance/setup_list.html"
    page: setup_pages.SetupPage = None

    @classmethod
    def for_page(cls, page):
        return cls.as_view(page=page, permission_required=page.view_permission, table_class=page.table_class(),
                           queryset=page.queryset(), filterset_fields=list(page.filters), title=page.title,
                           intro=page.help)

    def get_context_data(self, **kwargs):
        can_add = self.page.editable and self.page.can_add and self.request.user.has_perm(self.page.add_permission)
        return super().get_context_data(page=self.page, can_add=can_add, **kwargs)


def setup_index(request):
    visible = [page for page in setup_pages.PAGES if request.user.has_perm(page.view_permission)]
    if not visible:
        raise PermissionDenied
    return render(request, "finance/setup_index.html", {
        "title": _("Accounting set-up"),
        "setup": [p for p in visible if p.section != setup_pages.MASTER_DATA],
        "master_data": [p for p in visible if p.section == setup_pages.MASTER_DATA],
    })


def setup_edit(request, page, pk=None):
    """Create (pk None) or edit one set-up record; bad input shows the form's errors and saves nothing."""
    if not request.user.has_perm(page.change_permission if pk else page.add_permission):
        raise PermissionDenied
    instance = get_object_or_404(page.model, pk=pk) if pk else None
    form = page.form_class()(request.POST or None, instance=instance)
    for name in page.fixed_on_edit if instance else ():
        form.fields[name].disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            record = _save_setup_record(request, page, form, instance)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("%(what)s %(record)s saved.") % {
                "what": page.model._meta.verbose_name.capitalize(), "record": record})
            return redirect(f"finance:setup_{page.name}")
    title = (_("Edit %(what)s %(record)s") % {"what": page.model._meta.verbose_name, "record": instance}
             if instance else _("New %(what)s") % {"what": page.model._meta.verbose_name})
    return render(request, page.form_template, {"title": title, "form": form, "page": page, "record": instance})


def _save_setup_record(request, page, form, instance):
    """A new record as the form says; an edit changes only the page's fields, on the locked row."""
    if instance is not None:
        fields = [name for name in page.form_fields if name not in page.fixed_on_edit]
        return setup.update_record(model=page.model, pk=instance.pk, values=form.cleaned_data, fields=fields,
                                   by=_who(request))
    with transaction.atomic(using="finance"):
        record = form.save()
        if page.after_create:
            page.after_create(record)
    return record


@require_POST
@permission_required("finance.change_fiscalperiod", raise_exception=True)
def fiscal_period_close(request, pk, closed=True):
    period = get_object_or_404(FiscalPeriod, pk=pk)
    return run_action(request, lambda: setup.set_period_closed(period_id=pk, closed=closed, by=_who(request)),
                      success=(_("Period %(period)s closed.") if closed else _("Period %(period)s reopened."))
                      % {"period": period}, fallback="finance:setup_fiscal_periods")
