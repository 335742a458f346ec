"""The SQLite statistics step of the housekeeping job."""

from datetime import timedelta

import pytest
from django.db import connection

from classbook.core import clock, housekeeping


@pytest.fixture(autouse=True)
def _never_refreshed(monkeypatch):
    monkeypatch.setattr(housekeeping, "_statistics_refreshed_at", None)


def _stat_rows() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_stat1")
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_sqlite_gets_planner_statistics_at_most_once_an_hour(account_a):
    if connection.vendor != "sqlite":
        assert housekeeping.refresh_sqlite_statistics() == 0  # autovacuum's job there
        return
    assert housekeeping.refresh_sqlite_statistics() == 1
    assert _stat_rows() > 0  # the account rows made stats for the accounts table at least
    with clock.freeze(clock.now() + timedelta(minutes=59)):
        assert housekeeping.refresh_sqlite_statistics() == 0
    with clock.freeze(clock.now() + timedelta(minutes=61)):
        assert housekeeping.refresh_sqlite_statistics() == 1
