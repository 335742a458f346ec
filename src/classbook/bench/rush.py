"""Bench scenario ``rush``: registration day over real HTTP (PostgreSQL only).

The child process that built the database starts, all on 127.0.0.1: localstripe with no
persistence (``classbook.payments.sandbox --no-persistence``: its pickle-on-every-write
is switched off), ``classbook serve`` (gunicorn, 2 workers × 4 threads), ``classbook
worker``, and for every concurrency level (``--rush-users``, 32/64/128) the load
generator (``classbook.bench.loadgen``, locust FastHttpUser) as a separate process. Each
level sells its own wave of 40 popular classes. Around each level a sampler records every
process group's CPU share and peak memory; after it, the database is checked: no meeting
over capacity, no student enrolled twice, every payment the gateway took recorded on the
ledger exactly once. The same run measures pgbench and a bare Django view (``limits``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from classbook.bench import BenchContext, Row, analyze_tables, percentile, scenario
from classbook.bench.limits import bare_view, pgbench_tps, run_loadgen
from classbook.bench.sampler import Sampler, children_of, postgres_for
from classbook.core.processes import free_port, spawn, stop, wait_http

WEB_WORKERS, WEB_THREADS = 2, 4
# Outcomes that are not errors: a class filling up on registration day is expected.
NOT_ERRORS = {
    "checkout completed",
    "class full (tried another)",
    "unfinished when the window closed",
}
STEPS = [
    "log-in page",
    "log in",
    "class finder",
    "finder results",
    "add to cart",
    "checkout page",
    "pay",
    "confirmation",
]


def _progress(what: str, started: float) -> None:
    print(f"bench: rush: {what} in {time.perf_counter() - started:.0f} s", flush=True)


def _classbook(*args: str) -> list[str]:
    return [sys.executable, "-m", "classbook.cli", *args]


def verify(*, wave, since: datetime, slug: str) -> dict:
    """The invariants after a level: seats, enrollments, payments."""
    from django.db.models import Count

    from classbook.catalog.models import Class, Meeting
    from classbook.core import clock
    from classbook.enrollment.capacity import class_taken
    from classbook.enrollment.models import Enrollment
    from classbook.ledger.models import LedgerEntry
    from classbook.payments.models import PaymentAttempt
    from classbook.payments.selectors import gateway_for_account

    now = clock.now()
    oversold = 0
    for klass in Class.objects.filter(pk__in=wave.class_ids):
        dates = list(
            Meeting.objects.filter(klass=klass).order_by("date").values_list("date", flat=True)
        )
        oversold += sum(
            1 for n in class_taken(klass, dates, now=now).values() if n > klass.capacity
        )
    duplicates = (
        Enrollment.objects.filter(klass_id__in=wave.class_ids)
        .values("student_id", "klass_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    enrolled = Enrollment.objects.filter(klass_id__in=wave.class_ids).count()
    taken = [
        i
        for i in gateway_for_account().list_intents(since=since)
        if i.succeeded and i.metadata.get("account") == slug
    ]
    references = [i.charge_id or i.id for i in taken]
    recorded = dict(
        LedgerEntry.objects.filter(kind="payment", reference__in=references)
        .values("reference")
        .annotate(n=Count("id"))
        .values_list("reference", "n")
    )
    unsettled = PaymentAttempt.objects.filter(
        created_at__gte=since, status__in=["pending", "processing", "unknown"]
    ).count()
    return {
        "meetings_over_capacity": oversold,
        "duplicate_enrollments": duplicates,
        "enrollments": enrolled,
        "gateway_payments": len(taken),
        "payments_missing_from_ledger": sum(1 for r in references if recorded.get(r, 0) == 0),
        "payments_recorded_twice": sum(1 for r in references if recorded.get(r, 0) > 1),
        "attempts_not_settled": unsettled,
    }


def _rows(level: dict, baseline_rps: float, pgbench: float) -> list[Row]:
    result, users = level["load"], level["users"]
    seconds = result["duration_s"]
    outcomes = result["outcomes"]
    done = outcomes.get("checkout completed", 0)
    rate = done / seconds
    errors = {k: v for k, v in outcomes.items() if k not in NOT_ERRORS}
    checks = level["checks"]
    requests = sum(len(v) for k, v in result["samples_ms"].items() if k != "whole flow")
    flow = Row(
        scenario=f"rush {users} parents: whole flow",
        samples_ms=result["samples_ms"].get("whole flow", []),
        note=(
            f"{rate:.1f} checkouts/s; {requests / seconds:.0f} req/s = "
            f"{requests / seconds / baseline_rps:.1%} of the bare view, "
            f"{rate / pgbench:.2%} of pgbench tps; "
            f"{outcomes.get('class full (tried another)', 0)} 'class full' answers, "
            f"{outcomes.get('unfinished when the window closed', 0)} flows unfinished at the "
            f"end; errors {json.dumps(errors) if errors else 'none'}; "
            f"oversold {checks['meetings_over_capacity']}, "
            f"duplicate enrollments {checks['duplicate_enrollments']}, "
            f"payments lost {checks['payments_missing_from_ledger']} / "
            f"twice {checks['payments_recorded_twice']} of {checks['gateway_payments']}"
        ),
    )
    rows = [flow]
    for step in STEPS:
        samples = result["samples_ms"].get(step, [])
        if samples:
            rows.append(Row(scenario=f"rush {users} parents: {step}", samples_ms=samples))
    rows.append(_machine_row(level, done))
    return rows


def _machine_row(level: dict, done: int) -> Row:
    """CPU share and CPU time per completed checkout of each process group, and the peak
    memory of every web and task-worker process."""
    usage, users = level["usage"], level["users"]
    measured = level["load"]["duration_s"] / usage["seconds"]  # the sampler saw the warm-up
    parts = []
    for name, group in usage["groups"].items():
        cpu_ms = group["cpu_share_pct"] / 100 * usage["seconds"] * usage["cores"] * 1000
        per_checkout = f" ({cpu_ms * measured / done:.0f} ms/checkout)" if done else ""
        parts.append(f"{name} {group['cpu_share_pct']}%{per_checkout}")
    peaks = "; ".join(
        f"{name} "
        + "/".join(f"{mb:.0f}" for mb in sorted(group["peak_rss_mb"].values(), reverse=True))
        + " MB"
        for name, group in usage["groups"].items()
        if name in {"web", "task worker"}
    )
    return Row(
        scenario=f"rush {users} parents: machine",
        note=f"CPU of {usage['cores']} cores: {', '.join(parts)}; others {usage['others_pct']}%. "
        f"Peak RSS per process: {peaks}",
    )


@scenario("rush", "registration-day rush over HTTP (gunicorn, PostgreSQL, localstripe)")
def run(ctx: BenchContext) -> list[Row]:
    from django.db import connection

    from classbook.bench import rush_setup
    from classbook.core import clock
    from classbook.core.tenancy import activate_account

    if connection.vendor != "postgresql":
        return [Row(scenario="rush", note="PostgreSQL only: skipped on SQLite")]
    opts = ctx.options
    levels = [int(n) for n in str(opts["rush_users"]).split(",")]
    database = connection.settings_dict["NAME"]
    processes: dict[str, subprocess.Popen] = {}
    with tempfile.TemporaryDirectory(prefix="classbook-rush-") as tmp:
        work = Path(tmp)
        try:
            gateway_port = free_port()
            sandbox_url = f"http://127.0.0.1:{gateway_port}"
            processes["gateway"] = spawn(
                "gateway",
                [
                    sys.executable,
                    "-m",
                    "classbook.payments.sandbox",
                    "--port",
                    str(gateway_port),
                    "--no-persistence",
                ],
                dict(os.environ),
                work,
            )
            if not wait_http(f"{sandbox_url}/js.stripe.com/v3/", 30):
                raise RuntimeError("localstripe did not start")
            with activate_account(ctx.account):
                started = time.perf_counter()
                rush_setup.build_catalog(classes=opts["rush_classes"], seed=ctx.seed)
                rush_setup.connect_gateway(sandbox_url)
                today = clock.account_today()
                waves = [
                    rush_setup.popular_wave(number=i + 1, users=n, today=today)
                    for i, n in enumerate(levels)
                ]
                _progress(
                    f"catalog of {opts['rush_classes']} classes + {len(waves)} waves", started
                )
                started = time.perf_counter()
                rush_setup.give_parents(
                    waves, per_wave=opts["rush_parents"], sandbox_url=sandbox_url
                )
                _progress(
                    f"{opts['rush_parents'] * len(waves)} parents with logins and cards", started
                )
            analyze_tables()
            env = {**os.environ, "CLASSBOOK_HOUSEKEEPING_SECONDS": "30"}
            subprocess.run(
                _classbook("collectstatic", "--no-input", "-v", "0"), env=env, check=True
            )
            web_port = free_port()
            processes["web"] = spawn(
                "web",
                _classbook(
                    "serve",
                    "--bind",
                    f"127.0.0.1:{web_port}",
                    "--workers",
                    str(WEB_WORKERS),
                    "--threads",
                    str(WEB_THREADS),
                ),
                env,
                work,
            )
            processes["worker"] = spawn("worker", _classbook("worker"), env, work)
            host = f"http://127.0.0.1:{web_port}"
            if not wait_http(f"{host}/healthz", 60, accept_statuses=(200, 503)):
                raise RuntimeError(
                    f"the web server did not start: {(work / 'web.log').read_text()[-2000:]}"
                )
            warmup, duration = opts["rush_warmup"], opts["rush_duration"]
            bare = bare_view(
                workdir=work,
                users=max(levels),
                warmup=warmup,
                duration=duration,
                seed=ctx.seed,
                workers=WEB_WORKERS,
                threads=WEB_THREADS,
            )
            owner = (
                os.environ.get("CLASSBOOK_DATABASE_OWNER_URL")
                or os.environ["CLASSBOOK_DATABASE_URL"]
            )
            pgbench = pgbench_tps(admin_url=owner, seconds=max(5, int(duration)))
            results = []
            for wave in waves:
                out = work / f"rush-{wave.users}.json"
                parents_file = work / f"parents-{wave.users}.json"
                parents_file.write_text(
                    json.dumps(
                        {
                            "slug": ctx.account.slug,
                            "password": rush_setup.PARENT_PASSWORD,
                            "program": wave.program_id,
                            "parents": wave.parents,
                        }
                    )
                )
                since = clock.now()
                print(
                    f"bench: rush: {wave.users} parents, {warmup:g} s warm-up + {duration:g} s…",
                    flush=True,
                )
                loadgen = run_loadgen(
                    host=host,
                    out=out,
                    users=wave.users,
                    warmup=warmup,
                    duration=duration,
                    seed=ctx.seed,
                    extra=["--parents", str(parents_file)],
                )
                processes["load generator"] = loadgen  # stopped with the rest on failure
                groups = {
                    "web": children_of(processes["web"].pid),
                    "PostgreSQL": postgres_for(database),
                    "gateway": children_of(processes["gateway"].pid),
                    "task worker": children_of(processes["worker"].pid),
                    "load generator": children_of(loadgen.pid),
                }
                with Sampler(groups) as sampler:
                    code = loadgen.wait(timeout=warmup + duration + 300)
                if code != 0:
                    raise RuntimeError(
                        f"load generator failed: {out.with_suffix('.log').read_text()[-2000:]}"
                    )
                with activate_account(ctx.account):
                    checks = verify(wave=wave, since=since, slug=ctx.account.slug)
                results.append(
                    {
                        "users": wave.users,
                        "load": json.loads(out.read_text()),
                        "usage": sampler.report(),
                        "checks": checks,
                    }
                )
        finally:
            stop(processes)
    baseline_rps = bare["requests_per_s"]
    rows = [
        Row(
            scenario="limit: bare Django view",
            samples_ms=bare["samples_ms"].get("bare view", []),
            note=f"{baseline_rps:.0f} req/s at {max(levels)} users, "
            f"gunicorn {WEB_WORKERS} workers × {WEB_THREADS} threads",
        ),
        Row(
            scenario="limit: pgbench TPC-B (8 clients)",
            note=f"{pgbench['tps']:.0f} tps, {pgbench['latency_avg_ms']} ms average",
        ),
    ]
    for level in results:
        rows.extend(_rows(level, baseline_rps, pgbench["tps"]))
    ctx.extra["rush"] = {
        "bare_view": {k: v for k, v in bare.items() if k != "samples_ms"},
        "pgbench": pgbench,
        "levels": [
            {
                "users": r["users"],
                "duration_s": r["load"]["duration_s"],
                "outcomes": r["load"]["outcomes"],
                "checkouts_per_s": r["load"]["outcomes"].get("checkout completed", 0)
                / r["load"]["duration_s"],
                "flow_ms": {
                    p: percentile(r["load"]["samples_ms"].get("whole flow", []), p)
                    for p in (50, 95, 99)
                },
                "usage": r["usage"],
                "checks": r["checks"],
            }
            for r in results
        ],
    }
    return rows
