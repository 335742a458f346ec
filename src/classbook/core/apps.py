from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _install_rls(sender, using, **kwargs):
    from django.db import connections

    from classbook.core.rls import install_row_level_security

    install_row_level_security(connections[using])


class CoreConfig(AppConfig):
    name = "classbook.core"
    label = "core"

    def ready(self):
        from classbook.core import checks, tenancy  # noqa: F401  (signal receivers, checks)

        # post_migrate is sent once per app after the whole plan ran; one call suffices.
        post_migrate.connect(_install_rls, sender=self, dispatch_uid="classbook-rls")
