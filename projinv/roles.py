"""The four staff roles, as groups with permissions (kept in sync after every migrate)."""

PROJECT_MANAGER = "Project manager"
PROJECT_ACCOUNTANT = "Project accountant"
AR_CLERK = "Accounts-receivable clerk"
INTEGRATION_ADMIN = "Integration admin"

_DATAVERSE_VIEW = [
    f"dataverse.view_{m}"
    for m in ("customer", "projectcontract", "contractline", "project", "timeentry", "actual", "invoice", "entry",
              "transactioncategory", "pricelist", "resourcerole", "resource")
]
_FINANCE_VIEW = [
    f"finance.view_{m}"
    for m in (
        "actualstaging",
        "importrun",
        "integrationjournal",
        "projecttransaction",
        "invoiceproposal",
        "projectinvoice",
        "customertransaction",
        "voucher",
    )
]

# The accounting set-up the project accountant maintains, and the master data finance only reads.
_FINANCE_SETUP = [
    f"finance.{action}_{m}"
    for m in ("legalentity", "ledgeraccount", "postingsetup", "customer", "exchangerate", "salestaxgroup",
              "itemsalestaxgroup", "taxrate", "fiscalperiod", "projectgroup", "lineproperty", "projectcategory",
              "integrationparameters", "costrevenueprofile", "costrevenueprofilerule")
    for action in ("view", "add", "change")
]
_FINANCE_MASTER_DATA = [
    f"finance.view_{m}"
    for m in ("projectcontract", "fundingsource", "contractbillingrule", "project", "transactioncategory",
              "onaccounttransaction")
]

ROLES: dict[str, list[str]] = {
    PROJECT_MANAGER: [
        *_DATAVERSE_VIEW,
        "dataverse.add_timeentry",
        "dataverse.add_entry",
        "dataverse.approve_entry",
        "dataverse.add_projectcontract",
        "dataverse.change_projectcontract",
        "dataverse.manage_contract_status",
        "dataverse.change_contractline",
        "dataverse.change_transactioncategory",
        "dataverse.change_pricelist",
        "dataverse.change_resourcerole",
        "dataverse.change_resource",
        "dataverse.approve_timeentry",
        "dataverse.manage_backlog",
        "dataverse.create_proforma",
        "dataverse.confirm_invoice",
    ],
    PROJECT_ACCOUNTANT: [
        *_FINANCE_VIEW,
        *_FINANCE_SETUP,
        *_FINANCE_MASTER_DATA,
        "finance.change_project",
        "finance.change_onaccounttransaction",
        "finance.reset_journal",
        "finance.run_import",
        "finance.post_proposal",
        "dataverse.view_actual",
        "dataverse.view_invoice",
        "dualwrite.view_reconciliation",
    ],
    AR_CLERK: [
        "finance.view_invoiceproposal",
        "finance.view_projectinvoice",
        "finance.view_customertransaction",
        "finance.view_voucher",
        "finance.run_import",
        "finance.post_proposal",
    ],
    INTEGRATION_ADMIN: [
        "dualwrite.view_dataversechange",
        "dualwrite.view_financechange",
        "dualwrite.manage_integration",
        "dualwrite.view_reconciliation",
        "finance.view_actualstaging",
        "finance.view_importrun",
        "dataverse.view_actual",
        "dataverse.view_invoice",
    ],
}

def sync_roles(using="default") -> None:
    """Create the role groups and give each exactly its permissions (idempotent)."""
    from django.contrib.auth.models import Group, Permission

    for role, perms in ROLES.items():
        group, _created = Group.objects.using(using).get_or_create(name=role)
        wanted = [tuple(p.split(".", 1)) for p in perms]
        found = Permission.objects.using(using).filter(
            content_type__app_label__in={app for app, _c in wanted}, codename__in={c for _a, c in wanted}
        ).select_related("content_type")
        group.permissions.set([p for p in found if (p.content_type.app_label, p.codename) in wanted])
