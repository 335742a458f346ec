"""Background tasks of the platform, and ``tenant_task`` for tasks of one account."""

import functools
import logging
from collections.abc import Callable

from django_tasks import task

from classbook.core import clock
from classbook.core.housekeeping import STEPS
from classbook.core.models import PeriodicJob
from classbook.core.tenancy import activate_account

logger = logging.getLogger(__name__)


def tenant_task(**task_options) -> Callable:
    """Declare a task that runs inside one account.

    Enqueue it with ``account_id=...``; the worker activates that account (ORM scope and
    database setting) before calling the function, which receives ``account``.
    """

    def decorate(func: Callable) -> Callable:
        @functools.wraps(func)
        def run_in_account(*args, account_id: int, **kwargs):
            from classbook.accounts.models import Account

            account = Account.objects.get(pk=account_id)
            with activate_account(account):
                return func(*args, account=account, **kwargs)

        return task(**task_options)(run_in_account)

    return decorate


@task()
def housekeeping() -> dict[str, int | str]:
    """Run every housekeeping step; finishing stamps the worker heartbeat."""
    from classbook.accounts.models import Account

    results: dict[str, int | str] = {}
    accounts = list(Account.objects.filter(status=Account.Status.ACTIVE))
    for step in STEPS.values():
        # One failing step (or account) must not stop the others, nor the heartbeat.
        total, failures = 0, []
        for account in accounts if step.per_account else [None]:
            try:
                if account is None:
                    total += step.run()
                else:
                    with activate_account(account):
                        total += step.run()
            except Exception:
                logger.exception(
                    "housekeeping step %s failed",
                    step.name,
                    extra={"fields": {"account": getattr(account, "slug", None)}},
                )
                failures.append(getattr(account, "slug", "platform"))
        results[step.name] = f"failed for {', '.join(failures)}" if failures else total
    PeriodicJob.objects.filter(name="housekeeping").update(
        last_finished_at=clock.now(), last_result=results
    )
    logger.info("housekeeping done", extra={"fields": results})
    return results
