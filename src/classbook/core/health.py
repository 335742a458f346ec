"""What /healthz reports: database, migrations, worker heartbeat."""

from datetime import datetime

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from classbook.core import clock
from classbook.core.models import PeriodicJob

_migrations_known_applied = False


def check_database() -> dict:
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True}
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}".strip()[:300]}


def check_migrations() -> dict:
    # Once everything was applied it stays so until a new release, which restarts us.
    global _migrations_known_applied
    if _migrations_known_applied:
        return {"ok": True, "unapplied": 0}
    try:
        connection = connections[DEFAULT_DB_ALIAS]
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    _migrations_known_applied = not plan
    return {"ok": not plan, "unapplied": len(plan)}


def check_worker() -> dict:
    try:
        job = PeriodicJob.objects.filter(name="housekeeping").first()
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}"}
    finished: datetime | None = job.last_finished_at if job else None
    if finished is None:
        return {
            "ok": False,
            "heartbeat_age_seconds": None,
            "error": "no housekeeping run has finished yet: is `classbook worker` running?",
        }
    age = (clock.now() - finished).total_seconds()
    ok = age <= settings.CLASSBOOK_WORKER_STALE_SECONDS
    result = {"ok": ok, "heartbeat_age_seconds": round(age, 1), "last_result": job.last_result}
    if not ok:
        result["error"] = f"last heartbeat {round(age)} s ago"
    return result


def health_report() -> tuple[bool, dict]:
    database = check_database()
    report = {"database": database}
    if database["ok"]:
        report["migrations"] = check_migrations()
        report["worker"] = (
            check_worker()
            if report["migrations"]["ok"]
            else {"ok": False, "error": "migrations not applied"}
        )
    healthy = all(part["ok"] for part in report.values())
    return healthy, {"status": "ok" if healthy else "error", **report}
