from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("dataverse/", include("dataverse.urls")),
    path("finance/", include("finance.urls")),
    path("integration/", include("projinv.dualwrite.urls")),
]
