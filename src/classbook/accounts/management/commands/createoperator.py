from django.core.management.base import BaseCommand, CommandError

from classbook.accounts.auth import generate_one_time_password
from classbook.accounts.services import operator_create
from classbook.core.errors import ValidationFailed


class Command(BaseCommand):
    help = "Create a platform operator login; prints a generated password."

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--email", required=True)

    def handle(self, *args, username, email, **options):
        password = generate_one_time_password()
        try:
            user = operator_create(username=username, email=email, password=password)
        except ValidationFailed as exc:
            raise CommandError("operator not created — " + str(exc)) from None
        self.stdout.write(
            f"Created operator {user.username}\n  password: {password}\n  log-in: /platform/login/"
        )
