"""``classbook demo``: migrate, load the demo account, run web + worker + gateway sandbox.

All servers listen on 127.0.0.1. Ctrl-C (or SIGTERM) stops every process started here.
The SQLite database in var/ is kept between runs; ``--reset`` starts over.
"""

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from classbook.core.processes import spawn, stop, wait_http

GATEWAY_PORT_DEFAULT = 8420


def run_demo(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="classbook demo")
    parser.add_argument("--reset", action="store_true", help="delete the demo database first")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--gateway-port", type=int, default=GATEWAY_PORT_DEFAULT)
    parser.add_argument(
        "--families",
        type=int,
        default=300,
        help="size of the demo account when it is first created",
    )
    args = parser.parse_args(argv)

    env = dict(os.environ)
    env.setdefault("CLASSBOOK_DEBUG", "1")
    env.setdefault("CLASSBOOK_HOUSEKEEPING_SECONDS", "30")
    gateway_url = f"http://127.0.0.1:{args.gateway_port}"
    env["CLASSBOOK_GATEWAY_SANDBOX_URL"] = gateway_url
    os.environ.update(env)
    from django.conf import settings

    from classbook.cli import load_settings

    load_settings()
    import django

    django.setup()

    var_dir = Path(settings.VAR_DIR)
    log_dir = var_dir / "log"
    log_dir.mkdir(parents=True, exist_ok=True)
    if args.reset:
        database = Path(settings.DATABASES["default"]["NAME"])
        for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
            path.unlink(missing_ok=True)
        print("demo: database reset")

    classbook = [sys.executable, "-m", "classbook.cli"]
    for step in (
        ["migrate", "--no-input", "-v", "0"],
        ["loaddemo", "--families", str(args.families)],
    ):
        result = subprocess.run([*classbook, *step], env=env)
        if result.returncode != 0:
            print(f"demo: `classbook {' '.join(step)}` failed", file=sys.stderr)
            return result.returncode

    processes: dict[str, subprocess.Popen] = {}
    stopping = False

    def request_stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        sandbox = [
            sys.executable,
            "-m",
            "classbook.payments.sandbox",
            "--port",
            str(args.gateway_port),
            "--state-file",
            str(var_dir / "localstripe.pickle"),
        ]
        if args.reset:
            sandbox.append("--from-scratch")
        processes["gateway"] = spawn("gateway", sandbox, env, log_dir)
        processes["worker"] = spawn("worker", [*classbook, "worker"], env, log_dir)
        processes["web"] = spawn(
            "web", [*classbook, "serve", "--bind", f"127.0.0.1:{args.port}"], env, log_dir
        )
        base = f"http://127.0.0.1:{args.port}"
        if not wait_http(f"{base}/healthz", 30, accept_statuses=(200, 503)):
            print(f"demo: the web server did not start; see {log_dir / 'web.log'}", file=sys.stderr)
            return 1
        if not wait_http(f"{gateway_url}/js.stripe.com/v3/", 15):
            print(
                f"demo: the gateway sandbox did not start; see {log_dir / 'gateway.log'}",
                file=sys.stderr,
            )
            return 1
        _print_banner(base, gateway_url, log_dir)
        while not stopping:
            for name, proc in processes.items():
                if proc.poll() is not None:
                    print(
                        f"demo: {name} exited ({proc.returncode}); see {log_dir / (name + '.log')}",
                        file=sys.stderr,
                    )
                    return 1
            time.sleep(0.5)
        print("\ndemo: stopping…")
        return 0
    finally:
        stop(processes)


def _print_banner(base: str, gateway_url: str, log_dir: Path) -> None:
    from classbook.demo.data import DEMO_SLUG, demo_logins

    print(f"""
Classbook demo is running — press Ctrl-C to stop everything.

  Office (staff):    {base}/{DEMO_SLUG}/office/
  Portal (parents):  {base}/{DEMO_SLUG}/portal/
  Platform console:  {base}/platform/
  Health:            {base}/healthz
  Gateway sandbox:   {gateway_url}  (localstripe)
  Logs:              {log_dir}/

  Logins:""")
    for login in demo_logins():
        print(f"    {login.where:<18} {login.username:<10} {login.password:<20} {login.who}")
    print(flush=True)
