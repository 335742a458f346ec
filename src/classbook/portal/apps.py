from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "classbook.portal"
    label = "portal"

    def ready(self):
        from classbook.portal import checkout

        checkout.register()  # SETTLEMENT_HOOKS["cart"]: a settled cart payment enrolls
