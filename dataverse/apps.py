from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DataverseConfig(AppConfig):
    name = "dataverse"
    verbose_name = _("Dataverse (Project Operations)")

    def ready(self):
        from . import receivers  # noqa: F401 - connects the receivers
