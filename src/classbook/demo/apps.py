from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "classbook.demo"
    label = "demo"
