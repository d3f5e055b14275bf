from .actuals import (
    IN_BACKLOG,
    OPEN_BILLING_STATUSES,
    Actual,
    AdjustmentStatus,
    BillingStatus,
    BillingType,
    TransactionClass,
    TransactionConnection,
    TransactionType,
)
from .contracts import (
    CategoryPrice,
    ContractCustomer,
    ContractLine,
    ContractLineCategory,
    ContractLineCustomer,
    ContractLineRole,
    ContractLineTask,
    Customer,
    InvoiceSchedule,
    PriceList,
    Project,
    ProjectContract,
    ProjectTask,
    Resource,
    ResourceRole,
    RolePrice,
    TransactionCategory,
)
from .entries import Entry, EntryStatus, TimeEntry
from .invoices import Invoice, InvoiceLine, InvoiceLineDetail
from .milestones import Milestone

__all__ = [
    "IN_BACKLOG", "OPEN_BILLING_STATUSES",
    "Actual", "AdjustmentStatus", "BillingStatus", "BillingType", "TransactionClass", "TransactionConnection",
    "TransactionType", "ContractCustomer", "ContractLine", "Customer", "InvoiceSchedule", "PriceList", "Project",
    "ProjectContract", "ProjectTask",
    "Resource", "ResourceRole", "RolePrice", "TimeEntry", "Entry", "EntryStatus", "TransactionCategory",
    "CategoryPrice", "ContractLineTask", "ContractLineCustomer", "ContractLineRole", "ContractLineCategory", "Invoice",
    "InvoiceLine", "InvoiceLineDetail", "Milestone",
]
