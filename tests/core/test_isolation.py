"""Invariant 1: one account can never read, change or delete another account's rows."""

import pytest
from django.db import connection
from django_scopes import ScopeError

from classbook.core.errors import TenancyError
from classbook.core.tenancy import activate_account, tenant_models
from tests.conftest import is_postgres
from tests.tenant_factories import FACTORIES


@pytest.fixture
def two_accounts_with_rows(account_a, account_b):
    rows = {}
    for account in (account_a, account_b):
        with activate_account(account):
            rows[account.slug] = {model: make(account.pk) for model, make in FACTORIES.items()}
    return rows


def test_every_tenant_model_has_a_factory():
    assert set(tenant_models()) == set(FACTORIES), "add the new tenant model to FACTORIES"


def test_tenant_query_without_an_account_is_refused(two_accounts_with_rows):
    from classbook.accounts.models import Location

    with pytest.raises(ScopeError):
        list(Location.objects.all())
    with pytest.raises(ScopeError):
        Location.objects.filter(name="x").count()


@pytest.mark.parametrize("model", list(FACTORIES), ids=lambda m: m.__name__)
def test_orm_cannot_read_change_or_delete_other_accounts_rows(
    model, account_a, account_b, two_accounts_with_rows
):
    theirs = two_accounts_with_rows["bravo"][model]
    with activate_account(account_a):
        assert not model.objects.filter(pk=theirs.pk).exists()
        assert all(row.account_id == account_a.pk for row in model.objects.all())
        if getattr(model, "classbook_append_only", False):
            with pytest.raises(TypeError, match="append-only"):
                model.objects.filter(pk=theirs.pk).update(account_id=account_a.pk)
        else:
            assert model.objects.filter(pk=theirs.pk).update(account_id=account_a.pk) == 0
            assert model.objects.filter(pk=theirs.pk).delete()[0] == 0
    with activate_account(account_b):
        assert model.objects.filter(pk=theirs.pk).exists()


def test_saving_a_row_of_another_account_is_refused(account_a, account_b, two_accounts_with_rows):
    from classbook.accounts.models import Location

    theirs = two_accounts_with_rows["bravo"][Location]
    with activate_account(account_a):
        theirs.name = "Hijacked"
        with pytest.raises(TenancyError):
            theirs.save()
        with pytest.raises(TenancyError):
            theirs.delete()
    with activate_account(account_b):
        assert Location.objects.get(pk=theirs.pk).name != "Hijacked"


def test_nested_activation_restores_the_outer_account(account_a, account_b):
    from classbook.accounts.models import Location

    with activate_account(account_a):
        with activate_account(account_b):
            assert {loc.account_id for loc in Location.objects.all()} == {account_b.pk}
        assert {loc.account_id for loc in Location.objects.all()} == {account_a.pk}


def _raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount, (cursor.fetchall() if cursor.description else None)


@pytest.mark.postgres
@pytest.mark.parametrize("model", list(FACTORIES), ids=lambda m: m.__name__)
def test_raw_sql_cannot_cross_accounts_on_postgres(
    model, account_a, account_b, two_accounts_with_rows
):
    if not is_postgres():
        pytest.skip("row-level security is a PostgreSQL feature")
    table = connection.ops.quote_name(model._meta.db_table)
    theirs = two_accounts_with_rows["bravo"][model]
    with activate_account(account_a):
        _, rows = _raw(f"SELECT DISTINCT account_id FROM {table} WHERE account_id IS NOT NULL")
        assert rows == [(account_a.pk,)]
        assert _raw(f"SELECT 1 FROM {table} WHERE id = %s", [theirs.pk])[1] == []
        assert (
            _raw(f"UPDATE {table} SET account_id = account_id WHERE id = %s", [theirs.pk])[0] == 0
        )
        assert _raw(f"DELETE FROM {table} WHERE id = %s", [theirs.pk])[0] == 0
    # With no account set, a tenant table shows no account's rows at all.
    _, rows = _raw(f"SELECT count(*) FROM {table} WHERE account_id IS NOT NULL")
    assert rows == [(0,)]
    with activate_account(account_b):
        assert _raw(f"SELECT account_id FROM {table} WHERE id = %s", [theirs.pk])[1] == [
            (account_b.pk,)
        ]


@pytest.mark.postgres
def test_raw_insert_into_another_account_is_refused_on_postgres(account_a, account_b):
    from django.db import DatabaseError, transaction

    if not is_postgres():
        pytest.skip("row-level security is a PostgreSQL feature")
    with (
        activate_account(account_a),
        pytest.raises(DatabaseError, match="row-level security"),
        transaction.atomic(),
    ):
        _raw(
            "INSERT INTO accounts_location (account_id, name, address_line1, "
            "address_line2, city, region, postal_code, timezone, phone, is_active, "
            "created_at) VALUES (%s, 'Sneaky', '', '', '', '', '', 'UTC', '', true, now())",
            [account_b.pk],
        )


@pytest.mark.postgres
def test_app_role_does_not_own_tenant_tables(db):
    if not is_postgres():
        pytest.skip("PostgreSQL only")
    _, rows = _raw(
        "SELECT tableowner <> current_user, rowsecurity FROM pg_tables "
        "WHERE tablename = 'accounts_location'"
    )
    assert rows == [(True, True)]
    _, rows = _raw("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
    assert rows == [(False, False)]
