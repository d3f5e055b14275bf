from django.urls import path

from . import views

app_name = "dualwrite"
urlpatterns = [
    path("", views.changes, name="changes"),
    path("<str:source>/retry/", views.retry, name="retry"),
    path("sweep/", views.sweep, name="sweep"),
]
