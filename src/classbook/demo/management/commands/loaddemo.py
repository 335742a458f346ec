from django.core.management.base import BaseCommand

from classbook.demo.data import load_demo_data


class Command(BaseCommand):
    help = "Create the Sunrise Gymnastics demo account (does nothing if it exists)."

    def handle(self, *args, **options):
        created = load_demo_data()
        self.stdout.write("demo data loaded" if created else "demo data already present")
