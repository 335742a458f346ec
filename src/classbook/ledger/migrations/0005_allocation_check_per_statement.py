"""The allocation check runs once per INSERT statement, set-based (docs/decisions.md,
"Billing runs: set-based batches").

0002 checked each allocation row in a BEFORE INSERT row trigger: a lock and five queries
per row, their plans cached by plpgsql for the session. A new account's first billing
run starts with an empty ledger, so those plans were made for empty tables (sequential
scans), and every row of the run summed the whole of ``ledger_allocation``: the run grew
quadratic. The same invariants are now checked by one AFTER INSERT ... FOR EACH
STATEMENT trigger over the statement's new rows (a transition table), so a billing
batch's allocations are checked in a handful of queries:

1. lock every entry the new rows name, one primary-key look-up each, in id order
   (concurrent allocations still queue on the entries and never deadlock; each later
   query takes a fresh snapshot, so it sees what the lock holder committed);
2. every named entry is visible in this account (another account's entry, hidden by
   row-level security, is refused — 0002 let it pass as NULLs), a credit-direction
   source, a debit-direction target, one family, the row's account;
3. applied stays within 0..amount for every entry touched, the new rows included;
4. no (source, target) pair is released below zero (pairs with a negative new row).

The statement is planned when it runs (EXECUTE) and reaches every row through a
primary key or the (account, source) / (account, target) indexes of 0004, so a plan
does not depend on how old the planner's statistics are. Errors keep 0002's messages.
"""

from django.db import migrations

INSTALL_SQL = """
CREATE OR REPLACE FUNCTION ledger_allocation_check_rows() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    bad record;
BEGIN
    EXECUTE $q$
        SELECT locked.id
        FROM (SELECT source_id AS id FROM new_allocations
              UNION SELECT target_id FROM new_allocations ORDER BY 1 OFFSET 0) ids
        CROSS JOIN LATERAL (
            SELECT e.id FROM ledger_ledgerentry e WHERE e.id = ids.id OFFSET 0 FOR UPDATE
        ) locked
    $q$;

    EXECUTE $q$
        SELECT n.source_id, n.target_id,
               CASE WHEN s.id IS NULL OR t.id IS NULL THEN 'missing'
                    WHEN s.direction <> -1 OR t.direction <> 1 THEN 'direction'
                    ELSE 'family' END AS problem
        FROM new_allocations n
        LEFT JOIN LATERAL (
            SELECT e.id, e.direction, e.family_id, e.account_id FROM ledger_ledgerentry e
            WHERE e.id = n.source_id OFFSET 0
        ) s ON true
        LEFT JOIN LATERAL (
            SELECT e.id, e.direction, e.family_id, e.account_id FROM ledger_ledgerentry e
            WHERE e.id = n.target_id OFFSET 0
        ) t ON true
        WHERE s.id IS NULL OR t.id IS NULL OR s.direction <> -1 OR t.direction <> 1
            OR s.family_id <> t.family_id OR s.account_id <> n.account_id
            OR t.account_id <> n.account_id
        LIMIT 1
    $q$ INTO bad;
    IF bad IS NOT NULL THEN
        IF bad.problem = 'missing' THEN
            RAISE EXCEPTION 'allocation names an entry % or % that is not in this account',
                bad.source_id, bad.target_id USING ERRCODE = 'check_violation';
        ELSIF bad.problem = 'direction' THEN
            RAISE EXCEPTION 'allocation must apply a credit-direction entry to a debit-direction entry'
                USING ERRCODE = 'check_violation';
        ELSE
            RAISE EXCEPTION 'allocation must stay within one family of one account'
                USING ERRCODE = 'check_violation';
        END IF;
    END IF;

    EXECUTE $q$
        SELECT id, amount_cents, applied FROM (
            SELECT e.id, e.amount_cents,
                (SELECT COALESCE(SUM(a.amount_cents), 0) FROM ledger_allocation a
                    WHERE a.source_id = e.id)
                + (SELECT COALESCE(SUM(a.amount_cents), 0) FROM ledger_allocation a
                    WHERE a.target_id = e.id) AS applied
            FROM (SELECT source_id AS id FROM new_allocations
                  UNION SELECT target_id FROM new_allocations) touched
            CROSS JOIN LATERAL (
                SELECT x.id, x.amount_cents FROM ledger_ledgerentry x
                WHERE x.id = touched.id OFFSET 0
            ) e
            OFFSET 0
        ) totals
        WHERE applied < 0 OR applied > amount_cents
        LIMIT 1
    $q$ INTO bad;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'allocation would apply % of entry % (amount %)',
            bad.applied, bad.id, bad.amount_cents USING ERRCODE = 'check_violation';
    END IF;

    EXECUTE $q$
        SELECT source_id, target_id, total FROM (
            SELECT p.source_id, p.target_id,
                (SELECT SUM(a.amount_cents) FROM ledger_allocation a
                    WHERE a.source_id = p.source_id AND a.target_id = p.target_id) AS total
            FROM (SELECT DISTINCT source_id, target_id FROM new_allocations
                  WHERE amount_cents < 0) p
            OFFSET 0
        ) pairs
        WHERE total < 0
        LIMIT 1
    $q$ INTO bad;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'allocation would release % more than was applied from entry % to %',
            -bad.total, bad.source_id, bad.target_id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$fn$;
DROP TRIGGER IF EXISTS ledger_allocation_check ON ledger_allocation;
CREATE TRIGGER ledger_allocation_check AFTER INSERT ON ledger_allocation
    REFERENCING NEW TABLE AS new_allocations
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_allocation_check_rows();
DROP FUNCTION IF EXISTS ledger_allocation_check();
"""

UNINSTALL_SQL = """
DROP TRIGGER IF EXISTS ledger_allocation_check ON ledger_allocation;
DROP FUNCTION IF EXISTS ledger_allocation_check_rows();
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INSTALL_SQL, params=None)


def reinstall_row_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        from importlib import import_module

        schema_editor.execute(UNINSTALL_SQL, params=None)
        previous = import_module("classbook.ledger.migrations.0002_allocation_check_trigger")
        schema_editor.execute(previous.TRIGGER_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0004_allocation_account_indexes")]
    operations = [migrations.RunPython(install, reinstall_row_trigger)]
