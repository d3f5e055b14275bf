"""Fixed-price milestones (`msdyn_contractlinescheduleofvalue`, domain.md §3.1, §4.5, BR-13)."""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from projinv.money import CurrencyField, MoneyField

from .contracts import ModifiedOnField


class Milestone(models.Model):
    class InvoiceStatus(models.TextChoices):
        NOT_READY = "not_ready", _("Not ready")
        READY = "ready", _("Ready for invoicing")
        CUSTOMER_INVOICE_CREATED = "customer_invoice_created", _("Customer invoice created")
        # Set at Dataverse confirmation, not when finance posts (domain.md §4.5).
        CUSTOMER_INVOICE_POSTED = "customer_invoice_posted", _("Customer invoice posted")

    uuid = models.UUIDField(_("milestone ID"), default=uuid.uuid4, unique=True, editable=False)
    contract_line = models.ForeignKey("dataverse.ContractLine", models.PROTECT, related_name="milestones",
                                      verbose_name=_("contract line"))
    name = models.CharField(_("name"), max_length=200)
    milestone_date = models.DateField(_("milestone date"))  # a date, never a datetime (BR-26)
    amount = MoneyField(_("amount"))
    tax = MoneyField(_("tax"))
    currency = CurrencyField(_("currency"))
    invoice_status = models.CharField(_("invoice status"), max_length=30, choices=InvoiceStatus.choices,
                                      default=InvoiceStatus.NOT_READY)
    modified_on = ModifiedOnField()

    class Meta:
        ordering = ["contract_line", "milestone_date", "pk"]
        verbose_name = _("contract line milestone")
        verbose_name_plural = _("contract line milestones")
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="milestone_amount_positive"),
            # Deferred: renaming two milestones into each other's names is one valid change.
            models.UniqueConstraint(fields=["contract_line", "name"], name="one_milestone_name_per_line",
                                    deferrable=models.Deferrable.DEFERRED),
        ]
        indexes = [models.Index(fields=["invoice_status"], name="milestone_backlog",
                                condition=models.Q(invoice_status__in=["not_ready", "ready"]))]

    def __str__(self):
        return self.name
