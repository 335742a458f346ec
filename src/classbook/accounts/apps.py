from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "classbook.accounts"
    label = "accounts"
