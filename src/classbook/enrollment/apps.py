from django.apps import AppConfig


class EnrollmentConfig(AppConfig):
    name = "classbook.enrollment"
    label = "enrollment"

    def ready(self):
        from classbook.enrollment import housekeeping, services  # noqa: F401  (hooks, steps)
