from django.apps import AppConfig


class OfficeConfig(AppConfig):
    name = "classbook.office"
    label = "office"
