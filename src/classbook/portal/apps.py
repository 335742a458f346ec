from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "classbook.portal"
    label = "portal"
