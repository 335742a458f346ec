"""The periodic housekeeping job's steps.

Later apps add their own (expire holds, reconcile payments, ...) with ``@step``; a step
either runs once for the platform or, with ``per_account=True``, once inside each
active account.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.sessions.models import Session

from classbook.core import clock


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[], int]
    per_account: bool


STEPS: dict[str, Step] = {}


def step(name: str, *, per_account: bool = False):
    def register(func: Callable[[], int]) -> Callable[[], int]:
        STEPS[name] = Step(name=name, run=func, per_account=per_account)
        return func

    return register


@step("expired_sessions")
def delete_expired_sessions() -> int:
    deleted, _ = Session.objects.filter(expire_date__lt=clock.now()).delete()
    return deleted


TASK_RESULT_RETENTION = timedelta(days=14)


@step("old_task_results")
def delete_old_task_results() -> int:
    from django_tasks_db.models import DBTaskResult

    cutoff = clock.now() - TASK_RESULT_RETENTION
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    return deleted


STATISTICS_EVERY = timedelta(hours=1)
_statistics_refreshed_at = None


@step("sqlite_statistics")
def refresh_sqlite_statistics() -> int:
    """Planner statistics for the embedded SQLite database, at most once an hour.

    SQLite has no autovacuum: without ``ANALYZE`` its planner picks the single-column
    ``account_id`` index over a better one and reads a whole account (the office pages'
    audit filters went from 0.1 ms to 0.5 s). ``analysis_limit`` samples each index, so a
    refresh costs milliseconds even on a big file. PostgreSQL's autovacuum does this
    there (the app role could not: ANALYZE needs the tables' owner). Returns 1 when it
    ran."""
    from django.db import connection

    global _statistics_refreshed_at
    now = clock.now()
    if connection.vendor != "sqlite" or (
        _statistics_refreshed_at and now - _statistics_refreshed_at < STATISTICS_EVERY
    ):
        return 0
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA analysis_limit = 1000")
        cursor.execute("ANALYZE")
    _statistics_refreshed_at = now
    return 1
