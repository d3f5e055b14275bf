"""The outboxes of the bridge: one per source system, each in that system's database.

A change is written in the same transaction as the business change that caused it (so a
rolled-back approval leaves no change behind) and delivered at least once by the relay; the
receiving side's unique business keys make a second delivery a no-op.
"""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Change(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed (error queue)")

    map_code = models.CharField(_("table map"), max_length=40)
    key = models.CharField(_("business key"), max_length=200)
    payload = models.JSONField(_("payload"), encoder=DjangoJSONEncoder)
    row_count = models.PositiveIntegerField(_("rows"), default=1)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    # Set while a worker holds the change; a claim older than DUALWRITE["CLAIM_SECONDS"] is void.
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        abstract = True
        ordering = ["pk"]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="%(class)s_pending",
                         condition=models.Q(status="pending")),
        ]

    def __str__(self):
        return f"{self.map_code} {self.key}"


class DataverseChange(Change):
    """A change made in Dataverse, bound for finance. Lives in the `default` database."""

    class Meta(Change.Meta):
        verbose_name = _("Dataverse → finance change")
        verbose_name_plural = _("Dataverse → finance changes")
        permissions = [("manage_integration", _("Can retry and manage dual-write changes"))]


class FinanceChange(Change):
    """A change made in finance, bound for Dataverse. Lives in the `finance` database."""

    class Meta(Change.Meta):
        verbose_name = _("finance → Dataverse change")
        verbose_name_plural = _("finance → Dataverse changes")
