"""Sequences, the money rounding function, and immutability of posted documents.

Posted vouchers, ledger entries and project invoices, and posted proposals with their lines,
cannot be changed or deleted by any path (ORM, admin, raw SQL): the database refuses. They
are corrected by reversal only (design.md §7). TRUNCATE, used only by test tear-down, is
not a row change and is not affected.
"""

from django.db import migrations

from projinv.money import round_money_sql_function

REFUSE = """
CREATE FUNCTION finance_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'Posted % rows cannot be changed or deleted; correct them by reversal.', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END $$;

CREATE FUNCTION finance_refuse_posted_proposal_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'posted' THEN
        RAISE EXCEPTION 'Posted proposal % cannot be changed or deleted.', OLD.number
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;

CREATE FUNCTION finance_refuse_posted_proposal_line_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM finance_invoiceproposal WHERE id = OLD.proposal_id AND status = 'posted') THEN
        RAISE EXCEPTION 'Lines of a posted proposal cannot be changed or deleted.'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;

CREATE TRIGGER voucher_immutable BEFORE UPDATE OR DELETE ON finance_voucher
    FOR EACH ROW EXECUTE FUNCTION finance_refuse_change();
CREATE TRIGGER ledger_entry_immutable BEFORE UPDATE OR DELETE ON finance_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION finance_refuse_change();
CREATE TRIGGER project_invoice_immutable BEFORE UPDATE OR DELETE ON finance_projectinvoice
    FOR EACH ROW EXECUTE FUNCTION finance_refuse_change();
CREATE TRIGGER posted_proposal_immutable BEFORE UPDATE OR DELETE ON finance_invoiceproposal
    FOR EACH ROW EXECUTE FUNCTION finance_refuse_posted_proposal_change();
CREATE TRIGGER posted_proposal_line_immutable BEFORE UPDATE OR DELETE ON finance_invoiceproposalline
    FOR EACH ROW EXECUTE FUNCTION finance_refuse_posted_proposal_line_change();
"""

UNREFUSE = """
DROP TRIGGER voucher_immutable ON finance_voucher;
DROP TRIGGER ledger_entry_immutable ON finance_ledgerentry;
DROP TRIGGER project_invoice_immutable ON finance_projectinvoice;
DROP TRIGGER posted_proposal_immutable ON finance_invoiceproposal;
DROP TRIGGER posted_proposal_line_immutable ON finance_invoiceproposalline;
DROP FUNCTION finance_refuse_change();
DROP FUNCTION finance_refuse_posted_proposal_change();
DROP FUNCTION finance_refuse_posted_proposal_line_change();
"""


class Migration(migrations.Migration):
    dependencies = [("finance", "0001_initial")]

    operations = [
        migrations.RunSQL(round_money_sql_function(), "DROP FUNCTION IF EXISTS projinv_round_money(numeric, text)"),
        migrations.RunSQL(
            "CREATE SEQUENCE finance_journal_number; CREATE SEQUENCE finance_voucher_number;",
            "DROP SEQUENCE finance_journal_number; DROP SEQUENCE finance_voucher_number;",
        ),
        migrations.RunSQL(REFUSE, UNREFUSE),
    ]
