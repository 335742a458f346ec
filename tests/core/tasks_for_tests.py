"""Tenant tasks used by tests/core/test_worker.py (tasks must live at module level)."""

from django.db import connection

from classbook.accounts.models import Location
from classbook.core.tasks import tenant_task
from classbook.core.tenancy import current_account


@tenant_task()
def location_names(*, account) -> dict:
    """What a tenant task sees through the ORM."""
    active = current_account()
    return {
        "account": account.slug,
        "active_account": active.slug if active else None,
        "locations": sorted(Location.objects.values_list("name", flat=True)),
    }


@tenant_task()
def raw_location_account_ids(*, account) -> list[int]:
    """What a tenant task sees through raw SQL (row-level security on PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT account_id FROM accounts_location ORDER BY account_id")
        return [row[0] for row in cursor.fetchall()]
