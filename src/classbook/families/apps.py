from django.apps import AppConfig


class FamiliesConfig(AppConfig):
    name = "classbook.families"
    label = "families"
