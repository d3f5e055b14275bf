"""Dataverse's own reactions to its domain signals: one-line adapters to services."""

from django.dispatch import receiver

from .services import billing
from .signals import proforma_confirmed


@receiver(proforma_confirmed, dispatch_uid="dataverse.create_billing_actuals")
def _create_billing_actuals(sender, invoice, **kwargs):
    billing.create_billing_actuals(invoice=invoice)
