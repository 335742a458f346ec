"""The physical limit, measured in the same run as the rush: pgbench and a bare view.

- ``pgbench_tps``: PostgreSQL's own TPC-B-like benchmark (8 clients) on a scratch database
  of the same server, created and dropped here.
- ``bare_view``: the bare Django view (``classbook.bench.bare``) served by gunicorn with
  ``classbook serve``'s settings, loaded by the same load generator as the rush.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from classbook.bench import postgres_admin
from classbook.cli import gunicorn_command
from classbook.core.processes import free_port, spawn, stop, wait_http

PGBENCH_CLIENTS = 8
PGBENCH_SCALE = 10


def pgbench_tps(*, admin_url: str, seconds: int) -> dict:
    """TPC-B-like transactions per second with 8 clients (``pgbench -c 8 -j 2``)."""
    parts = urlsplit(admin_url)
    name = f"classbook_pgbench_{os.getpid()}"
    base = [
        "-h",
        parts.hostname or "127.0.0.1",
        "-p",
        str(parts.port or 5432),
        "-U",
        parts.username or "postgres",
    ]
    with postgres_admin(admin_url) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        subprocess.run(
            ["pgbench", *base, "-i", "-q", "-s", str(PGBENCH_SCALE), name],
            check=True,
            capture_output=True,
        )
        out = subprocess.run(
            ["pgbench", *base, "-c", str(PGBENCH_CLIENTS), "-j", "2", "-T", str(seconds), name],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        with postgres_admin(admin_url) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    tps = re.search(r"tps = ([\d.]+)", out)
    latency = re.search(r"latency average = ([\d.]+) ms", out)
    if tps is None:
        raise RuntimeError(f"pgbench printed no tps:\n{out}")
    return {
        "tps": float(tps.group(1)),
        "latency_avg_ms": float(latency.group(1)) if latency else None,
        "clients": PGBENCH_CLIENTS,
        "scale": PGBENCH_SCALE,
        "seconds": seconds,
    }


def run_loadgen(
    *, host: str, out: Path, users: int, warmup: float, duration: float, seed: int, extra=()
) -> subprocess.Popen:
    """Start the load generator (its own process); the caller waits for it."""
    with out.with_suffix(".log").open("wb") as log:  # the child keeps its own descriptor
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "classbook.bench.loadgen",
                "--host",
                host,
                "--users",
                str(users),
                "--warmup",
                str(warmup),
                "--duration",
                str(duration),
                "--seed",
                str(seed),
                "--out",
                str(out),
                *extra,
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,  # core.processes.stop stops it with its group
        )


def bare_view(
    *, workdir: Path, users: int, warmup: float, duration: float, seed: int, workers, threads
) -> dict:
    """Requests per second of the bare Django view under the rush's load generator."""
    import json

    port = free_port()
    env = {**os.environ}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    started = {}
    started["bare-web"] = spawn(
        "bare-web",
        gunicorn_command(
            app="classbook.bench.bare:application",
            bind=f"127.0.0.1:{port}",
            workers=workers,
            threads=threads,
        ),
        env,
        workdir,
    )
    try:
        host = f"http://127.0.0.1:{port}"
        if not wait_http(f"{host}/", 30):
            raise RuntimeError(f"the bare view did not start; see {workdir / 'bare-web.log'}")
        out = workdir / "bare.json"
        loadgen = started["load generator"] = run_loadgen(
            host=host,
            out=out,
            users=users,
            warmup=warmup,
            duration=duration,
            seed=seed,
            extra=["--flow", "bare", "--path", "/"],
        )
        if loadgen.wait(timeout=warmup + duration + 120) != 0:
            raise RuntimeError(f"load generator failed; see {out.with_suffix('.log')}")
        result = json.loads(out.read_text())
    finally:
        stop(started)
    result["requests_per_s"] = len(result["samples_ms"].get("bare view", [])) / result["duration_s"]
    return result
