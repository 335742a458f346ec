"""Classbook's own deploy checks (``classbook check-deploy`` runs them with Django's)."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def check_classbook_deploy(app_configs, **kwargs):
    problems = []
    if settings.DEBUG:
        problems.append(
            Error("CLASSBOOK_DEBUG is on.", hint="Unset it in production.", id="classbook.E001")
        )
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        problems.append(
            Warning(
                "The database is SQLite.",
                hint="Set CLASSBOOK_DATABASE_URL=postgres://... for production: row-level "
                "security and real concurrency need PostgreSQL.",
                id="classbook.W001",
            )
        )
    elif not settings.CLASSBOOK_DATABASE_OWNER:
        problems.append(
            Warning(
                "CLASSBOOK_DATABASE_OWNER_URL is not set, so the app connects as the role "
                "that owns the tables and row-level security does not bind it.",
                hint="Run `classbook pg-roles` and use the app role in CLASSBOOK_DATABASE_URL.",
                id="classbook.W002",
            )
        )
    manifest = settings.STATIC_ROOT / "staticfiles.json"
    if not settings.DEBUG and not manifest.exists():
        problems.append(
            Error(
                f"Static files are not collected ({manifest} missing).",
                hint="Run `classbook collectstatic --noinput` after `npm ci`.",
                id="classbook.E002",
            )
        )
    for prefix, path in settings.STATICFILES_DIRS:
        if not path.exists():
            problems.append(
                Error(
                    f"{path} is missing ({prefix}).",
                    hint="Run `npm ci` in the project directory.",
                    id="classbook.E003",
                )
            )
    return problems
