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
