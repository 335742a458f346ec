from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "classbook.payments"
    label = "payments"

    def ready(self):
        from classbook.payments import housekeeping  # noqa: F401  (reconciler step)
