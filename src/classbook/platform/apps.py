from django.apps import AppConfig


class PlatformConfig(AppConfig):
    name = "classbook.platform"
    label = "platform"
