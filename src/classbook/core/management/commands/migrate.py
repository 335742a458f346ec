"""``migrate`` as the owner role, then row-level security (see classbook.core.rls)."""

from django.core.management.commands.migrate import Command as DjangoMigrateCommand

from classbook.core.dbroles import owner_connection


class Command(DjangoMigrateCommand):
    def handle(self, *args, **options):
        with owner_connection(options["database"]):
            return super().handle(*args, **options)
