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
from django.utils import timezone

from dataverse import models as dv
from finance import models as fin
from projinv import sqlgen
from projinv.dualwrite import demo

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
    # What the master-data maps would have delivered (the bench creates the records behind the services'
    # back): finance holds a staged actual whose contract line it does not know (D50).
    fin.ContractBillingRule.objects.bulk_create(
        [fin.ContractBillingRule(contract_number=c.number, line_name="Time and material", project_number=p.number,
                                 billing_method=dv.ContractLine.BillingMethod.TIME_AND_MATERIAL,
                                 modified_on=timezone.now())
         for c, p in zip(contracts, projects, strict=True)], ignore_conflicts=True)

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
