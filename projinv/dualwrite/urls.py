from django.urls import path

from . import views

app_name = "dualwrite"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("errors/", views.error_queue, name="errors"),
    path("activity/", views.activity_log, name="activity"),
    path("changes/<str:source>/<int:pk>/", views.change_detail, name="change_detail"),
    path("maps/<str:code>/state/", views.map_state, name="map_state"),
    path("maps/<str:code>/initial-sync/", views.initial_sync, name="initial_sync"),
    path("errors/take/", views.take, name="take"),
    path("errors/retry/", views.retry, name="retry"),
    path("errors/retry-all/", views.retry_all, name="retry_all"),
    path("errors/dismiss/", views.dismiss, name="dismiss"),
    path("activity/replay/", views.replay, name="replay"),
    path("sweep/", views.sweep, name="sweep"),
    path("reconciliation/", views.reconciliation, name="reconciliation"),
    path("reconciliation/actuals/resync/", views.resync_actuals, name="resync_actuals"),
    path("reconciliation/<str:number>/", views.reconcile_invoice, name="reconcile_invoice"),
    path("reconciliation/<str:number>/resync/", views.resync_invoice, name="resync_invoice"),
]
