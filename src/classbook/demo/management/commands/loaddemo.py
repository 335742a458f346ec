from django.core.management.base import BaseCommand, CommandError

from classbook.demo.data import load_demo_data


class Command(BaseCommand):
    help = "Create the Sunrise Gymnastics demo account (does nothing if it exists)."

    def add_arguments(self, parser):
        parser.add_argument("--families", type=int, default=300)
        parser.add_argument("--classes", type=int, default=60)
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, families, classes, seed, **options):
        if families < 0 or classes < 0:
            raise CommandError("--families and --classes must be zero or more")
        created = load_demo_data(families=families, classes=classes, seed=seed)
        self.stdout.write("demo data loaded" if created else "demo data already present")
