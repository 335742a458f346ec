from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "classbook.catalog"
    label = "catalog"

    def ready(self):
        from classbook.catalog import housekeeping  # noqa: F401  (registers its step)
