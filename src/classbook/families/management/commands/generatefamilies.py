"""``classbook generatefamilies --account SLUG --count N``: deterministic demo families."""

import time

from django.core.management.base import BaseCommand, CommandError

from classbook.accounts.selectors import account_by_slug
from classbook.core.tenancy import activate_account


class Command(BaseCommand):
    help = "Add N generated families (guardians, students, contacts, notes) to an account."

    def add_arguments(self, parser):
        parser.add_argument("--account", required=True, help="account slug, e.g. sunrise")
        parser.add_argument("--count", type=int, required=True, help="how many families")
        parser.add_argument("--seed", type=int, default=2026, help="same seed, same families")

    def handle(self, *args, account: str, count: int, seed: int, **options):
        from classbook.demo.families import generate_families

        if count < 1:
            raise CommandError("--count must be at least 1")
        found = account_by_slug(account)
        if found is None:
            raise CommandError(f"no account with the slug “{account}”")
        started = time.perf_counter()
        with activate_account(found):
            result = generate_families(count=count, seed=seed)
        self.stdout.write(
            f"{found.name}: added {result.families} families, {result.guardians} guardians, "
            f"{result.students} students, {result.contacts} emergency contacts, "
            f"{result.notes} staff notes in {time.perf_counter() - started:.1f} s"
        )
