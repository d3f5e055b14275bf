from django.urls import path

from . import views

app_name = "dataverse"
urlpatterns = [
    path("entries/", views.TimeEntryList.as_view(), name="entries"),
    path("entries/submit/", views.entries_submit, name="entries_submit"),
    path("entries/approve/", views.entries_approve, name="entries_approve"),
    path("entries/reject/", views.entries_reject, name="entries_reject"),
    path("entries/recall/", views.entries_recall, name="entries_recall"),
    path("actuals/", views.ActualList.as_view(), name="actuals"),
    path("backlog/", views.Backlog.as_view(), name="backlog"),
    path("backlog/ready/", views.backlog_ready, name="backlog_ready"),
    path("backlog/not-ready/", views.backlog_not_ready, name="backlog_not_ready"),
    path("contracts/", views.ContractList.as_view(), name="contracts"),
    path("contracts/invoice/", views.contracts_invoice, name="contracts_invoice"),
    path("schedule/", views.InvoiceScheduleList.as_view(), name="schedule"),
    path("contracts/<int:pk>/", views.contract_detail, name="contract_detail"),
    path("contracts/<int:contract_pk>/invoice/", views.invoice_create, name="invoice_create"),
    path("invoices/", views.InvoiceList.as_view(), name="invoices"),
    path("invoices/confirm/", views.invoices_confirm, name="invoices_confirm"),
    path("invoices/<int:pk>/", views.invoice_detail, name="invoice_detail"),
    path("invoices/<int:pk>/confirm/", views.invoice_confirm, name="invoice_confirm"),
    path("invoices/<int:pk>/refresh/", views.invoice_refresh, name="invoice_refresh"),
    path("invoices/<int:pk>/revise/", views.invoice_revise, name="invoice_revise"),
    path("details/<int:pk>/", views.detail_edit, name="detail_edit"),
    path("details/<int:pk>/delete/", views.detail_delete, name="detail_delete"),
]
