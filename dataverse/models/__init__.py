from .actuals import (
    Actual,
    AdjustmentStatus,
    BillingStatus,
    BillingType,
    TransactionClass,
    TransactionConnection,
    TransactionType,
)
from .contracts import (
    ContractCustomer,
    ContractLine,
    Customer,
    InvoiceSchedule,
    PriceList,
    Project,
    ProjectContract,
    ProjectTask,
    Resource,
    ResourceRole,
    RolePrice,
)
from .entries import TimeEntry
from .invoices import Invoice, InvoiceLine, InvoiceLineDetail

__all__ = [
    "Actual", "AdjustmentStatus", "BillingStatus", "BillingType", "TransactionClass", "TransactionConnection",
    "TransactionType", "ContractCustomer", "ContractLine", "Customer", "InvoiceSchedule", "PriceList", "Project",
    "ProjectContract", "ProjectTask",
    "Resource", "ResourceRole", "RolePrice", "TimeEntry", "Invoice", "InvoiceLine", "InvoiceLineDetail",
]
