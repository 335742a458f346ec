from django.core.management.base import BaseCommand, CommandError

from classbook.accounts.services import account_create
from classbook.core.errors import ValidationFailed


class Command(BaseCommand):
    help = "Create a business account with an owner login; prints a one-time password."

    def add_arguments(self, parser):
        parser.add_argument("--slug", required=True, help="address: /<slug>/office/")
        parser.add_argument("--name", required=True)
        parser.add_argument("--owner-email", required=True)
        parser.add_argument("--timezone", default="America/New_York")
        parser.add_argument("--currency", default="USD")

    def handle(self, *args, slug, name, owner_email, timezone, currency, **options):
        try:
            created = account_create(
                slug=slug, name=name, owner_email=owner_email, timezone=timezone, currency=currency
            )
        except ValidationFailed as exc:
            lines = [
                f"{field}: {msg}" if field != "__all__" else msg
                for field, msgs in exc.errors.items()
                for msg in msgs
            ]
            raise CommandError("account not created — " + "; ".join(lines)) from None
        account, owner = created.account, created.owner
        self.stdout.write(
            f"Created {account.name} at /{account.slug}/\n"
            f"  office log-in: /{account.slug}/office/login/\n"
            f"  username:      {owner.username}\n"
            f"  one-time password (change at first log-in): {created.owner_password}"
        )
