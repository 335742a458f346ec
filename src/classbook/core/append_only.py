"""Querysets for append-only tables (audit log, ledger): no bulk update or delete."""

from django.db import models
from django_scopes import ScopedManager


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError(f"{self.model.__name__} rows are append-only: they cannot be updated.")

    def delete(self):
        raise TypeError(f"{self.model.__name__} rows are append-only: they cannot be deleted.")

    @classmethod
    def as_scoped_manager(cls):
        """A django-scopes manager (account dimension) returning this queryset."""
        return ScopedManager(_manager_class=models.Manager.from_queryset(cls), account="account")
