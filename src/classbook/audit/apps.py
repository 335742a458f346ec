from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "classbook.audit"
    label = "audit"
