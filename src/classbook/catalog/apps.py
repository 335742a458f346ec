from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "classbook.catalog"
    label = "catalog"
