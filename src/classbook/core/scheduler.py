"""Enqueue periodic jobs from inside worker processes; no separate beat process.

Each worker wakes every few seconds and tries to claim each due job with one conditional
UPDATE; only the worker whose UPDATE changed the row enqueues it, so several workers on
several machines enqueue each run once.
"""

import logging
import threading
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections

from classbook.core import clock
from classbook.core.models import PeriodicJob

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    name: str
    task_path: str
    interval: timedelta


def periodic_jobs() -> list[Periodic]:
    return [
        Periodic(
            "housekeeping",
            "classbook.core.tasks.housekeeping",
            timedelta(seconds=settings.CLASSBOOK_HOUSEKEEPING_SECONDS),
        ),
    ]


def enqueue_due_jobs() -> list[str]:
    """Claim and enqueue every due job; returns the names enqueued by this call."""
    from django.utils.module_loading import import_string

    now = clock.now()
    enqueued = []
    for job in periodic_jobs():
        PeriodicJob.objects.get_or_create(name=job.name, defaults={"next_run_at": now})
        claimed = PeriodicJob.objects.filter(name=job.name, next_run_at__lte=now).update(
            next_run_at=now + job.interval, last_enqueued_at=now
        )
        if claimed:
            import_string(job.task_path).enqueue()
            enqueued.append(job.name)
    return enqueued


class SchedulerThread(threading.Thread):
    def __init__(self, tick_seconds: float = 5.0):
        super().__init__(name="classbook-scheduler", daemon=True)
        self.tick_seconds = tick_seconds
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                enqueue_due_jobs()
            except Exception:
                logger.exception("scheduler tick failed")
            finally:
                close_old_connections()
            self.stopping.wait(self.tick_seconds)
