"""The demo: its data loads once, and ``classbook demo`` runs, serves and stops cleanly."""

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from classbook.accounts.models import Account, Location, User
from classbook.core.tenancy import activate_account
from classbook.demo.data import (
    DEMO_PASSWORD,
    DEMO_SLUG,
    OPERATOR_PASSWORD,
    OPERATOR_USERNAME,
    demo_logins,
    load_demo_data,
)

CLASSBOOK = Path(sys.executable).with_name("classbook")
START_TIMEOUT = 90  # migrating a fresh SQLite database is most of it
HEALTHY_TIMEOUT = 60
STOP_TIMEOUT = 20


# --- the data -------------------------------------------------------------------------------


# The generators are covered by their own tests; here a small account is enough.
SMALL = {"families": 12, "classes": 10}


def demo_counts() -> tuple[int, int, int, int]:
    account = Account.objects.get(slug=DEMO_SLUG)
    with activate_account(account):
        staff, locations = User.objects.count(), Location.objects.count()
    return Account.objects.count(), staff, locations, User.objects.count()


def test_load_demo_data_creates_the_sunrise_account(db):
    assert load_demo_data(**SMALL) is True
    account = Account.objects.get(slug=DEMO_SLUG)
    assert account.name == "Sunrise Gymnastics"
    with activate_account(account):
        assert sorted(Location.objects.values_list("name", flat=True)) == [
            "Northgate",
            "Riverside",
        ]
        owner = User.objects.get(username="owner")
        assert owner.check_password(DEMO_PASSWORD)
        assert owner.must_change_password is False
        # The season's activity is there: classes, families, enrollments and a ledger.
        from classbook.enrollment.models import Enrollment
        from classbook.ledger.models import LedgerEntry

        assert Enrollment.objects.exists()
        kinds = set(LedgerEntry.objects.values_list("kind", flat=True))
        assert {"charge", "payment", "refund", "reversal"} <= kinds
    assert User.objects.get(username=OPERATOR_USERNAME).check_password(OPERATOR_PASSWORD)


def test_load_demo_data_is_idempotent(db):
    assert load_demo_data(**SMALL) is True
    before = demo_counts()
    assert load_demo_data(**SMALL) is False
    assert demo_counts() == before


def test_every_printed_login_works(db):
    load_demo_data(**SMALL)
    account = Account.objects.get(slug=DEMO_SLUG)
    for login in demo_logins():
        if login.where.startswith("/platform/"):
            user = User.objects.get(username=login.username)
        else:
            with activate_account(account):
                user = User.objects.get(username=login.username)
        assert user.check_password(login.password), login


# --- the running demo -----------------------------------------------------------------------


def free_ports(count: int) -> list[int]:
    """Distinct ports that were free a moment ago (all bound at once, then released)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def is_listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class Demo:
    """``classbook demo`` as a subprocess, its output collected line by line."""

    def __init__(self, var_dir: Path, port: int, gateway_port: int):
        self.port, self.gateway_port = port, gateway_port
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("CLASSBOOK_") and key != "DJANGO_SETTINGS_MODULE"
        }
        env.update(CLASSBOOK_VAR_DIR=str(var_dir), PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(
            [
                str(CLASSBOOK),
                "demo",
                "--port",
                str(port),
                "--gateway-port",
                str(gateway_port),
                "--families",
                "15",
            ],  # a small account: the test is about the processes
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # our SIGINT goes to the demo only, never to pytest
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, pattern: str, timeout: float) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if match := re.search(pattern, line):
                    return match
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        pytest.fail(f"no line matching {pattern!r}; demo output:\n{self.output}")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=STOP_TIMEOUT)
        finally:
            self._reader.join(timeout=5)

    def kill_if_running(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # lets it stop its children
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def wait_until_healthy(http: httpx.Client, base: str, log_dir: Path) -> dict:
    """Poll /healthz until the worker's first housekeeping run has made it green."""
    deadline = time.monotonic() + HEALTHY_TIMEOUT
    last: object = None
    while time.monotonic() < deadline:
        try:
            response = http.get(f"{base}/healthz")
            if response.status_code == 200:
                return response.json()
            last = response.text
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.5)
    worker_log = log_dir / "worker.log"
    tail = worker_log.read_text()[-3000:] if worker_log.exists() else "(no worker.log)"
    pytest.fail(f"/healthz not healthy after {HEALTHY_TIMEOUT} s: {last!r}\nworker.log:\n{tail}")


def office_login(http: httpx.Client, base: str) -> httpx.Response:
    login_url = f"{base}/{DEMO_SLUG}/office/login/"
    form = http.get(login_url)
    assert form.status_code == 200
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    return http.post(
        login_url,
        data={"csrfmiddlewaretoken": token, "username": "owner", "password": DEMO_PASSWORD},
    )


def run_demo_once(var_dir: Path) -> str:
    """Start the demo, use it as a person would, stop it; returns its output."""
    port, gateway_port = free_ports(2)
    demo = Demo(var_dir, port, gateway_port)
    try:
        office = demo.wait_for_line(r"Office \(staff\):\s+(\S+)", START_TIMEOUT).group(1)
        base = f"http://127.0.0.1:{port}"
        assert office == f"{base}/{DEMO_SLUG}/office/"

        with httpx.Client(timeout=10) as http:
            # The worker's first housekeeping run makes /healthz green.
            health = wait_until_healthy(http, base, var_dir / "log")
            assert health["worker"]["ok"] is True

            portal = http.get(f"{base}/{DEMO_SLUG}/portal/")
            assert portal.status_code == 200
            assert "Riverside" in portal.text

            login = office_login(http, base)
            assert login.status_code == 302, login.text[:500]
            assert login.headers["location"] == f"/{DEMO_SLUG}/office/"
            dashboard = http.get(office)
            assert dashboard.status_code == 200
            assert "Sunrise Gymnastics" in dashboard.text

            gateway = http.get(f"http://127.0.0.1:{gateway_port}/js.stripe.com/v3/")
            assert gateway.status_code == 200

        assert demo.stop() == 0, demo.output
        assert not is_listening(port), "the web server is still listening"
        assert not is_listening(gateway_port), "the gateway sandbox is still listening"
        return demo.output
    finally:
        demo.kill_if_running()


def test_demo_runs_serves_and_stops_and_keeps_its_data(tmp_path):
    var_dir = tmp_path / "var"
    first = run_demo_once(var_dir)
    assert "demo data loaded" in first
    assert (var_dir / "classbook.sqlite3").exists()

    second = run_demo_once(var_dir)
    assert "demo data already present" in second
