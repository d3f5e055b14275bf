"""Time entries: the source documents that become actuals on approval (domain.md §2.2)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeEntry(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    resource = models.ForeignKey("dataverse.Resource", models.PROTECT, related_name="time_entries")
    project = models.ForeignKey("dataverse.Project", models.PROTECT, related_name="time_entries")
    task = models.ForeignKey("dataverse.ProjectTask", models.PROTECT, null=True, blank=True, related_name="+")
    role = models.ForeignKey("dataverse.ResourceRole", models.PROTECT, related_name="+")
    date = models.DateField(_("date"))
    hours = models.DecimalField(_("hours"), max_digits=8, decimal_places=2)
    description = models.CharField(_("description"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-date", "pk"]
        verbose_name = _("time entry")
        verbose_name_plural = _("time entries")
        permissions = [("approve_timeentry", _("Can submit and approve time entries"))]
        constraints = [models.CheckConstraint(condition=models.Q(hours__gt=0), name="time_entry_hours_positive")]
        indexes = [
            models.Index(fields=["status"], name="time_entry_pending",
                         condition=models.Q(status__in=["draft", "submitted"])),
        ]

    def __str__(self):
        return f"{self.date} {self.resource} {self.hours} h"
