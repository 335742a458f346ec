"""PostgreSQL re-checks every allocation insert under row locks on both entries, so
applied amounts stay within 0..amount even if application code had a bug or two
transactions raced. (SQLite has one writer at a time; the services check there.)"""

from django.db import migrations

TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION ledger_allocation_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    src ledger_ledgerentry%ROWTYPE;
    tgt ledger_ledgerentry%ROWTYPE;
    src_applied bigint;
    tgt_applied bigint;
    pair_total bigint;
BEGIN
    -- Lock both entries in id order so concurrent allocations queue, never deadlock.
    PERFORM 1 FROM ledger_ledgerentry
        WHERE id IN (NEW.source_id, NEW.target_id) ORDER BY id FOR UPDATE;
    SELECT * INTO src FROM ledger_ledgerentry WHERE id = NEW.source_id;
    SELECT * INTO tgt FROM ledger_ledgerentry WHERE id = NEW.target_id;
    IF src.direction <> -1 OR tgt.direction <> 1 THEN
        RAISE EXCEPTION 'allocation must apply a credit-direction entry to a debit-direction entry'
            USING ERRCODE = 'check_violation';
    END IF;
    IF src.family_id <> tgt.family_id OR src.account_id <> NEW.account_id
            OR tgt.account_id <> NEW.account_id THEN
        RAISE EXCEPTION 'allocation must stay within one family of one account'
            USING ERRCODE = 'check_violation';
    END IF;
    SELECT COALESCE(SUM(amount_cents), 0) + NEW.amount_cents INTO src_applied
        FROM ledger_allocation WHERE source_id = NEW.source_id;
    SELECT COALESCE(SUM(amount_cents), 0) + NEW.amount_cents INTO tgt_applied
        FROM ledger_allocation WHERE target_id = NEW.target_id;
    SELECT COALESCE(SUM(amount_cents), 0) + NEW.amount_cents INTO pair_total
        FROM ledger_allocation WHERE source_id = NEW.source_id AND target_id = NEW.target_id;
    IF src_applied < 0 OR src_applied > src.amount_cents
            OR tgt_applied < 0 OR tgt_applied > tgt.amount_cents OR pair_total < 0 THEN
        RAISE EXCEPTION 'allocation would apply % of entry % (amount %) and % of entry % (amount %)',
            src_applied, src.id, src.amount_cents, tgt_applied, tgt.id, tgt.amount_cents
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
DROP TRIGGER IF EXISTS ledger_allocation_check ON ledger_allocation;
CREATE TRIGGER ledger_allocation_check BEFORE INSERT ON ledger_allocation
    FOR EACH ROW EXECUTE FUNCTION ledger_allocation_check();
"""

DROP_SQL = """
DROP TRIGGER IF EXISTS ledger_allocation_check ON ledger_allocation;
DROP FUNCTION IF EXISTS ledger_allocation_check();
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER_SQL, params=None)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]
    operations = [migrations.RunPython(install, uninstall)]
