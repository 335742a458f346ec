"""Tenancy: which account the current request or task works for.

Two guards, so that a forgotten filter cannot cross accounts:

1. ORM: tenant models use django-scopes' ``ScopedManager``; a query made while no account
   is active raises ``ScopeError`` instead of returning every account's rows.
2. PostgreSQL: row-level security on every tenant table keyed on the session setting
   ``classbook.account_id`` (see ``classbook.core.rls``). ``activate_account`` sets it and
   resets it in a ``finally``; a connection opened while an account is active gets it from
   the ``connection_created`` hook. No account set means no rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from django.db import connections, models
from django.db.backends.signals import connection_created
from django.dispatch import receiver
from django_scopes import ScopedManager, scope

from classbook.core.errors import TenancyError

if TYPE_CHECKING:
    from classbook.accounts.models import Account

DB_SETTING = "classbook.account_id"

_current_account: ContextVar[Account | None] = ContextVar("classbook_account", default=None)


def current_account() -> Account | None:
    return _current_account.get()


def require_account() -> Account:
    account = _current_account.get()
    if account is None:
        raise TenancyError("No account is active; wrap this code in activate_account().")
    return account


def _set_database_account(connection, account_id: int | None) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, false)", [DB_SETTING, str(account_id or "")])


def _apply_to_open_connections(account_id: int | None) -> None:
    # Connections not open yet get the value from the connection_created hook below.
    for connection in connections.all(initialized_only=True):
        if connection.vendor != "postgresql" or connection.connection is None:
            continue
        try:
            _set_database_account(connection, account_id)
        except Exception:
            # A broken connection must not keep a stale account: drop it.
            connection.close()
            if account_id is not None:
                raise


@receiver(connection_created)
def _on_connection_created(sender, connection, **kwargs) -> None:
    account = _current_account.get()
    _set_database_account(connection, account.pk if account else None)


@contextmanager
def activate_account(account: Account) -> Iterator[Account]:
    """Run the enclosed code for ``account``: scoped ORM and database setting."""
    token = _current_account.set(account)
    try:
        with scope(account=account):
            _apply_to_open_connections(account.pk)
            yield account
    finally:
        _current_account.reset(token)
        previous = _current_account.get()
        _apply_to_open_connections(previous.pk if previous else None)


class TenantModel(models.Model):
    """Base for every row that belongs to one account."""

    classbook_tenant_policy = "strict"  # read by classbook.core.rls

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, related_name="+", editable=False
    )

    objects = ScopedManager(account="account")

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        active = require_account()
        if self.account_id is None:
            self.account = active
        elif self.account_id != active.pk:
            raise TenancyError(
                f"{type(self).__name__} belongs to account {self.account_id}, "
                f"not the active account {active.pk}."
            )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.account_id != require_account().pk:
            raise TenancyError(f"{type(self).__name__} belongs to another account.")
        return super().delete(*args, **kwargs)


def tenant_models() -> list[type[models.Model]]:
    from django.apps import apps

    return [m for m in apps.get_models() if getattr(m, "classbook_tenant_policy", None)]
