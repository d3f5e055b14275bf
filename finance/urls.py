from django.urls import path

from . import setup_pages, views

app_name = "finance"
urlpatterns = [
    path("staging/", views.StagingList.as_view(), name="staging"),
    path("imports/", views.ImportRunList.as_view(), name="imports"),
    path("imports/run/", views.import_run, name="import_run"),
    path("journals/", views.JournalList.as_view(), name="journals"),
    path("journals/<int:pk>/", views.journal_detail, name="journal_detail"),
    path("journals/<int:pk>/reset/", views.journal_reset, name="journal_reset"),
    path("transactions/", views.ProjectTransactionList.as_view(), name="transactions"),
    path("proposals/", views.ProposalList.as_view(), name="proposals"),
    path("proposals/post/", views.proposals_post, name="proposals_post"),
    path("proposals/<int:pk>/", views.proposal_detail, name="proposal_detail"),
    path("proposals/<int:pk>/delete-lines/", views.proposal_delete_lines, name="proposal_delete_lines"),
    path("proposals/<int:pk>/dates/", views.proposal_dates, name="proposal_dates"),
    path("proposals/<int:pk>/tax-groups/", views.proposal_tax_groups, name="proposal_tax_groups"),
    path("proposals/<int:pk>/import/", views.proposal_import, name="proposal_import"),
    path("proposals/<int:pk>/post/", views.proposal_post, name="proposal_post"),
    path("invoices/", views.ProjectInvoiceList.as_view(), name="invoices"),
    path("customer-transactions/", views.CustomerTransactionList.as_view(), name="customer_transactions"),
    path("vouchers/", views.VoucherList.as_view(), name="vouchers"),
    path("vouchers/<int:pk>/", views.voucher_detail, name="voucher_detail"),
    path("reports/trial-balance/", views.trial_balance, name="trial_balance"),
    path("reports/ageing/", views.ageing, name="ageing"),
    path("reports/wip/", views.wip, name="wip"),
    path("setup/", views.setup_index, name="setup"),
    path("setup/fiscal-periods/<int:pk>/close/", views.fiscal_period_close, name="fiscal_period_close"),
    path("setup/fiscal-periods/<int:pk>/reopen/", views.fiscal_period_close, {"closed": False},
         name="fiscal_period_reopen"),
]
for page in setup_pages.PAGES:
    urlpatterns.append(path(f"setup/{page.slug}/", views.SetupList.for_page(page), name=f"setup_{page.name}"))
    if page.editable:
        urlpatterns.append(path(f"setup/{page.slug}/<int:pk>/", views.setup_edit, {"page": page},
                                name=f"setup_{page.name}_edit"))
    if page.editable and page.can_add:
        urlpatterns.append(path(f"setup/{page.slug}/new/", views.setup_edit, {"page": page},
                                name=f"setup_{page.name}_new"))
