"""``python -m classbook.bench [--families 10000] [--scenario family_search] [--repeat 5]``

Builds a throwaway database per backend — SQLite in a temporary folder, and PostgreSQL
too when CLASSBOOK_DATABASE_URL points at one (a fresh database created and dropped with
the owner role of CLASSBOOK_DATABASE_OWNER_URL; the scenarios run as the app role, under
row-level security, as production does) — with one account and ``--families`` generated
families, runs the scenarios, prints a table per backend and writes
``bench-results/<date>.json``.

Each backend runs in its own Python process (Django is configured once per process); the
parent only orchestrates and merges the results.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from classbook.bench import postgres_admin

BENCH_SLUG = "bench"
BENCH_PASSWORD = "Bench-Password-2026"
RUSH_OPTIONS = ["rush_users", "rush_warmup", "rush_duration", "rush_parents", "rush_classes"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--families", type=int, default=10_000, help="families to generate")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per query")
    parser.add_argument(
        "--scenario", action="append", help="run only this scenario (repeatable); default all"
    )
    parser.add_argument(
        "--database",
        choices=["sqlite", "postgresql", "all"],
        default="all",
        help="all = SQLite, plus PostgreSQL when CLASSBOOK_DATABASE_URL is set",
    )
    rush = parser.add_argument_group("rush scenario (PostgreSQL only)")
    rush.add_argument(
        "--rush-users", default="32,64,128", help="concurrent parents per level, comma-separated"
    )
    rush.add_argument("--rush-warmup", type=float, default=5.0, help="seconds before measuring")
    rush.add_argument("--rush-duration", type=float, default=20.0, help="seconds measured")
    rush.add_argument(
        "--rush-parents", type=int, default=1500, help="families with a login and card per level"
    )
    rush.add_argument("--rush-classes", type=int, default=400, help="classes in the catalog")
    parser.add_argument("--output-dir", default="bench-results")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--child", choices=["sqlite", "postgresql"], help=argparse.SUPPRESS)
    parser.add_argument("--result-file", help=argparse.SUPPRESS)
    return parser


# --- parent: one child process per backend -------------------------------------------------


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def _child_env(backend: str, tmp: str) -> tuple[dict, str | None]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "classbook.settings",
        "CLASSBOOK_SECRET_KEY": "bench-only-not-a-secret",
        "CLASSBOOK_DEBUG": "0",
        "CLASSBOOK_SSL_REDIRECT": "0",
        "CLASSBOOK_SECURE_COOKIES": "0",
        "CLASSBOOK_LOG_LEVEL": "WARNING",
        "CLASSBOOK_VAR_DIR": tmp,
        "CLASSBOOK_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    if backend == "sqlite":
        env["CLASSBOOK_DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
        env.pop("CLASSBOOK_DATABASE_OWNER_URL", None)
        return env, None
    app_url = os.environ["CLASSBOOK_DATABASE_URL"]
    owner_url = os.environ.get("CLASSBOOK_DATABASE_OWNER_URL") or app_url
    name = f"classbook_bench_{os.getpid()}"
    with postgres_admin(owner_url) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    env["CLASSBOOK_DATABASE_URL"] = _with_database(app_url, name)
    if os.environ.get("CLASSBOOK_DATABASE_OWNER_URL"):
        env["CLASSBOOK_DATABASE_OWNER_URL"] = _with_database(owner_url, name)
    return env, name


def _drop_postgres(name: str) -> None:
    owner_url = (
        os.environ.get("CLASSBOOK_DATABASE_OWNER_URL") or os.environ["CLASSBOOK_DATABASE_URL"]
    )
    with postgres_admin(owner_url) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def run_all(args: argparse.Namespace) -> dict:
    from classbook.bench import format_table

    url = os.environ.get("CLASSBOOK_DATABASE_URL", "")
    has_postgres = urlsplit(url).scheme in {"postgres", "postgresql", "pgsql"}
    if args.database == "postgresql" and not has_postgres:
        raise SystemExit("bench: --database postgresql needs CLASSBOOK_DATABASE_URL=postgres://…")
    backends = {
        "sqlite": ["sqlite"],
        "postgresql": ["postgresql"],
        "all": ["sqlite", *(["postgresql"] if has_postgres else [])],
    }[args.database]
    runs = []
    for backend in backends:
        with tempfile.TemporaryDirectory(prefix="classbook-bench-") as tmp:
            env, pg_name = _child_env(backend, tmp)
            result_file = Path(tmp) / "result.json"
            command = [
                sys.executable,
                "-m",
                "classbook.bench",
                "--child",
                backend,
                "--result-file",
                str(result_file),
                "--families",
                str(args.families),
                "--seed",
                str(args.seed),
                "--repeat",
                str(args.repeat),
            ]
            for name in args.scenario or []:
                command += ["--scenario", name]
            for option in RUSH_OPTIONS:
                command += [f"--{option.replace('_', '-')}", str(getattr(args, option))]
            print(f"bench: {backend}: building {args.families} families…", flush=True)
            child = subprocess.Popen(command, env=env)
            try:
                if child.wait() != 0:
                    raise SystemExit(f"bench: the {backend} run failed (exit {child.returncode})")
            finally:
                if child.poll() is None:  # interrupted: let it stop its servers first
                    child.terminate()
                    child.wait(timeout=60)
                if pg_name:
                    _drop_postgres(pg_name)
            run = json.loads(result_file.read_text())
        runs.append(run)
        print(
            f"\n{run['database']} {run['database_version']} · {run['families']} families, "
            f"{run['students']} students · built in {run['build_seconds']:.1f} s"
        )
        print(format_table(run["rows"]))
        print()
    now = datetime.now(UTC)
    report = {
        "date": now.isoformat(timespec="seconds"),
        "commit": _git_commit(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "arguments": {
            "families": args.families,
            "seed": args.seed,
            "repeat": args.repeat,
            "scenarios": args.scenario or "all",
            **{option: getattr(args, option) for option in RUSH_OPTIONS},
        },
        "runs": runs,
    }
    out_dir = Path(args.output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{now:%Y-%m-%d}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    from classbook.bench.chart import write_chart

    chart = out.with_suffix(".png")
    if write_chart(report, chart):
        print(f"bench: chart written to {chart}")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"bench: {os.cpu_count()} CPUs, load average {load} (timings are wall-clock)")
    print(f"bench: results written to {out}")
    return report


# --- child: one backend, in this process ------------------------------------------------


def run_child(args: argparse.Namespace) -> None:
    import warnings

    import django

    # whitenoise: there is no collected static folder in a throwaway set-up.
    warnings.filterwarnings("ignore", message="No directory at")

    django.setup()
    from django.conf import settings

    # No collectstatic here: serve templates' {% static %} without a manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from classbook.accounts.services import account_create
    from classbook.bench import BenchContext, analyze_tables, load_scenarios
    from classbook.core.tenancy import activate_account
    from classbook.demo.families import generate_families
    from classbook.families.models import Student

    setup_test_environment()  # allows the "testserver" host of the test client
    call_command("migrate", verbosity=0)
    scenarios = load_scenarios()
    chosen = args.scenario or list(scenarios)
    unknown = set(chosen) - set(scenarios)
    if unknown:
        raise SystemExit(f"bench: unknown scenario(s) {sorted(unknown)}; see --list")
    account = account_create(
        slug=BENCH_SLUG,
        name="Bench Gymnastics",
        owner_email="owner@bench.example",
        owner_username="owner",
        owner_password=BENCH_PASSWORD,
    ).account
    started = time.perf_counter()
    with activate_account(account):
        generate_families(count=args.families, seed=args.seed)
        students = Student.objects.count()
    build_seconds = time.perf_counter() - started
    analyze_tables()
    client = Client()
    response = client.post(
        f"/{BENCH_SLUG}/office/login/", {"username": "owner", "password": BENCH_PASSWORD}
    )
    if response.status_code != 302:
        raise SystemExit(f"bench: could not log in ({response.status_code})")
    ctx = BenchContext(
        account=account,
        client=client,
        families=args.families,
        seed=args.seed,
        repeat=args.repeat,
        options=vars(args),
    )
    rows = []
    for name in chosen:
        for row in scenarios[name].run(ctx):
            rows.append({**row.as_dict(), "group": name})
    Path(args.result_file).write_text(
        json.dumps(
            {
                "database": connection.vendor,
                "database_version": ".".join(map(str, connection.Database.sqlite_version_info))
                if connection.vendor == "sqlite"
                else f"{connection.pg_version // 10000}.{connection.pg_version % 10000}",
                "families": args.families,
                "students": students,
                "build_seconds": build_seconds,
                "rows": rows,
                "details": ctx.extra,
            }
        )
    )


def _exit_on_sigterm(signum, frame) -> None:
    # SystemExit unwinds the ``finally`` blocks that stop the servers a scenario started.
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> None:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    args = _parser().parse_args(argv)
    if args.list:
        from classbook.bench import load_scenarios

        for item in load_scenarios().values():
            print(f"{item.name:20} {item.description}")
        return
    if args.families < 1 or args.repeat < 1:
        raise SystemExit("bench: --families and --repeat must be at least 1")
    if args.child:
        run_child(args)
    else:
        run_all(args)


if __name__ == "__main__":
    main()
