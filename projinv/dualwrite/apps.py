from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DualwriteConfig(AppConfig):
    name = "projinv.dualwrite"
    label = "dualwrite"
    verbose_name = _("Dual-write bridge")

    def ready(self):
        from . import receivers  # noqa: F401 - connects the receivers
