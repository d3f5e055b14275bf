from .invoicing import CustomerTransaction, InvoiceProposal, InvoiceProposalLine, ProjectInvoice
from .journals import IntegrationJournal, IntegrationJournalLine, ProjectTransaction
from .ledger import LedgerEntry, Voucher
from .master import (
    ContractBillingRule,
    FundingSource,
    OnAccountTransaction,
    Project,
    ProjectContract,
    ProjectGroup,
    TransactionCategory,
)
from .projops import (
    CATEGORY_TYPE,
    BillingType,
    CategoryType,
    CostRevenueProfile,
    CostRevenueProfileRule,
    IntegrationParameters,
    LineProperty,
    ProjectCategory,
)
from .setup import (
    Customer,
    ExchangeRate,
    FiscalPeriod,
    ItemSalesTaxGroup,
    LedgerAccount,
    LegalEntity,
    NumberSequence,
    PostingSetup,
    SalesTaxGroup,
    TaxRate,
)
from .staging import ActualStaging, ImportIssue, ImportRun, TransactionConnectionStaging

__all__ = [
    "CustomerTransaction", "InvoiceProposal", "InvoiceProposalLine", "ProjectInvoice", "IntegrationJournal",
    "IntegrationJournalLine", "ProjectTransaction", "LedgerEntry", "Voucher", "Customer", "ExchangeRate",
    "FiscalPeriod", "ItemSalesTaxGroup", "SalesTaxGroup", "TaxRate",
    "LedgerAccount", "LegalEntity", "NumberSequence", "PostingSetup", "ActualStaging", "ImportIssue", "ImportRun",
    "TransactionConnectionStaging", "ContractBillingRule", "FundingSource", "OnAccountTransaction", "Project",
    "ProjectContract", "ProjectGroup", "TransactionCategory", "BillingType", "CategoryType", "CostRevenueProfile",
    "CostRevenueProfileRule", "IntegrationParameters", "LineProperty", "ProjectCategory", "CATEGORY_TYPE",
]
