"""Dataverse's domain signals. Sent only by services, inside their transaction."""

from django.dispatch import Signal

# actual_ids: list of primary keys of actuals just created (any type).
actuals_created = Signal()
# invoice: the Invoice just confirmed.
proforma_confirmed = Signal()
