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


def _policy_condition(policy: str) -> str:
    if policy == "strict":
        return "account_id = classbook_current_account()"
    if policy == "null-visible":
        # Rows with no account (platform operators) are visible everywhere.
        return "account_id IS NULL OR account_id = classbook_current_account()"
    raise ValueError(f"unknown tenant policy {policy!r}")


def install_row_level_security(connection: BaseDatabaseWrapper) -> list[str]:
    """Enable RLS on every tenant table; grant the app role its rights. Returns tables."""
    if connection.vendor != "postgresql":
        return []
    qn = connection.ops.quote_name
    tables = []
    with connection.cursor() as cursor:
        cursor.execute(_FUNCTION_SQL)
        for model in tenant_models():
            table = qn(model._meta.db_table)
            condition = _policy_condition(model.classbook_tenant_policy)
            cursor.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            cursor.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
            cursor.execute(
                f"CREATE POLICY {POLICY} ON {table} USING ({condition}) WITH CHECK ({condition})"
            )
            tables.append(model._meta.db_table)
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
