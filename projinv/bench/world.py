"""The benchmark's data: master data once per pass, then each round's entries and invoices.

The generator is set-based SQL (and COPY between the two databases) so that making 200,000
entries or 2,000 confirmed invoices costs seconds: the benchmark measures the services, not its
own data generator. Where generated data is the input of a measured stage, it is the state the
services themselves would leave (confirmed invoices, their billed sales and proposal headers),
and each stage checks its outcome, so a generator that drifted from the services would fail the
run instead of producing a flattering number.

Business keys carry the pass's prefix (`T` for the 1/10 pass, `F` for the full one), so both
passes live side by side in the same databases.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import connections, transaction

from dataverse import models as dv
from finance import models as fin
from projinv.dualwrite import demo

from . import databases, sqlgen
from .volumes import ENTRIES_PER_CONTRACT, Volumes

LEGAL_ENTITY = demo.LEGAL_ENTITY
CURRENCY = "USD"
PAYMENT_DAYS = 30
# Role: (cost price, sales price) per hour.
ROLES = {
    "Consultant": (Decimal("100"), Decimal("200")), "Senior consultant": (Decimal("125"), Decimal("250")),
    "Architect": (Decimal("150"), Decimal("300")), "Project manager": (Decimal("140"), Decimal("280")),
    "Developer": (Decimal("90"), Decimal("180")), "Tester": (Decimal("70"), Decimal("145")),
    "Data analyst": (Decimal("95"), Decimal("190")), "Solution lead": (Decimal("170"), Decimal("340")),
}
FIRST_DAY = date(2026, 1, 1)
ROUND_DAYS = 91  # each round's work spreads over three months (three journals per import)


@dataclass
class World:
    prefix: str
    volumes: Volumes
    user: User
    resources: list[int]
    resource_roles: list[int]
    projects: list[int]  # regular projects, one T&M contract each
    tasks: list[int]
    contracts: list[int]
    big: dict  # project_id, task_id, contract_id: the "confirm one invoice" contract
    e2e: dict  # the end-to-end invoice's contract

    def round_start(self, round_no: int) -> date:
        return FIRST_DAY + timedelta(days=ROUND_DAYS * round_no)


def execute(alias: str, statement: str, params=None) -> int:
    with connections[alias].cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def fetch(alias: str, statement: str, params=None) -> list[tuple]:
    with connections[alias].cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()


# --- Master data ------------------------------------------------------------------------------


def ensure_user() -> User:
    """The benchmark's superuser: approver, invoice creator and the pages' visitor."""
    user, created = User.objects.get_or_create(username="bench", defaults={"is_staff": True, "is_superuser": True})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def create_world(prefix: str, volumes: Volumes) -> World:
    user = ensure_user()
    demo.load_finance()  # legal entity USPM, its accounts and posting set-up (idempotent)
    n = volumes.contracts + 2  # the regular ones, then the big invoice's and the end-to-end one's
    with transaction.atomic():
        cost_list = dv.PriceList.objects.create(name=f"{prefix} cost", currency=CURRENCY)
        sales_list = dv.PriceList.objects.create(name=f"{prefix} sales", currency=CURRENCY)
        roles = dv.ResourceRole.objects.bulk_create(dv.ResourceRole(name=f"{prefix} {name}") for name in ROLES)
        prices = list(zip(roles, ROLES.values(), strict=True))
        dv.RolePrice.objects.bulk_create(
            [dv.RolePrice(price_list=cost_list, role=role, price=cost) for role, (cost, _s) in prices]
            + [dv.RolePrice(price_list=sales_list, role=role, price=sales) for role, (_c, sales) in prices])
        resources = dv.Resource.objects.bulk_create(
            dv.Resource(name=f"{prefix} resource {i:04d}", role=roles[i % len(roles)])
            for i in range(volumes.resources))
        customers = dv.Customer.objects.bulk_create(
            dv.Customer(number=f"{prefix}C{i:05d}", name=f"Customer {prefix}{i:05d}", legal_entity=LEGAL_ENTITY)
            for i in range(volumes.customers))
        projects = dv.Project.objects.bulk_create(
            dv.Project(number=f"{prefix}P{i:05d}", name=f"Rollout {prefix}{i:05d}", legal_entity=LEGAL_ENTITY,
                       cost_price_list=cost_list) for i in range(n))
        tasks = dv.ProjectTask.objects.bulk_create(dv.ProjectTask(project=p, name="Design and build") for p in projects)
        contracts = dv.ProjectContract.objects.bulk_create(
            dv.ProjectContract(number=f"{prefix}K{i:05d}", name=f"Contract {prefix}{i:05d}",
                               customer=customers[i % len(customers)], legal_entity=LEGAL_ENTITY, currency=CURRENCY,
                               sales_price_list=sales_list) for i in range(n))
        dv.ContractLine.objects.bulk_create(
            dv.ContractLine(contract=c, name="Time and material", project=p,
                            billing_method=dv.ContractLine.BillingMethod.TIME_AND_MATERIAL)
            for c, p in zip(contracts, projects, strict=True))
    entity = fin.LegalEntity.objects.get(code=LEGAL_ENTITY)
    fin.Customer.objects.bulk_create(
        [fin.Customer(legal_entity=entity, number=c.number, name=c.name, payment_days=PAYMENT_DAYS) for c in customers],
        ignore_conflicts=True)

    def special(i):
        return {"project_id": projects[i].pk, "task_id": tasks[i].pk, "contract_id": contracts[i].pk}

    regular = range(volumes.contracts)
    return World(
        prefix=prefix, volumes=volumes, user=user,
        resources=[r.pk for r in resources], resource_roles=[r.role_id for r in resources],
        projects=[projects[i].pk for i in regular], tasks=[tasks[i].pk for i in regular],
        contracts=[contracts[i].pk for i in regular], big=special(n - 2), e2e=special(n - 1),
    )


# --- Time entries -----------------------------------------------------------------------------


def create_entries(world: World, round_no: int, *, projects, tasks, per_project: int) -> int:
    """Submitted time entries: `per_project` on each project, resources and hours varied, spread
    over the round's three months."""
    values = {
        "resource_id": "(%(resources)s::bigint[])[r.k]", "role_id": "(%(roles)s::bigint[])[r.k]",
        "project_id": "p.project_id", "task_id": "p.task_id",
        "date": "%(start)s::date + ((p.n * 31 + g.i * 7) %% %(days)s)::int",
        "hours": "(2 + (p.n * 7 + g.i * 3) %% 31) * 0.25",  # 0.50 … 8.00
        "description": "'Round ' || %(round)s || ': analysis, build and test, item ' || g.i",
        "status": "'submitted'", "submitted_at": "now()",
    }
    rest = """FROM unnest(%(projects)s::bigint[], %(tasks)s::bigint[]) WITH ORDINALITY AS p(project_id, task_id, n)
 CROSS JOIN generate_series(1, %(per_project)s) AS g(i)
 CROSS JOIN LATERAL (SELECT 1 + ((p.n * 13 + g.i) %% %(nres)s)::int AS k) r
 ORDER BY p.n, g.i"""
    return execute("default", sqlgen.insert_select(dv.TimeEntry, values, rest), {
        "resources": world.resources, "roles": world.resource_roles, "nres": len(world.resources),
        "projects": list(projects), "tasks": list(tasks), "per_project": per_project,
        "start": world.round_start(round_no), "days": ROUND_DAYS, "round": str(round_no + 1),
    })


def create_round_entries(world: World, round_no: int) -> int:
    return create_entries(world, round_no, projects=world.projects, tasks=world.tasks,
                          per_project=ENTRIES_PER_CONTRACT)


def submitted_entry_ids(project_ids) -> list[int]:
    return list(dv.TimeEntry.objects.filter(status=dv.TimeEntry.Status.SUBMITTED, project_id__in=project_ids)
                .order_by("pk").values_list("pk", flat=True))


# --- Approval in SQL ---------------------------------------------------------------------------
# What approve_time_entries leaves: a cost actual per entry, an unbilled sale on a T&M line,
# their connection, the entry approved. Generates the history of the special invoices and, on
# the twin tables, is the approval's floor.


def approval_actuals_sql(*, entries: str, actuals: str, where: str) -> str:
    return sqlgen.insert_select(dv.Actual, {
        "transaction_type": "k.type", "transaction_class": "'time'", "billing_type": "k.billing_type",
        "billing_status": "k.billing_status", "project_id": "e.project_id", "task_id": "e.task_id",
        "resource_id": "e.resource_id", "role_id": "e.role_id", "customer_id": "c.customer_id",
        "contract_id": "c.id", "contract_line_id": "l.id", "time_entry_id": "e.id", "transaction_date": "e.date",
        "accounting_date": "e.date", "quantity": "e.hours", "price": "k.price",
        "amount": "projinv_round_money(e.hours * k.price, k.currency)", "currency": "k.currency",
        "description": "e.description",
    }, f"""FROM {entries} e
  JOIN dataverse_project p ON p.id = e.project_id
  JOIN dataverse_pricelist cpl ON cpl.id = p.cost_price_list_id
  JOIN dataverse_roleprice cp ON cp.price_list_id = p.cost_price_list_id AND cp.role_id = e.role_id
  LEFT JOIN (dataverse_contractline l JOIN dataverse_projectcontract c ON c.id = l.contract_id AND c.status = 'active')
         ON l.project_id = e.project_id AND l.include_time
  LEFT JOIN dataverse_roleprice sp ON sp.price_list_id = c.sales_price_list_id AND sp.role_id = e.role_id
 CROSS JOIN LATERAL (VALUES ('cost', 'not_available', '', cp.price, cpl.currency),
                            ('unbilled_sales', 'chargeable', 'unbilled_sales_created', sp.price, c.currency))
       AS k(type, billing_type, billing_status, price, currency)
 WHERE e.status = 'submitted' AND ({where}) AND (k.type = 'cost' OR l.billing_method = 'tm')
 ORDER BY e.id, k.type""", table=actuals)


def approval_connections_sql(*, actuals: str, connections: str, where: str) -> str:
    # One pass grouped by entry rather than a self-join: linear whatever the planner knows.
    return sqlgen.insert_select(dv.TransactionConnection, {
        "transaction1_id": "max(a.id) FILTER (WHERE a.transaction_type = 'unbilled_sales')",
        "transaction1_role": "'unbilled_sales'",
        "transaction2_id": "max(a.id) FILTER (WHERE a.transaction_type = 'cost')", "transaction2_role": "'cost'",
    }, f"""FROM {actuals} a WHERE {where}
 GROUP BY a.time_entry_id HAVING count(*) FILTER (WHERE a.transaction_type = 'unbilled_sales') > 0""",
        table=connections)


APPROVE_ENTRIES_SQL = ("UPDATE {entries} e SET status = 'approved', approved_at = now(), approved_by_id = %(user)s "
                       "WHERE e.status = 'submitted' AND ({where})")


@transaction.atomic
def approve_in_sql(w: World, project_ids: list[int]) -> int:
    """Approve the submitted entries of these projects without the service (not a measured stage)."""
    where = "e.project_id = ANY(%(projects)s)"
    params = {"projects": project_ids, "user": w.user.pk}
    count = execute("default", approval_actuals_sql(entries="dataverse_timeentry", actuals="dataverse_actual",
                                                    where=where), params)
    execute("default", approval_connections_sql(
        actuals="dataverse_actual", connections="dataverse_transactionconnection",
        where="a.time_entry_id IN (SELECT e.id FROM dataverse_timeentry e WHERE e.status = 'submitted' "
              "AND e.project_id = ANY(%(projects)s))"), params)
    execute("default", APPROVE_ENTRIES_SQL.format(entries="dataverse_timeentry", where=where), params)
    return count


# --- Proforma invoices of the regular contracts -----------------------------------------------

MARK_READY_SQL = """
UPDATE dataverse_actual SET billing_status = 'ready_to_invoice'
 WHERE transaction_type = 'unbilled_sales' AND adjustment_status = '' AND billing_type = 'chargeable'
   AND billing_status = 'unbilled_sales_created' AND contract_id = ANY(%(contracts)s)
"""

STAMP_ACTUALS_SQL = """
UPDATE dataverse_actual a SET billing_status = 'customer_invoice_created', invoice_id = d.invoice_id
  FROM dataverse_invoicelinedetail d WHERE d.actual_id = a.id AND d.invoice_id = ANY(%(ids)s)
"""

TOTALS_SQL = [
    """UPDATE dataverse_invoiceline il SET amount = x.amount, tax = x.tax, extended_amount = x.amount + x.tax
         FROM (SELECT invoice_line_id, sum(amount) AS amount, sum(tax) AS tax FROM dataverse_invoicelinedetail
                WHERE invoice_id = ANY(%(ids)s) AND billing_type = 'chargeable' GROUP BY invoice_line_id) x
        WHERE il.id = x.invoice_line_id""",
    """UPDATE dataverse_invoice i SET amount = x.amount, tax = x.tax, total = x.amount + x.tax
         FROM (SELECT invoice_id, sum(amount) AS amount, sum(tax) AS tax FROM dataverse_invoiceline
                WHERE invoice_id = ANY(%(ids)s) GROUP BY invoice_id) x
        WHERE i.id = x.invoice_id""",
]


@transaction.atomic
def create_invoices(world: World, contract_ids: list[int], *, invoice_date: date) -> list[int]:
    """What `create_proforma_invoice` leaves, for many contracts at once: the unbilled sales
    marked ready and put on one draft invoice per contract, with lines, details and totals."""
    execute("default", MARK_READY_SQL, {"contracts": contract_ids})
    invoice_sql = sqlgen.insert_select(dv.Invoice, {
        "number": "'INV-' || lpad(nextval('dataverse_invoice_number')::text, 6, '0')", "name": "c.name",
        "contract_id": "c.id", "customer_id": "c.customer_id", "currency": "c.currency", "status": "'draft'",
        "invoice_date": "%(date)s", "created_by_id": "%(user)s",
    }, "FROM dataverse_projectcontract c WHERE c.id = ANY(%(contracts)s) ORDER BY c.id",
        suffix="RETURNING contract_id, id")
    by_contract = dict(fetch("default", invoice_sql,
                             {"date": invoice_date, "user": world.user.pk, "contracts": contract_ids}))
    ids = [by_contract[contract] for contract in contract_ids]  # in the order asked
    execute("default", sqlgen.insert_select(dv.InvoiceLine, {
        "invoice_id": "i.id", "contract_line_id": "l.id"},
        "FROM dataverse_invoice i JOIN dataverse_contractline l ON l.contract_id = i.contract_id "
        "WHERE i.id = ANY(%(ids)s) ORDER BY i.id, l.id"), {"ids": ids})
    execute("default", sqlgen.insert_select(dv.InvoiceLineDetail, {
        "invoice_line_id": "il.id", "invoice_id": "il.invoice_id", "actual_id": "a.id",
        "transaction_class": "a.transaction_class", "billing_type": "a.billing_type",
        "transaction_date": "a.transaction_date", "description": "a.description", "quantity": "a.quantity",
        "price": "a.price", "amount": "a.amount", "currency": "a.currency",
    }, """FROM dataverse_invoiceline il
  JOIN dataverse_invoice i ON i.id = il.invoice_id
  JOIN dataverse_actual a ON a.contract_id = i.contract_id AND a.contract_line_id = il.contract_line_id
 WHERE il.invoice_id = ANY(%(ids)s) AND a.transaction_type = 'unbilled_sales' AND a.adjustment_status = ''
   AND a.billing_status = 'ready_to_invoice'
 ORDER BY il.invoice_id, a.transaction_date, a.id"""), {"ids": ids})
    execute("default", STAMP_ACTUALS_SQL, {"ids": ids})
    for statement in TOTALS_SQL:
        execute("default", statement, {"ids": ids})
    return ids


# --- Confirmation of the regular invoices (the input of "proposal lines") ---------------------

BILLING_ACTUAL_VALUES = {
    # One reversal (never synced) and one billed sale per detail, as create_billing_actuals makes.
    "transaction_type": "CASE k.kind WHEN 'billed' THEN 'billed_sales' ELSE 'unbilled_sales' END",
    "transaction_class": "o.transaction_class",
    "billing_type": "CASE k.kind WHEN 'billed' THEN d.billing_type ELSE o.billing_type END",
    "billing_status": "'customer_invoice_posted'",
    "adjustment_status": "CASE k.kind WHEN 'billed' THEN '' ELSE 'unadjustable' END",
    "skip_sync": "k.kind = 'reversal'",
    "project_id": "o.project_id", "task_id": "o.task_id", "resource_id": "o.resource_id", "role_id": "o.role_id",
    "customer_id": "o.customer_id", "contract_id": "o.contract_id", "contract_line_id": "o.contract_line_id",
    "time_entry_id": "o.time_entry_id", "invoice_id": "d.invoice_id", "invoice_line_detail_id": "d.id",
    "transaction_date": "o.transaction_date", "accounting_date": "(i.confirmed_at AT TIME ZONE 'UTC')::date",
    "quantity": "CASE k.kind WHEN 'billed' THEN d.quantity ELSE -o.quantity END",
    "price": "CASE k.kind WHEN 'billed' THEN d.price ELSE o.price END",
    "amount": "CASE k.kind WHEN 'billed' THEN d.amount ELSE -o.amount END",
    "unit": "o.unit", "currency": "o.currency", "description": "d.description",
}

BILLING_ACTUALS_FROM = """FROM {details} d
  JOIN {actuals} o ON o.id = d.actual_id
  JOIN dataverse_invoice i ON i.id = d.invoice_id
 CROSS JOIN (VALUES ('reversal'), ('billed')) AS k(kind)
 WHERE d.invoice_id = ANY(%(ids)s)
 ORDER BY k.kind DESC, d.id"""

CONNECTIONS_VALUES = {
    "transaction1_id": "n.id",
    "transaction1_role": "CASE n.transaction_type WHEN 'billed_sales' THEN 'billed_sales' ELSE 'reversing' END",
    "transaction2_id": "d.actual_id",
    "transaction2_role": "CASE n.transaction_type WHEN 'billed_sales' THEN 'unbilled_sales' ELSE 'original' END",
}
CONNECTIONS_FROM = """FROM {actuals} n JOIN dataverse_invoicelinedetail d ON d.id = n.invoice_line_detail_id
 WHERE n.invoice_id = ANY(%(ids)s) AND n.invoice_line_detail_id IS NOT NULL"""

ORIGINALS_POSTED_SQL = """
UPDATE {actuals} a SET billing_status = 'customer_invoice_posted'
  FROM dataverse_invoicelinedetail d WHERE d.actual_id = a.id AND d.invoice_id = ANY(%(ids)s)
"""


@transaction.atomic
def confirm_invoices(world: World, invoice_ids: list[int]) -> None:
    """What `confirm_proforma` leaves in Dataverse, for many invoices at once."""
    params = {"ids": invoice_ids}
    execute("default", "UPDATE dataverse_invoice SET status = 'confirmed', confirmed_by_id = %(user)s, "
                       "confirmed_at = now() WHERE id = ANY(%(ids)s)", {**params, "user": world.user.pk})
    execute("default", sqlgen.insert_select(dv.Actual, BILLING_ACTUAL_VALUES, BILLING_ACTUALS_FROM.format(
        details="dataverse_invoicelinedetail", actuals="dataverse_actual")), params)
    execute("default", sqlgen.insert_select(dv.TransactionConnection, CONNECTIONS_VALUES,
                                            CONNECTIONS_FROM.format(actuals="dataverse_actual")), params)
    execute("default", ORIGINALS_POSTED_SQL.format(actuals="dataverse_actual"), params)


# --- Across the bridge, at COPY speed ---------------------------------------------------------

# The msdyn_actuals map in SQL: what a staging row says about a Dataverse actual.
STAGING_SOURCE_SQL = """
SELECT a.id, a.uuid AS dataverse_actual_id, p.legal_entity, a.transaction_type, a.transaction_class,
       a.billing_type, p.number AS project_number, coalesce(c.number, '') AS contract_number,
       coalesce(cl.name, '') AS contract_line_name, coalesce(cu.number, '') AS customer_number,
       coalesce(r.name, '') AS resource_name, coalesce(ro.name, '') AS role_name,
       coalesce(i.number, '') AS invoice_number, o.uuid AS invoiced_actual_id, a.transaction_date,
       a.accounting_date, a.quantity, a.price, a.amount, a.currency, a.description
  FROM dataverse_actual a
  JOIN dataverse_project p ON p.id = a.project_id
  LEFT JOIN dataverse_projectcontract c ON c.id = a.contract_id
  LEFT JOIN dataverse_contractline cl ON cl.id = a.contract_line_id
  LEFT JOIN dataverse_customer cu ON cu.id = a.customer_id
  LEFT JOIN dataverse_resource r ON r.id = a.resource_id
  LEFT JOIN dataverse_resourcerole ro ON ro.id = a.role_id
  LEFT JOIN dataverse_invoice i ON i.id = a.invoice_id
  LEFT JOIN dataverse_invoicelinedetail d ON d.id = a.invoice_line_detail_id
  LEFT JOIN dataverse_actual o ON o.id = d.actual_id
 WHERE NOT a.skip_sync AND ({where})
"""
STAGING_COLUMNS = [
    "dataverse_actual_id", "legal_entity", "transaction_type", "transaction_class", "billing_type",
    "project_number", "contract_number", "contract_line_name", "customer_number", "resource_name", "role_name",
    "invoice_number", "invoiced_actual_id", "transaction_date", "accounting_date", "quantity", "price", "amount",
    "currency", "description",
]


def staging_copy(where: str) -> tuple[list[str], str]:
    """Columns of finance_actualstaging and the SELECT on `default` that fills them (received)."""
    values = {name: f"s.{name}" for name in STAGING_COLUMNS}
    values.update(status="'received'", wait_reason="''", received_at="now()", accounting_currency="''", voucher="''")
    names, exprs = sqlgen.select_list(fin.ActualStaging, values)
    return names, f"SELECT {exprs}\n  FROM ({STAGING_SOURCE_SQL.format(where=where)}) s ORDER BY s.id"


def copy_staging(where: str, params: dict, *, table: str = "finance_actualstaging") -> int:
    names, select = staging_copy(where)
    return databases.copy_between(connections["default"], select, connections["finance"], table, names, params)


def send_invoices_to_finance(invoice_ids: list[int]) -> None:
    """What the bridge delivers for confirmed invoices: proposal headers, then billed sales staged."""
    names, exprs = sqlgen.select_list(fin.InvoiceProposal, {
        "number": "i.number", "name": "i.name", "legal_entity": "c.legal_entity", "customer_number": "cu.number",
        "contract_number": "c.number", "currency": "i.currency", "invoice_date": "i.invoice_date",
        "due_date": f"i.invoice_date + {PAYMENT_DAYS}", "accounting_date": "(i.confirmed_at AT TIME ZONE 'UTC')::date",
        "expected_line_count": "(SELECT count(*) FROM dataverse_actual b WHERE b.invoice_id = i.id "
                               "AND b.transaction_type = 'billed_sales' AND NOT b.skip_sync)",
        "dataverse_amount": "i.amount", "status": "'header_only'", "received_at": "now()",
    })
    databases.copy_between(
        connections["default"],
        f"SELECT {exprs} FROM dataverse_invoice i JOIN dataverse_projectcontract c ON c.id = i.contract_id "
        "JOIN dataverse_customer cu ON cu.id = i.customer_id WHERE i.id = ANY({ids}) ORDER BY i.id",
        connections["finance"], "finance_invoiceproposal", names, {"ids": invoice_ids})
    copy_staging("a.invoice_id = ANY({ids}) AND a.transaction_type = 'billed_sales'", {"ids": invoice_ids})


# --- The pages' database ----------------------------------------------------------------------


def add_open_backlog(world: World, pairs: int) -> int:
    """Recent approved work not invoiced yet: a cost and an unbilled sale per pair, half of them
    Ready to invoice, spread over the regular contracts (the billing backlog's rows)."""
    if pairs <= 0:
        return 0
    values = {
        "transaction_type": "k.type", "transaction_class": "'time'",
        "billing_type": "CASE k.type WHEN 'cost' THEN 'not_available' ELSE 'chargeable' END",
        "billing_status": "CASE WHEN k.type = 'cost' THEN '' WHEN g.i %% 2 = 0 THEN 'ready_to_invoice' "
                          "ELSE 'unbilled_sales_created' END",
        "project_id": "l.project_id", "customer_id": "c.customer_id", "contract_id": "c.id",
        "contract_line_id": "l.id", "resource_id": "(%(resources)s::bigint[])[1 + g.i %% %(nres)s]",
        "role_id": "(%(roles)s::bigint[])[1 + g.i %% %(nres)s]",
        "transaction_date": "%(day)s::date - (g.i %% 28)::int", "accounting_date": "%(day)s::date - (g.i %% 28)::int",
        "quantity": "8", "price": "CASE k.type WHEN 'cost' THEN 100 ELSE 200 END",
        "amount": "CASE k.type WHEN 'cost' THEN 800 ELSE 1600 END", "currency": f"'{CURRENCY}'",
        "description": "'Open work, not invoiced yet, item ' || g.i",
    }
    rest = """FROM generate_series(0, %(pairs)s - 1) AS g(i)
  JOIN dataverse_projectcontract c ON c.id = (%(contracts)s::bigint[])[1 + g.i %% %(ncontracts)s]
  JOIN dataverse_contractline l ON l.contract_id = c.id
 CROSS JOIN (VALUES ('cost'), ('unbilled_sales')) AS k(type)"""
    return execute("default", sqlgen.insert_select(dv.Actual, values, rest), {
        "pairs": pairs, "contracts": world.contracts, "ncontracts": len(world.contracts),
        "resources": world.resources, "roles": world.resource_roles, "nres": len(world.resources),
        "day": world.round_start(3) + timedelta(days=27),
    })


def top_up_history(world: World, total: int) -> int:
    """Older, fully processed cost actuals until the database holds `total` actuals."""
    missing = total - dv.Actual.objects.count()
    if missing <= 0:
        return 0
    values = {
        "transaction_type": "'cost'", "transaction_class": "'time'", "billing_type": "'not_available'",
        "project_id": "(%(projects)s::bigint[])[1 + g.i %% %(n)s]",
        "transaction_date": "%(day)s::date - (g.i %% 365)::int",
        "accounting_date": "%(day)s::date - (g.i %% 365)::int", "quantity": "8", "price": "100", "amount": "800",
        "currency": f"'{CURRENCY}'", "description": "'Last year''s work, item ' || g.i",
        "voucher": "'V-H' || lpad(g.i::text, 8, '0')", "posting_date": "%(day)s::date - (g.i %% 365)::int",
        "exchange_rate": "1", "accounting_amount": "800", "accounting_currency": f"'{CURRENCY}'",
        "written_back_at": "now()",
    }
    rest = "FROM generate_series(0, %(missing)s - 1) AS g(i)"
    return execute("default", sqlgen.insert_select(dv.Actual, values, rest), {
        "missing": missing, "projects": world.projects, "n": len(world.projects), "day": FIRST_DAY,
    })
