"""Confirmed proformas and actuals are immutable in the database, not only in forms (design.md §7).

- A confirmed or posted invoice keeps its number, parties, currency, date and totals, and its
  status only moves forward (Confirmed → Posted); its lines and details cannot change or go.
- An actual is never deleted, and what it records (its identity, type, class, quantity, price,
  amount, currency, project, date) never changes: corrections are reversals (BR-07).
TRUNCATE, used only by test tear-down, is not a row change and is not affected.
"""

from django.db import migrations

SQL = """
CREATE FUNCTION dataverse_refuse_confirmed_invoice_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status IN ('confirmed', 'posted') THEN
        IF TG_OP = 'DELETE'
           OR NEW.status NOT IN ('confirmed', 'posted') OR (OLD.status = 'posted' AND NEW.status <> 'posted')
           OR (NEW.number, NEW.contract_id, NEW.customer_id, NEW.currency, NEW.invoice_date, NEW.amount, NEW.tax,
               NEW.total) IS DISTINCT FROM
              (OLD.number, OLD.contract_id, OLD.customer_id, OLD.currency, OLD.invoice_date, OLD.amount, OLD.tax,
               OLD.total) THEN
            RAISE EXCEPTION 'Invoice % is %: it can no longer change (revise it instead).', OLD.number, OLD.status
                USING ERRCODE = 'restrict_violation';
        END IF;
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;

CREATE FUNCTION dataverse_refuse_confirmed_invoice_part_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM dataverse_invoice WHERE id = OLD.invoice_id AND status IN ('confirmed', 'posted')) THEN
        RAISE EXCEPTION 'The lines and details of a confirmed invoice cannot change.'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;

CREATE FUNCTION dataverse_refuse_actual_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE'
       OR (NEW.uuid, NEW.transaction_type, NEW.transaction_class, NEW.quantity, NEW.price, NEW.amount, NEW.currency,
           NEW.project_id, NEW.transaction_date) IS DISTINCT FROM
          (OLD.uuid, OLD.transaction_type, OLD.transaction_class, OLD.quantity, OLD.price, OLD.amount, OLD.currency,
           OLD.project_id, OLD.transaction_date) THEN
        RAISE EXCEPTION 'Actual % cannot be deleted or changed; correct it by reversal.', OLD.uuid
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER confirmed_invoice_immutable BEFORE UPDATE OR DELETE ON dataverse_invoice
    FOR EACH ROW EXECUTE FUNCTION dataverse_refuse_confirmed_invoice_change();
CREATE TRIGGER confirmed_invoice_line_immutable BEFORE UPDATE OR DELETE ON dataverse_invoiceline
    FOR EACH ROW EXECUTE FUNCTION dataverse_refuse_confirmed_invoice_part_change();
CREATE TRIGGER confirmed_invoice_detail_immutable BEFORE UPDATE OR DELETE ON dataverse_invoicelinedetail
    FOR EACH ROW EXECUTE FUNCTION dataverse_refuse_confirmed_invoice_part_change();
CREATE TRIGGER actual_immutable BEFORE UPDATE OR DELETE ON dataverse_actual
    FOR EACH ROW EXECUTE FUNCTION dataverse_refuse_actual_change();
"""

REVERSE = """
DROP TRIGGER confirmed_invoice_immutable ON dataverse_invoice;
DROP TRIGGER confirmed_invoice_line_immutable ON dataverse_invoiceline;
DROP TRIGGER confirmed_invoice_detail_immutable ON dataverse_invoicelinedetail;
DROP TRIGGER actual_immutable ON dataverse_actual;
DROP FUNCTION dataverse_refuse_confirmed_invoice_change();
DROP FUNCTION dataverse_refuse_confirmed_invoice_part_change();
DROP FUNCTION dataverse_refuse_actual_change();
"""


class Migration(migrations.Migration):
    dependencies = [("dataverse", "0007_invoice_schedules")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
