"""Platform-wide bookkeeping that belongs to no account."""

from django.db import models


class PeriodicJob(models.Model):
    """A job the worker enqueues every ``interval``; also the worker's heartbeat.

    Workers race for a due job with one conditional UPDATE of ``next_run_at`` (see
    ``classbook.core.scheduler``), so many workers on many machines enqueue it once.
    """

    name = models.CharField(max_length=100, primary_key=True)
    next_run_at = models.DateTimeField()
    last_enqueued_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_result = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return self.name
