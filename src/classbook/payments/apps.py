from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "classbook.payments"
    label = "payments"

    def ready(self):
        from classbook.payments import (  # noqa: F401
            autopay,  # autopay retry step
            housekeeping,  # reconciler step
        )
