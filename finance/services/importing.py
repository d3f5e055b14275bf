"""Import from staging: journalize and post cost and unbilled sales, then build proposal lines.

One single-flight run (a PostgreSQL advisory lock, BR-05) made of a few set-based statements on
the finance database (design.md §6); the work does not loop over rows in Python.

0. A billed sale of a fixed-price line that is not a milestone's has nothing behind it to invoice: it
   gets a project transaction of its own, with no voucher (D54).
1. Pending cost and unbilled-sales rows get their exchange rate, line property, project category
   and cost and revenue profile; rows whose set-up is missing wait with a reason and are taken by
   the next run once the set-up is fixed.
2. The others become integration journal lines (one per actual, a voucher each, journals per
   legal entity and period unit) and every draft line is posted: vouchers, ledger entries, project
   transactions, and the accounting details on the staging rows, which the bridge carries back to
   Dataverse. A line that cannot post moves to an error journal until a person resets it (D46).
3. Each proposal still without lines gets all its lines in one statement when every billed sale
   of its invoice is staged, the count matches what Dataverse declared and every unbilled sale
   they invoice is posted (BR-03, BR-04), every milestone's on-account transaction is there (D49)
   and every fixed-price line has its profile (D52, D54); otherwise none, and an issue says what
   is missing.
"""

import json
import logging

from django.db import connections, transaction
from django.utils import timezone

from ..models import ImportIssue, ImportRun, InvoiceProposal
from ..models.projops import CATEGORY_TYPE_SQL
from ..signals import accounting_details_ready
from .inbound import link_unlinked_billed_sales

log = logging.getLogger(__name__)

# The advisory lock key of Import from staging ("projinv-import" as a 63-bit number).
IMPORT_LOCK = 0x70726F6A696E76

# The line property of a row: the legal entity's mapping of its billing type (blank: Not specified).
LINE_PROPERTY_ID = """CASE coalesce(nullif({row}.billing_type, ''), 'not_specified')
            WHEN 'chargeable' THEN ip.chargeable_line_property_id
            WHEN 'non_chargeable' THEN ip.non_chargeable_line_property_id
            WHEN 'complimentary' THEN ip.complimentary_line_property_id
            WHEN 'not_available' THEN ip.not_available_line_property_id
            WHEN 'not_specified' THEN ip.not_specified_line_property_id END"""


# The cost and revenue profile of a project and contract in legal entity `le` (as `pr`): among the
# rules whose profile has the billing method, the most specific wins (D43). Needs `prj`, the project.
# `wanted`: whether the row needs one at all; where it does not, the rules are not even read.
PROFILE_LATERAL = """LEFT JOIN LATERAL (
        SELECT p.*, CASE WHEN r.project_number <> '' THEN 3 WHEN r.contract_number <> '' THEN 2
                         WHEN r.project_group_id IS NOT NULL THEN 1 ELSE 0 END AS rule_rank
          FROM finance_costrevenueprofilerule r JOIN finance_costrevenueprofile p ON p.id = r.profile_id
         WHERE {wanted} AND r.legal_entity_id = le.id AND p.billing_method = {method}
           AND ((r.project_number <> '' AND r.project_number = {project})
                OR (r.contract_number <> '' AND r.contract_number = {contract})
                OR r.project_group_id = prj.project_group_id
                OR (r.project_number = '' AND r.contract_number = '' AND r.project_group_id IS NULL))
         ORDER BY rule_rank DESC, r.id
         LIMIT 1) pr ON true"""


# The project category of a row `s` (as `pc`): its transaction category's in the legal entity `le`, else
# the parameters' (`ip`) default of its type (domain.md §2.3.4).
PROJECT_CATEGORY_JOINS = f"""LEFT JOIN finance_projectcategory matched
    ON matched.legal_entity_id = le.id AND s.transaction_category <> ''
   AND matched.transaction_category = s.transaction_category
   AND matched.category_type = {CATEGORY_TYPE_SQL.format(cls="s.transaction_class")}
  LEFT JOIN finance_projectcategory pc ON pc.id = coalesce(matched.id, CASE s.transaction_class
            WHEN 'time' THEN ip.hour_category_id WHEN 'expense' THEN ip.expense_category_id
            WHEN 'material' THEN ip.item_category_id WHEN 'fee' THEN ip.fee_category_id END)"""


def _per_class(column: str, *, fee: str | None = None, otherwise: str) -> str:
    """The profile's setting of `column` for the row's transaction class (hour, expense, item, fee)."""
    fee_sql = f"WHEN 'fee' THEN {fee}" if fee else ""
    return (f"CASE s.transaction_class WHEN 'time' THEN pr.{column}_hour WHEN 'expense' THEN pr.{column}_expense "
            f"WHEN 'material' THEN pr.{column}_item {fee_sql} ELSE {otherwise} END")


CLASSIFY_SQL = f"""
CREATE TEMP TABLE import_batch ON COMMIT DROP AS
SELECT s.id AS staging_id, s.legal_entity, le.accounting_currency, d.accounting_date,
       -- journals group lines by the parameters' period unit (domain.md §2.3.4); All: one per run
       CASE ip.period_unit WHEN 'days' THEN d.accounting_date
            WHEN 'years' THEN date_trunc('year', d.accounting_date)::date
            WHEN 'all' THEN NULL
            ELSE date_trunc('month', d.accounting_date)::date END AS period,
       CASE WHEN s.currency = le.accounting_currency THEN 1::numeric ELSE x.rate END AS rate,
       pc.code AS category, lp.code AS line_property, pr.code AS profile,
       CASE WHEN s.transaction_type = 'cost' THEN
                 CASE {_per_class("post_costs", otherwise="'no_ledger'")}
                      WHEN 'pl' THEN 'cost_pl' WHEN 'balance' THEN 'cost_balance' ELSE 'none' END
            -- revenue accrues where both the profile (for the type) and the line property say so (D44)
            WHEN lp.accrue_revenue AND {_per_class("accrue_revenue", fee="pr.accrue_revenue_fee", otherwise="false")}
                 THEN 'accrued_revenue'
            ELSE 'none' END AS ledger_posting,
       CASE WHEN le.id IS NULL THEN 'legal_entity_missing'
            WHEN ps.id IS NULL THEN 'posting_setup_missing'
            WHEN ip.id IS NULL THEN 'parameters_missing'
            WHEN lp.id IS NULL THEN 'line_property_missing'
            WHEN pc.id IS NULL THEN 'category_missing'
            -- the billing method comes from the line's rule: without it the profile would be a guess (D50)
            WHEN s.contract_line_name <> '' AND br.id IS NULL THEN 'billing_rule_missing'
            WHEN prj.id IS NULL AND grouped.id IS NOT NULL AND coalesce(pr.rule_rank, 0) < 2 THEN 'project_missing'
            WHEN pr.id IS NULL THEN 'profile_missing'
            WHEN closed.id IS NOT NULL AND rolled.start IS NULL THEN 'period_closed'
            WHEN s.currency <> le.accounting_currency AND x.rate IS NULL THEN 'exchange_rate_missing'
       END AS wait_reason
  FROM finance_actualstaging s
  LEFT JOIN finance_legalentity le ON le.code = s.legal_entity
  LEFT JOIN finance_postingsetup ps ON ps.legal_entity_id = le.id
  LEFT JOIN finance_integrationparameters ip ON ip.legal_entity_id = le.id
  LEFT JOIN finance_lineproperty lp ON lp.id = {LINE_PROPERTY_ID.format(row="s")}
  {PROJECT_CATEGORY_JOINS}
  -- the cost and revenue profile: the most specific rule of the row's billing method wins (D43)
  LEFT JOIN finance_project prj ON prj.project_number = s.project_number
  LEFT JOIN finance_contractbillingrule br
    ON br.contract_number = s.contract_number AND br.line_name = s.contract_line_name AND br.active
  {PROFILE_LATERAL.format(project="s.project_number", contract="s.contract_number",
                           method="coalesce(br.billing_method, 'tm')", wanted="true")}
  -- a project group rule of that method could win over the rule found, but the project (so its group) is not here
  LEFT JOIN LATERAL (
        SELECT r.id FROM finance_costrevenueprofilerule r JOIN finance_costrevenueprofile p ON p.id = r.profile_id
         WHERE prj.id IS NULL AND r.legal_entity_id = le.id AND r.project_group_id IS NOT NULL
           AND p.billing_method = coalesce(br.billing_method, 'tm')
         LIMIT 1) grouped ON true
  -- A date in a closed period moves to the first open period after it, if the entity allows (BR-24).
  LEFT JOIN LATERAL (
        SELECT p.id, p."end" FROM finance_fiscalperiod p
         WHERE p.legal_entity_id = le.id AND p.closed AND s.accounting_date BETWEEN p.start AND p."end") closed
    ON true
  LEFT JOIN LATERAL (
        SELECT min(p.start) AS start FROM finance_fiscalperiod p
         WHERE le.roll_to_open_period AND closed.id IS NOT NULL AND p.legal_entity_id = le.id AND NOT p.closed
           AND p.start > closed."end") rolled ON true
 CROSS JOIN LATERAL (SELECT coalesce(rolled.start, s.accounting_date) AS accounting_date) d
  LEFT JOIN LATERAL (
        SELECT r.rate FROM finance_exchangerate r
         WHERE r.from_currency = s.currency AND r.to_currency = le.accounting_currency
           AND r.valid_from <= d.accounting_date
         ORDER BY r.valid_from DESC LIMIT 1) x ON true
 WHERE s.status IN ('received', 'waiting') AND s.transaction_type IN ('cost', 'unbilled_sales')
"""

MARK_WAITING_SQL = """
UPDATE finance_actualstaging s SET status = 'waiting', wait_reason = b.wait_reason
  FROM import_batch b WHERE s.id = b.staging_id AND b.wait_reason IS NOT NULL
"""

CREATE_JOURNALS_SQL = """
INSERT INTO finance_integrationjournal (number, legal_entity, period, status, run_id, created_at, original_journal,
                                        reset_by)
SELECT 'IJ-' || lpad(nextval('finance_journal_number')::text, 6, '0'), g.legal_entity, g.period, 'draft',
       %(run)s, now(), '', ''
  FROM (SELECT DISTINCT legal_entity, period FROM import_batch WHERE wait_reason IS NULL
         ORDER BY legal_entity, period) g
"""

# The two ledger entries of a line, as its profile and line property decided when it was journalized
# (cost to profit and loss or to WIP cost value; WIP sales value against accrued revenue).
LINE_ENTRIES = """
 CROSS JOIN LATERAL (VALUES
       (CASE l.ledger_posting WHEN 'cost_pl' THEN ps.cost WHEN 'cost_balance' THEN ps.wip_cost_value
             ELSE ps.wip_sales_value END,
        CASE l.ledger_posting WHEN 'cost_pl' THEN 'cost' WHEN 'cost_balance' THEN 'wip_cost_value'
             ELSE 'wip_sales_value' END, 1),
       (CASE WHEN l.transaction_type = 'cost' THEN ps.cost_offset ELSE ps.accrued_revenue END,
        CASE WHEN l.transaction_type = 'cost' THEN 'cost_offset' ELSE 'accrued_revenue' END, -1)
       ) AS e(account, posting_type, sign)"""

# Why a line `l` of legal entity `le` (with its posting setup `ps`, if any) cannot post, if it cannot:
# the first account it needs that the chart of accounts does not have (domain.md §4.8).
POSTING_CHECK = f"""LEFT JOIN LATERAL (
        SELECT e.account, e.posting_type FROM (SELECT 1) one {LINE_ENTRIES}
         WHERE l.ledger_posting <> 'none' AND NOT EXISTS (
               SELECT 1 FROM finance_ledgeraccount a WHERE a.legal_entity_id = le.id AND a.number = e.account)
         ORDER BY e.sign DESC LIMIT 1) bad ON ps.id IS NOT NULL"""
POSTING_ERROR = """CASE WHEN ps.id IS NULL THEN 'posting_setup_missing' WHEN bad.account = '' THEN 'account_not_set'
            WHEN bad.account IS NOT NULL THEN 'account_missing' END"""

# What this run posts, each line with the reason it cannot post, if any: the lines it has just made
# (Posted already when they passed the check, D83), and every draft line of a draft journal (the
# lines that failed it, and those of error journals a person reset).
POSTING_BATCH_SQL = f"""
CREATE TEMP TABLE posting_batch ON COMMIT DROP AS
SELECT l.id AS line_id, j.id AS journal_id, j.number AS journal_number, j.original_journal,
       {POSTING_ERROR} AS error_code,
       jsonb_build_object('entity', j.legal_entity, 'account', bad.account, 'posting_type', bad.posting_type)
           AS error_params
  FROM finance_integrationjournalline l
  JOIN finance_integrationjournal j ON j.id = l.journal_id AND j.status = 'draft'
  LEFT JOIN finance_legalentity le ON le.code = j.legal_entity
  LEFT JOIN finance_postingsetup ps ON ps.legal_entity_id = le.id
  {POSTING_CHECK}
 WHERE l.status = 'draft'
UNION ALL
SELECT l.id, j.id, j.number, j.original_journal, NULL, NULL
  FROM finance_integrationjournal j
  JOIN finance_integrationjournalline l ON l.journal_id = j.id AND l.status = 'posted'
 WHERE j.run_id = %(run)s AND j.status = 'draft'
"""

# A line is made Posted when it passes the posting check, Draft when it does not (the posting batch
# then moves it to an error journal): most lines post, and a second write of each would cost as much as
# the first (its status is in an index's condition, so that update is not HOT), D83.
CREATE_LINES_SQL = f"""
INSERT INTO finance_integrationjournalline (
    journal_id, staging_id, voucher, transaction_type, transaction_date, accounting_date, quantity, amount,
    currency, exchange_rate, accounting_amount, category, line_property, profile, ledger_posting, status,
    error_code, error_params)
SELECT l.journal_id, l.staging_id, 'V-' || lpad(nextval('finance_voucher_number')::text, 8, '0'),
       l.transaction_type, l.transaction_date, l.accounting_date, l.quantity, l.amount, l.currency, l.rate,
       projinv_round_money(l.amount * l.rate, l.accounting_currency), l.category, l.line_property, l.profile,
       l.ledger_posting, CASE WHEN {POSTING_ERROR} IS NULL THEN 'posted' ELSE 'draft' END, '', '{{}}'
  FROM (SELECT j.id AS journal_id, s.id AS staging_id, s.transaction_type, s.transaction_date, b.accounting_date,
               s.quantity, s.amount, s.currency, b.rate, b.accounting_currency, b.category, b.line_property,
               b.profile, b.ledger_posting, b.legal_entity
          FROM import_batch b
          JOIN finance_actualstaging s ON s.id = b.staging_id
          JOIN finance_integrationjournal j
            ON j.run_id = %(run)s AND j.legal_entity = b.legal_entity AND j.period IS NOT DISTINCT FROM b.period
         WHERE b.wait_reason IS NULL) l
  LEFT JOIN finance_legalentity le ON le.code = l.legal_entity
  LEFT JOIN finance_postingsetup ps ON ps.legal_entity_id = le.id
  {POSTING_CHECK}
 ORDER BY l.staging_id
ON CONFLICT (staging_id) DO NOTHING
"""

# Journalized: on a line of this run that did not post (in error). The rows whose line posted go
# straight to Posted (WRITE_POSTED_DETAILS_SQL), in the same transaction: one update of each row, not two.
MARK_JOURNALIZED_SQL = """
UPDATE finance_actualstaging s SET status = 'journalized', wait_reason = ''
  FROM finance_integrationjournalline l JOIN finance_integrationjournal j ON j.id = l.journal_id AND j.run_id = %(run)s
 WHERE s.id = l.staging_id AND l.status <> 'posted'
"""

# Lines that cannot post move to a new journal with status Error, one per journal they leave; lines of
# a reset error journal that fail again stay where they are, and their journal is in error again.
MOVE_TO_ERROR_JOURNALS_SQL = [
    """INSERT INTO finance_integrationjournal (number, legal_entity, period, status, run_id, created_at,
                                               original_journal, reset_by)
       SELECT 'IJ-' || lpad(nextval('finance_journal_number')::text, 6, '0'), j.legal_entity, j.period, 'error',
              %(run)s, now(), j.number, ''
         FROM finance_integrationjournal j
        WHERE j.id IN (SELECT journal_id FROM posting_batch WHERE error_code IS NOT NULL AND original_journal = '')
        ORDER BY j.id""",
    """UPDATE finance_integrationjournalline l
          SET status = 'error', error_code = b.error_code, error_params = b.error_params,
              journal_id = coalesce(e.id, l.journal_id)
         FROM posting_batch b
         LEFT JOIN finance_integrationjournal e
           ON b.original_journal = '' AND e.original_journal = b.journal_number AND e.run_id = %(run)s
        WHERE l.id = b.line_id AND b.error_code IS NOT NULL""",
    """UPDATE finance_integrationjournal SET status = 'error'
        WHERE id IN (SELECT journal_id FROM posting_batch WHERE error_code IS NOT NULL AND original_journal <> '')""",
]

RUN_LINES = """
  FROM posting_batch b
  JOIN finance_integrationjournalline l ON l.id = b.line_id AND b.error_code IS NULL
  JOIN finance_integrationjournal j ON j.id = l.journal_id
  JOIN finance_legalentity le ON le.code = j.legal_entity
  JOIN finance_postingsetup ps ON ps.legal_entity_id = le.id
"""

CREATE_VOUCHERS_SQL = f"""
INSERT INTO finance_voucher (number, legal_entity, date, source, description, created_at)
SELECT l.voucher, j.legal_entity, l.accounting_date, 'integration_journal', j.number, now()
{RUN_LINES}
 WHERE l.ledger_posting <> 'none'
"""

CREATE_LEDGER_ENTRIES_SQL = f"""
INSERT INTO finance_ledgerentry (
    voucher_id, account, posting_type, amount, currency, accounting_amount, accounting_currency)
SELECT v.id, e.account, e.posting_type, e.sign * l.amount, l.currency, e.sign * l.accounting_amount,
       le.accounting_currency
{RUN_LINES}
  JOIN finance_voucher v ON v.number = l.voucher
{LINE_ENTRIES}
"""

CREATE_PROJECT_TRANSACTIONS_SQL = f"""
INSERT INTO finance_projecttransaction (
    staging_id, dataverse_actual_id, legal_entity, project_number, transaction_type, transaction_class,
    accounting_date, quantity, amount, currency, exchange_rate, accounting_amount, voucher, status, category,
    line_property)
SELECT s.id, s.dataverse_actual_id, j.legal_entity, s.project_number, s.transaction_type, s.transaction_class,
       l.accounting_date, l.quantity, l.amount, l.currency, l.exchange_rate, l.accounting_amount, l.voucher,
       'posted', l.category, l.line_property
{RUN_LINES}
  JOIN finance_actualstaging s ON s.id = l.staging_id
"""

NAMED_BY_ERROR_JOURNAL = "EXISTS (SELECT 1 FROM finance_integrationjournal e WHERE e.original_journal = j.number)"

MARK_POSTED_SQL = [
    """UPDATE finance_integrationjournalline l SET status = 'posted', error_code = '', error_params = '{}'
         FROM posting_batch b WHERE l.id = b.line_id AND b.error_code IS NULL AND l.status = 'draft'""",
    # A journal is posted once it has no line left to post, also when all its lines moved to the error
    # journal that names it (kept, so that name leads somewhere, D53); one left empty otherwise is dropped.
    f"""UPDATE finance_integrationjournal j SET status = 'posted', posted_at = now()
        WHERE j.id IN (SELECT journal_id FROM posting_batch) AND j.status = 'draft'
          AND NOT EXISTS (SELECT 1 FROM finance_integrationjournalline l WHERE l.journal_id = j.id
                           AND l.status <> 'posted')
          AND (EXISTS (SELECT 1 FROM finance_integrationjournalline l WHERE l.journal_id = j.id)
               OR {NAMED_BY_ERROR_JOURNAL})""",
    f"""DELETE FROM finance_integrationjournal j
        WHERE j.id IN (SELECT journal_id FROM posting_batch) AND j.original_journal = ''
          AND NOT EXISTS (SELECT 1 FROM finance_integrationjournalline l WHERE l.journal_id = j.id)
          AND NOT {NAMED_BY_ERROR_JOURNAL}""",
]

WRITE_POSTED_DETAILS_SQL = """
UPDATE finance_actualstaging s
   SET status = 'posted', wait_reason = '',
       -- the voucher number only where a voucher was made (no WIP voucher when revenue is not accrued)
       voucher = CASE WHEN l.ledger_posting <> 'none' THEN l.voucher ELSE '' END,
       posting_date = l.accounting_date,
       exchange_rate = l.exchange_rate, accounting_amount = l.accounting_amount,
       accounting_currency = le.accounting_currency
  FROM posting_batch b
  JOIN finance_integrationjournalline l ON l.id = b.line_id AND b.error_code IS NULL
  JOIN finance_integrationjournal j ON j.id = l.journal_id
  JOIN finance_legalentity le ON le.code = j.legal_entity
 WHERE s.id = l.staging_id
RETURNING s.id
"""

# A billed sale of a fixed-price line that is not a milestone's (a detail added by hand, or what a
# correction re-bills of one, D70) has no unbilled sale behind it and will never get a connection. It
# gets a project transaction of its own, with no voucher (nothing was accrued, so invoicing reverses no
# WIP), and names it as the one it invoices by its own id; its credits reach it by their reversing
# connection (D40, D54). Without the line's rule (D50) it waits; the batch also takes a waiting row that
# has been linked or got its rule since, to clear what it waited for.
FIXED_PRICE_BATCH_SQL = """
CREATE TEMP TABLE fixed_price_batch ON COMMIT DROP AS
SELECT s.id AS staging_id, le.accounting_currency,
       s.invoiced_actual_id IS NULL AND br.billing_method = 'fp' AS fixed_price,
       CASE WHEN s.currency = le.accounting_currency THEN 1::numeric ELSE x.rate END AS rate,
       CASE WHEN s.invoiced_actual_id IS NOT NULL THEN NULL
            WHEN br.id IS NULL THEN 'billing_rule_missing'
            WHEN br.billing_method <> 'fp' THEN NULL
            WHEN le.id IS NULL THEN 'legal_entity_missing'
            WHEN s.currency <> le.accounting_currency AND x.rate IS NULL THEN 'exchange_rate_missing'
       END AS wait_reason
  FROM finance_actualstaging s
  LEFT JOIN finance_contractbillingrule br
    ON br.contract_number = s.contract_number AND br.line_name = s.contract_line_name AND br.active
  LEFT JOIN finance_legalentity le ON le.code = s.legal_entity
  LEFT JOIN LATERAL (
        SELECT r.rate FROM finance_exchangerate r
         WHERE r.from_currency = s.currency AND r.to_currency = le.accounting_currency
           AND r.valid_from <= s.accounting_date
         ORDER BY r.valid_from DESC LIMIT 1) x ON true
 WHERE s.status IN ('received', 'waiting') AND s.transaction_type = 'billed_sales' AND s.milestone_id IS NULL
   AND s.transaction_class <> 'milestone' AND s.quantity >= 0 AND s.contract_line_name <> ''
   AND (s.invoiced_actual_id IS NULL OR s.status = 'waiting')
"""

FIXED_PRICE_SQL = [
    """UPDATE finance_actualstaging s SET status = 'waiting', wait_reason = b.wait_reason
         FROM fixed_price_batch b WHERE s.id = b.staging_id AND b.wait_reason IS NOT NULL""",
    """UPDATE finance_actualstaging s SET status = 'received', wait_reason = ''
         FROM fixed_price_batch b WHERE s.id = b.staging_id AND b.wait_reason IS NULL AND s.status = 'waiting'""",
    f"""INSERT INTO finance_projecttransaction (
            staging_id, dataverse_actual_id, legal_entity, project_number, transaction_type, transaction_class,
            accounting_date, quantity, amount, currency, exchange_rate, accounting_amount, voucher, status, category,
            line_property)
        SELECT s.id, s.dataverse_actual_id, s.legal_entity, s.project_number, s.transaction_type,
               s.transaction_class, s.accounting_date, s.quantity, s.amount, s.currency, b.rate,
               projinv_round_money(s.amount * b.rate, b.accounting_currency), '', 'posted', coalesce(pc.code, ''),
               coalesce(lp.code, '')
          FROM fixed_price_batch b
          JOIN finance_actualstaging s ON s.id = b.staging_id
          JOIN finance_legalentity le ON le.code = s.legal_entity
          LEFT JOIN finance_integrationparameters ip ON ip.legal_entity_id = le.id
          LEFT JOIN finance_lineproperty lp ON lp.id = {LINE_PROPERTY_ID.format(row="s")}
          {PROJECT_CATEGORY_JOINS}
         WHERE b.fixed_price AND b.wait_reason IS NULL
         ORDER BY s.id
        ON CONFLICT DO NOTHING""",
    """UPDATE finance_actualstaging s SET invoiced_actual_id = s.dataverse_actual_id
         FROM fixed_price_batch b WHERE s.id = b.staging_id AND b.fixed_price AND b.wait_reason IS NULL""",
]

# A billed sale can be invoiced once the transaction it names is posted (BR-04); a credit (a billed-sales
# reversal from a correction: negative quantity, whatever its amount) once that transaction is invoiced.
INVOICEABLE = "((s.quantity >= 0 AND t.status = 'posted') OR (s.quantity < 0 AND t.status = 'invoiced'))"
# What is net invoiced on an on-account transaction `oa`: its lines on posted proposals, credits included;
# and what is taken of it: its lines on any proposal (only open and posted proposals have lines).
ON_ACCOUNT_POSTED = """(SELECT coalesce(sum(pl.amount), 0) FROM finance_invoiceproposalline pl
          JOIN finance_invoiceproposal pp ON pp.id = pl.proposal_id AND pp.status = 'posted'
         WHERE pl.on_account_id = {oa}.id)"""
ON_ACCOUNT_TAKEN = """(SELECT coalesce(sum(pl.amount), 0) FROM finance_invoiceproposalline pl
         WHERE pl.on_account_id = {oa}.id)"""
# A milestone's billed sales invoice its on-account transaction when what the invoice bills on it, net (a
# credit and a re-bill of one milestone may share a corrective invoice), keeps what is taken of it between
# nothing and its amount: never billed beyond it, nor credited below nothing; customers' shares of a
# split milestone each go on their own proposal (D51).
ON_ACCOUNT_JOIN = f"""LEFT JOIN finance_onaccounttransaction oa
    ON s.milestone_id IS NOT NULL AND oa.milestone_id = s.milestone_id AND oa.active
   AND (SELECT sum(x.amount) FROM (SELECT x.amount, x.status FROM finance_actualstaging x
         WHERE x.invoice_number = s.invoice_number AND x.transaction_type = 'billed_sales'
           AND x.milestone_id = s.milestone_id OFFSET 0) x WHERE x.status IN ('received', 'waiting'))
       + {ON_ACCOUNT_TAKEN.format(oa="oa")} BETWEEN 0 AND oa.amount"""  # the status outside: BILLED_OF_PROPOSAL

# After a proposal is posted, or its lines deleted, each on-account transaction it held is on a proposal
# while another open proposal still holds it, else follows what is net invoiced on it: invoiced when that
# is its whole amount, open otherwise (nothing, or a part) (D51).
RELEASE_ON_ACCOUNT_SQL = f"""
UPDATE finance_onaccounttransaction oa
   SET status = CASE WHEN EXISTS (
                          SELECT 1 FROM finance_invoiceproposalline pl
                            JOIN finance_invoiceproposal pp ON pp.id = pl.proposal_id AND pp.status = 'open'
                           WHERE pl.on_account_id = oa.id AND pp.id <> %(proposal)s) THEN 'invoice_proposal'
                     WHEN {ON_ACCOUNT_POSTED.format(oa="oa")} >= oa.amount
                      AND {ON_ACCOUNT_POSTED.format(oa="oa")} > 0 THEN 'invoiced' ELSE 'open' END
 WHERE oa.status = 'invoice_proposal'
   AND oa.id IN (SELECT on_account_id FROM finance_invoiceproposalline WHERE proposal_id = %(proposal)s)
"""

# A billed sale's line property: its own billing type mapped in the proposal's legal entity (D42).
BILLED_LINE_PROPERTY_JOINS = f"""
  LEFT JOIN finance_legalentity le ON le.code = p.legal_entity
  LEFT JOIN finance_integrationparameters ip ON ip.legal_entity_id = le.id
  LEFT JOIN finance_lineproperty lp ON lp.id = {LINE_PROPERTY_ID.format(row="s")}"""

# The fixed-price profile a line's revenue posts by (as `pr`), for the lines that post by it: a milestone's
# on the project and contract of its on-account transaction (D49), a fixed-price billed sale's on those of
# the project transaction finance posted for it (D54). Needs `s`, `t` and `oa`.
FIXED_PRICE_PROFILE_JOINS = f"""CROSS JOIN LATERAL (
        SELECT coalesce(oa.id IS NOT NULL OR t.transaction_type = 'billed_sales', false) AS applies,
               CASE WHEN oa.id IS NOT NULL THEN oa.project_number
                    WHEN t.transaction_type = 'billed_sales' THEN t.project_number END AS project_number,
               CASE WHEN oa.id IS NOT NULL THEN oa.contract_number
                    WHEN t.transaction_type = 'billed_sales' THEN s.contract_number END AS contract_number) fpr
  LEFT JOIN finance_project prj ON prj.project_number = fpr.project_number
  {PROFILE_LATERAL.format(project="fpr.project_number", contract="fpr.contract_number", method="'fp'",
                           wanted="fpr.applies")}"""

# A proposal's staged billed sales, read by its invoice number on their index, proposal by proposal
# (`OFFSET 0` keeps the planner from folding it into a join, and from pushing a caller's filter into
# it). A batch that just arrived is not in the table's statistics yet: planned as a join, PostgreSQL
# took the billed sales for a handful and read all of them once per proposal (100 proposals × 10,000
# rows on a database of 1,000,000 actuals, D80); with the pending status inside, it read them through
# the pending rows' index instead, every pending billed sale once per proposal (2,000 × 200,000 rows,
# 85 s, D85). So a caller filters the status outside.
BILLED_OF_PROPOSAL = """(SELECT * FROM finance_actualstaging s
         WHERE s.invoice_number = p.number AND s.transaction_type = 'billed_sales' OFFSET 0)"""

PROPOSAL_READINESS_SQL = f"""
SELECT p.id, p.number, p.expected_line_count,
       count(s.id) AS staged,
       count(s.id) FILTER (WHERE t.id IS NULL AND oa.id IS NULL) AS unposted,
       array_agg(DISTINCT coalesce(nullif(s.billing_type, ''), 'not_specified'))
           FILTER (WHERE s.id IS NOT NULL AND lp.id IS NULL) AS unmapped,
       array_agg(DISTINCT oa.milestone_id::text) FILTER (WHERE oa.id IS NOT NULL AND pr.id IS NULL) AS unprofiled,
       array_agg(DISTINCT s.dataverse_actual_id::text) FILTER (WHERE oa.id IS NULL AND fpr.applies AND pr.id IS NULL)
           AS unprofiled_sales,
       array_agg(DISTINCT oa.milestone_id::text) FILTER (WHERE oa.id IS NOT NULL) AS milestones
  FROM finance_invoiceproposal p
  LEFT JOIN LATERAL (SELECT * FROM {BILLED_OF_PROPOSAL} b WHERE b.status IN ('received', 'waiting')) s ON true
  LEFT JOIN finance_projecttransaction t ON t.dataverse_actual_id = s.invoiced_actual_id AND {INVOICEABLE}
  {ON_ACCOUNT_JOIN}
  {BILLED_LINE_PROPERTY_JOINS}
  -- a milestone's or fixed-price billed sale's line needs the profile its revenue posts by (D52, D54)
  {FIXED_PRICE_PROFILE_JOINS}
 WHERE p.status = 'header_only' AND (%(only)s = '' OR p.number = %(only)s)
 GROUP BY p.id
 ORDER BY p.id
"""

UNPOSTED_DETAIL_SQL = f"""
SELECT s.invoice_number, s.dataverse_actual_id, s.invoiced_actual_id, s.transaction_date, s.amount, s.currency,
       u.status AS unbilled_status, u.wait_reason, uj.number AS error_journal,
       coalesce(s.milestone_id::text, CASE WHEN s.transaction_class = 'milestone' THEN '?' END) AS milestone,
       s.wait_reason AS billed_wait_reason
  FROM finance_actualstaging s
  LEFT JOIN finance_projecttransaction t ON t.dataverse_actual_id = s.invoiced_actual_id AND {INVOICEABLE}
  {ON_ACCOUNT_JOIN}
  LEFT JOIN finance_actualstaging u ON u.dataverse_actual_id = s.invoiced_actual_id
  LEFT JOIN finance_integrationjournalline ul ON ul.staging_id = u.id AND ul.status = 'error'
  LEFT JOIN finance_integrationjournal uj ON uj.id = ul.journal_id
 WHERE s.invoice_number = ANY(%(numbers)s) AND s.transaction_type = 'billed_sales'
   AND s.status IN ('received', 'waiting') AND t.id IS NULL AND oa.id IS NULL
 ORDER BY s.invoice_number, s.transaction_date
"""

# Tax is finance's to compute (domain.md §10 Q3): the customer's sales tax group meets the legal
# entity's item sales tax group; chargeable lines only.
LINE_TAX = """CASE WHEN {chargeable}
            THEN projinv_round_money({line}.amount * coalesce(tr.percent, 0) / 100, {line}.currency) ELSE 0 END"""
TAX_RATE_JOINS = """
  LEFT JOIN finance_salestaxgroup sg ON sg.legal_entity_id = le.id AND sg.code = {sales_group}
  LEFT JOIN finance_itemsalestaxgroup ig ON ig.legal_entity_id = le.id AND ig.code = {item_group}
  LEFT JOIN finance_taxrate tr ON tr.sales_tax_group_id = sg.id AND tr.item_tax_group_id = ig.id"""

ITEM_TAX_GROUP = "coalesce(nullif(pc.item_tax_group, ''), nullif(oa.item_tax_group, ''), le.default_item_tax_group, '')"

CREATE_PROPOSAL_LINES_SQL = f"""
INSERT INTO finance_invoiceproposalline (
    proposal_id, staging_id, project_transaction_id, on_account_id, revenue_posting, transaction_class, billing_type,
    line_property, chargeable, transaction_date, quantity, price, amount, tax, currency, sales_tax_group,
    item_tax_group)
SELECT p.id, s.id, t.id, oa.id,
       -- readiness saw the profile; without one the NULL refuses the line rather than guess (D52, D54)
       CASE WHEN NOT fpr.applies THEN 'invoiced_revenue' WHEN pr.on_account_invoicing = 'pl'
            THEN 'invoiced_revenue_on_account' WHEN pr.on_account_invoicing = 'balance'
            THEN 'wip_invoiced_on_account' END,
       s.transaction_class, s.billing_type, lp.code, lp.chargeable, s.transaction_date,
       s.quantity, s.price, s.amount, {LINE_TAX.format(line="s", chargeable="lp.chargeable")}, s.currency,
       coalesce(c.sales_tax_group, ''), {ITEM_TAX_GROUP}
  FROM finance_invoiceproposal p
 CROSS JOIN LATERAL {BILLED_OF_PROPOSAL} s
  LEFT JOIN finance_projecttransaction t ON t.dataverse_actual_id = s.invoiced_actual_id
  LEFT JOIN finance_onaccounttransaction oa ON s.milestone_id IS NOT NULL AND oa.milestone_id = s.milestone_id
  {BILLED_LINE_PROPERTY_JOINS}
  -- a milestone's, or a fixed-price billed sale's, revenue posts as the fixed-price profile's on-account
  -- invoicing says (D49, D54)
  {FIXED_PRICE_PROFILE_JOINS}
  LEFT JOIN finance_customer c ON c.legal_entity_id = le.id AND c.number = p.customer_number
  -- the item sales tax group of the transaction's project category, else the legal entity's default
  LEFT JOIN finance_projectcategory pc ON pc.legal_entity_id = le.id AND pc.code = t.category
  {TAX_RATE_JOINS.format(sales_group="c.sales_tax_group", item_group=ITEM_TAX_GROUP)}
 WHERE p.id = ANY(%(ready)s) AND (t.id IS NOT NULL OR oa.id IS NOT NULL)
 ORDER BY p.id, s.id
ON CONFLICT (staging_id) DO NOTHING
"""

OPEN_PROPOSALS_SQL = [
    """UPDATE finance_projecttransaction t SET status = 'invoice_proposal'
         FROM finance_invoiceproposalline l
        WHERE l.project_transaction_id = t.id AND l.proposal_id = ANY(%(ready)s) AND t.status = 'posted'""",
    """UPDATE finance_onaccounttransaction oa SET status = 'invoice_proposal'
         FROM finance_invoiceproposalline l
        WHERE l.on_account_id = oa.id AND l.proposal_id = ANY(%(ready)s)""",
    """UPDATE finance_actualstaging s SET status = 'proposal_line', wait_reason = ''
         FROM finance_invoiceproposalline l WHERE l.staging_id = s.id AND l.proposal_id = ANY(%(ready)s)""",
    """UPDATE finance_invoiceproposal p
          SET status = 'open', import_code = '', import_params = '{}', amount = x.amount, tax = x.tax,
              lines_imported_at = now()
         FROM (SELECT proposal_id, coalesce(sum(amount) FILTER (WHERE chargeable), 0) AS amount,
                      coalesce(sum(tax) FILTER (WHERE chargeable), 0) AS tax
                 FROM finance_invoiceproposalline WHERE proposal_id = ANY(%(ready)s) GROUP BY proposal_id) x
        WHERE p.id = x.proposal_id""",
]

NOTE_BLOCKED_SQL = """
UPDATE finance_invoiceproposal p SET import_code = r.code, import_params = r.params
  FROM jsonb_to_recordset(%s::jsonb) AS r(id bigint, code text, params jsonb) WHERE p.id = r.id
"""


def import_from_staging(*, triggered_by: str, proposal_number: str = "") -> ImportRun:
    """Run Import from staging once, for all proposals or for one ("Import lines")."""
    try:
        with transaction.atomic(using="finance"), connections["finance"].cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [IMPORT_LOCK])
            if not cursor.fetchone()[0]:
                return ImportRun.objects.create(
                    triggered_by=triggered_by, proposal_number=proposal_number,
                    status=ImportRun.Status.SKIPPED, finished_at=timezone.now(),
                )
            run = ImportRun.objects.create(triggered_by=triggered_by, proposal_number=proposal_number)
            # Fixed-price billed sales first: the credits of one are linked to its transaction just after.
            _post_fixed_price_billings(cursor, run)
            link_unlinked_billed_sales(cursor)
            _journalize_and_post(cursor, run)
            _create_proposal_lines(cursor, run, proposal_number)
            run.status, run.finished_at = ImportRun.Status.SUCCEEDED, timezone.now()
            run.save()
            return run
    except Exception as exc:
        log.exception("Import from staging failed")
        ImportRun.objects.create(
            triggered_by=triggered_by, proposal_number=proposal_number, status=ImportRun.Status.FAILED,
            finished_at=timezone.now(), message=f"{type(exc).__name__}: {exc}",
        )
        raise


def _journalize_and_post(cursor, run: ImportRun) -> None:
    params = {"run": run.pk}
    # ON COMMIT DROP is not enough when a caller's transaction wraps the run: drop them ourselves.
    cursor.execute("DROP TABLE IF EXISTS import_batch, posting_batch")
    cursor.execute(CLASSIFY_SQL)
    cursor.execute(MARK_WAITING_SQL)
    run.waiting_rows += cursor.rowcount
    cursor.execute(CREATE_JOURNALS_SQL, params)
    cursor.execute(CREATE_LINES_SQL, params)
    cursor.execute("DROP TABLE import_batch")

    cursor.execute(POSTING_BATCH_SQL, params)
    for statement in MOVE_TO_ERROR_JOURNALS_SQL:
        cursor.execute(statement, params)
    run.error_lines = _count(cursor, "error_code IS NOT NULL")
    for statement in (CREATE_VOUCHERS_SQL, CREATE_LEDGER_ENTRIES_SQL, CREATE_PROJECT_TRANSACTIONS_SQL,
                      *MARK_POSTED_SQL):
        cursor.execute(statement, params)
    cursor.execute(WRITE_POSTED_DETAILS_SQL, params)
    posted_ids = [row[0] for row in cursor.fetchall()]
    cursor.execute(MARK_JOURNALIZED_SQL, params)
    run.journal_lines = len(posted_ids)
    cursor.execute("DROP TABLE posting_batch")
    if posted_ids:
        accounting_details_ready.send(sender=ImportRun, staging_ids=posted_ids)


def _post_fixed_price_billings(cursor, run: ImportRun) -> None:
    """Post a project transaction for each billed sale of a fixed-price line with nothing behind it (D54)."""
    cursor.execute("DROP TABLE IF EXISTS fixed_price_batch")
    cursor.execute(FIXED_PRICE_BATCH_SQL)
    waits, *_rest = FIXED_PRICE_SQL
    cursor.execute(waits)
    run.waiting_rows += cursor.rowcount
    for statement in _rest:
        cursor.execute(statement)
    cursor.execute("DROP TABLE fixed_price_batch")


def _count(cursor, condition: str) -> int:
    cursor.execute(f"SELECT count(*) FROM posting_batch WHERE {condition}")
    return cursor.fetchone()[0]


def _create_proposal_lines(cursor, run: ImportRun, proposal_number: str) -> None:
    cursor.execute(PROPOSAL_READINESS_SQL, {"only": proposal_number})
    # Why a proposal gets no lines: a message code and its parameters (finance.messages, D48).
    ready, blocked, taken = [], {}, set()
    for pk, number, expected, staged, unposted, unmapped, unprofiled, unprofiled_sales, milestones in \
            cursor.fetchall():
        if (expected and staged == expected and not unposted and not unmapped and not unprofiled
                and not unprofiled_sales):
            # Readiness saw each milestone without this run's other proposals: one proposal per milestone
            # a run, so shares and re-bills never add up beyond its amount (D51).
            if busy := taken.intersection(milestones or ()):
                blocked[pk] = (number, "on_account_busy", {"milestones": ", ".join(sorted(busy))})
                continue
            taken.update(milestones or ())
            ready.append(pk)
        elif unmapped and staged == expected:
            blocked[pk] = (number, "unmapped_billing_types", {"types": ", ".join(sorted(unmapped))})
        elif unprofiled and staged == expected:
            blocked[pk] = (number, "on_account_profile_missing", {"milestones": ", ".join(sorted(unprofiled))})
        elif unprofiled_sales and staged == expected:
            blocked[pk] = (number, "fixed_price_profile_missing", {"actuals": ", ".join(sorted(unprofiled_sales))})
        elif not expected and not staged:
            blocked[pk] = (number, "no_billed_sales", {})
        elif staged != expected:
            blocked[pk] = (number, "count_mismatch", {"expected": expected, "staged": staged})
        else:
            blocked[pk] = (number, "unposted", None)  # unposted unbilled sales: the detail follows

    if missing := [number for number, _code, params in blocked.values() if params is None]:
        cursor.execute(UNPOSTED_DETAIL_SQL, {"numbers": missing})
        details: dict[str, list[dict]] = {}
        for invoice, billed_id, actual_id, date, amount, currency, unbilled_status, wait_reason, error_journal, \
                milestone, billed_wait_reason in cursor.fetchall():
            item = {"actual": str(actual_id), "date": str(date), "amount": f"{amount:.2f}", "currency": currency}
            if milestone == "?":  # a milestone's billed sale that does not say which milestone (yet)
                code, item["actual"] = "milestone_missing", str(billed_id)
            elif milestone is not None:
                code, item["actual"] = "on_account_missing", milestone
            elif billed_wait_reason:
                # The billed sale itself waits: a fixed-price line's, for what finance needs to post it (D54).
                code, item["actual"], item["reason"] = "waiting", str(billed_id), billed_wait_reason
            elif actual_id is None:
                # The billed sale is here, the connection naming what it invoices is not (yet).
                code, item["actual"] = "missing_connection", str(billed_id)
            elif unbilled_status is None:
                code = "not_staged"
            elif wait_reason:
                code, item["reason"] = "waiting", wait_reason
            elif error_journal:
                code, item["journal"] = "in_error_journal", error_journal
            else:
                code = "not_posted"
            details.setdefault(invoice, []).append({"code": code, "params": item})
        for pk, (number, code, params) in list(blocked.items()):
            if params is None:
                listed = details.get(number, [])
                blocked[pk] = (number, code, {"count": len(listed), "list": listed})

    if blocked:
        cursor.execute(NOTE_BLOCKED_SQL, [json.dumps(
            [{"id": pk, "code": code, "params": params} for pk, (_n, code, params) in blocked.items()])])
        ImportIssue.objects.bulk_create(ImportIssue(run=run, proposal_number=number, code=code, params=params)
                                        for number, code, params in blocked.values())
    if ready:
        cursor.execute(CREATE_PROPOSAL_LINES_SQL, {"ready": ready})
        run.proposal_lines = cursor.rowcount
        for statement in OPEN_PROPOSALS_SQL:
            cursor.execute(statement, {"ready": ready})


def import_lines_for(*, proposal_id: int, triggered_by: str) -> ImportRun:
    """The "Import lines" button of one proposal (domain.md §2.8.5)."""
    proposal = InvoiceProposal.objects.get(pk=proposal_id)
    return import_from_staging(triggered_by=triggered_by, proposal_number=proposal.number)
