"""Entries: the source documents that become actuals on approval (domain.md §2.2).

Time has its own model (a resource's hours, priced by role); expenses, material usage and fees share
one (`Entry`: a quantity of a transaction category, priced by category), decision D60.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .actuals import TransactionClass


class EntryStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class SourceDocument(models.Model):
    """What every kind of entry has: its description and its approval."""

    Status = EntryStatus

    description = models.CharField(_("description"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        abstract = True


class TimeEntry(SourceDocument):
    transaction_class = TransactionClass.TIME

    resource = models.ForeignKey("dataverse.Resource", models.PROTECT, related_name="time_entries")
    project = models.ForeignKey("dataverse.Project", models.PROTECT, related_name="time_entries")
    task = models.ForeignKey("dataverse.ProjectTask", models.PROTECT, null=True, blank=True, related_name="+")
    role = models.ForeignKey("dataverse.ResourceRole", models.PROTECT, related_name="+")
    date = models.DateField(_("date"))
    hours = models.DecimalField(_("hours"), max_digits=8, decimal_places=2)
    # Set by the approver when fewer (or more) hours are billable than were worked (domain.md §2.2.3).
    billable_hours = models.DecimalField(_("billable hours"), max_digits=8, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["-date", "pk"]
        verbose_name = _("time entry")
        verbose_name_plural = _("time entries")
        permissions = [("approve_timeentry", _("Can submit and approve time entries"))]
        constraints = [
            models.CheckConstraint(condition=models.Q(hours__gt=0), name="time_entry_hours_positive"),
            models.CheckConstraint(condition=models.Q(billable_hours__gte=0), name="time_entry_billable_not_negative"),
        ]
        indexes = [
            models.Index(fields=["status"], name="time_entry_pending",
                         condition=models.Q(status__in=["draft", "submitted"])),
        ]

    def __str__(self):
        return f"{self.date} {self.resource} {self.hours} h"

    @property
    def quantity(self):
        return self.hours


class Entry(SourceDocument):
    """An expense, a material usage or a fee: a quantity of a transaction category on a project."""

    CLASSES = [(c, TransactionClass(c).label) for c in (TransactionClass.EXPENSE, TransactionClass.MATERIAL,
                                                          TransactionClass.FEE)]

    transaction_class = models.CharField(_("transaction class"), max_length=20, choices=CLASSES)
    category = models.ForeignKey("dataverse.TransactionCategory", models.PROTECT, related_name="entries",
                                 verbose_name=_("category"))
    resource = models.ForeignKey("dataverse.Resource", models.PROTECT, null=True, blank=True, related_name="entries",
                                 verbose_name=_("resource"))
    project = models.ForeignKey("dataverse.Project", models.PROTECT, related_name="entries",
                                verbose_name=_("project"))
    task = models.ForeignKey("dataverse.ProjectTask", models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=_("task"))
    date = models.DateField(_("date"))
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=4)
    billable_quantity = models.DecimalField(_("billable quantity"), max_digits=14, decimal_places=4, null=True,
                                            blank=True)

    class Meta:
        ordering = ["-date", "pk"]
        verbose_name = _("expense, material or fee entry")
        verbose_name_plural = _("expense, material and fee entries")
        permissions = [("approve_entry", _("Can approve expense, material and fee entries"))]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="entry_quantity_positive"),
            models.CheckConstraint(condition=models.Q(billable_quantity__gte=0), name="entry_billable_not_negative"),
        ]
        indexes = [
            models.Index(fields=["status"], name="entry_pending",
                         condition=models.Q(status__in=["draft", "submitted"])),
        ]

    def __str__(self):
        return f"{self.date} {self.category} {self.quantity}"
