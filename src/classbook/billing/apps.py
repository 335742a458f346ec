from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "classbook.billing"
    label = "billing"

    def ready(self):
        from classbook.billing import housekeeping  # noqa: F401  (late-fee step)
