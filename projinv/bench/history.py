"""The pages' database: last year's processed work and the open billing backlog, so that the pages
are timed with 1,000,000 actuals behind them (issue #6) at the shape production would have."""

from datetime import timedelta

from dataverse import models as dv
from projinv import sqlgen

from .world import CURRENCY, FIRST_DAY, World, execute


def add_open_backlog(w: World, pairs: int) -> int:
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
        "pairs": pairs, "contracts": w.contracts, "ncontracts": len(w.contracts),
        "resources": w.resources, "roles": w.resource_roles, "nres": len(w.resources),
        "day": w.round_start(3) + timedelta(days=27),
    })


def top_up_history(w: World, total: int) -> int:
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
        "missing": missing, "projects": w.projects, "n": len(w.projects), "day": FIRST_DAY,
    })
