"""Dataverse's domain signals. Sent only by services, inside their transaction."""

from django.dispatch import Signal

# actual_ids: list of primary keys of actuals just created (any type).
actuals_created = Signal()
# invoice: the Invoice just confirmed.
proforma_confirmed = Signal()
# entity: the master-data map's name ("salesorders", "salesorderdetails", …); rows: plain dicts in
# Dataverse words, built by the selectors (`contract_rows` …). Sent whenever a contract, contract
# customer, contract line, project or transaction category is created, changed or deleted.
master_data_changed = Signal()
