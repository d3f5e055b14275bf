"""Initial sync of a master-data map: every record Dataverse has, queued again (domain.md §6.1).

Microsoft's dual-write copies the existing rows when a map is started; here an integration admin
runs it from the map overview (a new finance environment, or a map that was stopped for a while).
Safe to run twice: finance applies a record only when it is newer than what it holds (D41).
"""

from django.db import transaction
from django.utils.translation import gettext as _

from dataverse import models as dv
from dataverse import selectors
from projinv.domain import DomainError

from . import outbox
from .maps import MASTER_DATA

ALL_ROWS = {
    "salesorders": lambda: selectors.contract_rows(dv.ProjectContract.objects.values("pk")),
    "msdyn_projectcontractsplitbillingrules":
        lambda: selectors.contract_customer_rows(dv.ProjectContract.objects.values("pk")),
    "salesorderdetails": lambda: selectors.contract_line_rows(dv.ContractLine.objects.values("pk")),
    "msdyn_projects": lambda: selectors.project_rows(dv.Project.objects.values("pk")),
    "msdyn_transactioncategories":
        lambda: selectors.transaction_category_rows(dv.TransactionCategory.objects.values("pk")),
    "msdyn_contractlinescheduleofvalues": lambda: selectors.milestone_rows(dv.Milestone.objects.values("pk")),
}


@transaction.atomic
def run_initial_sync(*, map_code: str) -> int:
    """Queue every record of one master-data map; returns how many rows."""
    if map_code not in MASTER_DATA:
        raise DomainError(_("Only master-data maps have an initial sync; %(code)s is not one.") % {"code": map_code})
    changes = outbox.record_rows(MASTER_DATA[map_code], ALL_ROWS[map_code]())
    return sum(change.row_count for change in changes)
