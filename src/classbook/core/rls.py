"""PostgreSQL row-level security for tenant tables, installed after every ``migrate``.

Each tenant table gets a policy ``account_id = classbook_current_account()``; the function
reads the session setting made by ``classbook.core.tenancy``. The app's role does not own
the tables, so the policies bind it (owners bypass RLS; only migrations run as owner).
Re-running is safe: policies are dropped and created again, grants are idempotent.
"""

from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper

from classbook.core.tenancy import DB_SETTING, tenant_models

POLICY = "classbook_tenant_isolation"

_FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION classbook_current_account() RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT NULLIF(current_setting('{DB_SETTING}', true), '')::bigint
$$;
"""


_APPEND_ONLY_SQL = """
CREATE OR REPLACE FUNCTION classbook_reject_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
"""

# Third-party tables whose rows belong to a user: visible only when the user is.
USER_OWNED_TABLES = ["otp_totp_totpdevice"]


def _policy_condition(policy: str) -> str:
    if policy == "strict":
        return "account_id = classbook_current_account()"
    if policy == "user-owned":
        return "user_id IN (SELECT id FROM accounts_user)"
    if policy == "null-visible":
        # Rows with no account (platform operators) are visible everywhere.
        return "account_id IS NULL OR account_id = classbook_current_account()"
    raise ValueError(f"unknown tenant policy {policy!r}")


def install_row_level_security(connection: BaseDatabaseWrapper) -> list[str]:
    """Enable RLS on every tenant table, append-only triggers, the app role's grants.

    Returns the tables that got a policy.
    """
    if connection.vendor != "postgresql":
        return []
    qn = connection.ops.quote_name
    tables = []
    existing = set(connection.introspection.table_names())
    policies = [(m._meta.db_table, m.classbook_tenant_policy) for m in tenant_models()]
    policies += [(t, "user-owned") for t in USER_OWNED_TABLES if t in existing]
    with connection.cursor() as cursor:
        cursor.execute(_FUNCTION_SQL)
        cursor.execute(_APPEND_ONLY_SQL)
        for db_table, policy in policies:
            table = qn(db_table)
            condition = _policy_condition(policy)
            cursor.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            cursor.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
            cursor.execute(
                f"CREATE POLICY {POLICY} ON {table} USING ({condition}) WITH CHECK ({condition})"
            )
            tables.append(db_table)
        for model in tenant_models():
            if getattr(model, "classbook_append_only", False):
                table = qn(model._meta.db_table)
                cursor.execute(f"DROP TRIGGER IF EXISTS classbook_append_only ON {table}")
                cursor.execute(
                    f"CREATE TRIGGER classbook_append_only BEFORE UPDATE OR DELETE ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION classbook_reject_change()"
                )
        app_role = settings.CLASSBOOK_DATABASE_APP_ROLE
        if app_role:
            role = qn(app_role)
            # No TRUNCATE: it ignores row-level security.
            cursor.execute(
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"
            )
            cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
            cursor.execute(f"GRANT EXECUTE ON FUNCTION classbook_current_account() TO {role}")
    return tables
