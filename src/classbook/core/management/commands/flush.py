"""``flush`` as the owner role: the app role has no TRUNCATE (it ignores RLS)."""

from django.core.management.commands.flush import Command as DjangoFlushCommand

from classbook.core.dbroles import owner_connection


class Command(DjangoFlushCommand):
    def handle(self, **options):
        with owner_connection(options["database"]):
            return super().handle(**options)
