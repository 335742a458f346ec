from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "classbook.staff"
    label = "staff"
