"""The ``classbook`` command: Classbook's own commands, then any Django management command.

classbook demo [--reset]        demo account, web server, worker, gateway sandbox
classbook serve [--bind ...]    gunicorn (production web server)
classbook worker                background tasks + periodic housekeeping
classbook migrate               database migrations (as the owner role on PostgreSQL)
classbook createaccount --slug S --name N --owner-email E
classbook createoperator --username U --email E
classbook check-deploy          Django's deploy checks plus Classbook's
classbook pg-roles --admin-url postgres://postgres@127.0.0.1/postgres
"""

import os
import sys


def load_settings() -> None:
    """Import settings now so a configuration error is one line, not a traceback."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "classbook.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        settings.INSTALLED_APPS  # noqa: B018  (forces the import)
    except ImproperlyConfigured as exc:
        print(f"classbook: configuration error: {exc}", file=sys.stderr)
        sys.exit(2)


def _django(argv: list[str]) -> None:
    load_settings()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["classbook", *argv])


def gunicorn_command(
    *, app: str, bind: str, workers: int, threads: int, extra: list[str] | tuple[str, ...] = ()
) -> list[str]:
    """How ``classbook serve`` runs gunicorn; the benchmarks' bare-view baseline runs its
    app with exactly these settings."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        app,
        "--bind",
        bind,
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--worker-class",
        "gthread",
        "--access-logfile",
        "-" if os.environ.get("CLASSBOOK_ACCESS_LOG") else "/dev/null",
        "--graceful-timeout",
        "20",
        *extra,
    ]


def _serve(argv: list[str]) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="classbook serve")
    parser.add_argument("--bind", default=os.environ.get("CLASSBOOK_BIND", "127.0.0.1:8000"))
    parser.add_argument(
        "--workers", type=int, default=int(os.environ.get("CLASSBOOK_WEB_WORKERS", "2"))
    )
    parser.add_argument(
        "--threads", type=int, default=int(os.environ.get("CLASSBOOK_WEB_THREADS", "4"))
    )
    args, extra = parser.parse_known_args(argv)
    load_settings()
    gunicorn = gunicorn_command(
        app="classbook.wsgi:application",
        bind=args.bind,
        workers=args.workers,
        threads=args.threads,
        extra=extra,
    )
    os.execv(sys.executable, gunicorn)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv else "help"
    rest = argv[1:]
    if command in {"help", "-h", "--help"}:
        print(__doc__)
        print("Any other command is passed to Django (classbook shell, classbook dbshell, ...).")
        return
    if command == "demo":
        from classbook.demo.runner import run_demo

        sys.exit(run_demo(rest))
    if command == "serve":
        return _serve(rest)
    if command == "pg-roles":
        from classbook.core.pgroles import main as pg_roles

        sys.exit(pg_roles(rest))
    if command == "check-deploy":
        return _django(["check", "--deploy", "--fail-level", "WARNING", *rest])
    _django([command, *rest])


if __name__ == "__main__":
    main()
