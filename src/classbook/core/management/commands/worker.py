"""``classbook worker``: the django-tasks database worker plus the periodic scheduler."""

from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from classbook.core.scheduler import SchedulerThread


class Command(DbWorkerCommand):
    help = "Run background tasks and enqueue periodic jobs (housekeeping)."

    def handle(self, *args, **options):
        options["reload"] = False  # a reloader would start a second scheduler
        scheduler = SchedulerThread()
        scheduler.start()
        try:
            return super().handle(*args, **options)
        finally:
            scheduler.stopping.set()
