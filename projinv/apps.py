from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(sender, using, **kwargs):
    if using == "default":
        from projinv.roles import sync_roles

        sync_roles(using=using)


class ProjinvConfig(AppConfig):
    name = "projinv"
    verbose_name = "projinv portal"

    def ready(self):
        from . import lookups  # noqa: F401 - registers `__any` on every field
        post_migrate.connect(_sync_roles, dispatch_uid="projinv.sync_roles")
