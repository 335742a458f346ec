from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "classbook.ledger"
    label = "ledger"
