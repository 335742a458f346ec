"""Fault injection for the payment tests: real processes on 127.0.0.1, bounded in time.

What is here, and what each piece stands for:

- ``Bench``: a localstripe of our own (``classbook.payments.sandbox``, in memory, so it can
  be wiped between examples) and a ``DroppingProxy`` in front of it. The account's
  ``GatewaySettings.api_base`` points at the proxy; the checker talks to the sandbox
  directly, so it sees the gateway's truth whatever the proxy does.
- ``DroppingProxy``: a small threaded HTTP/1.1 proxy that can forward a request and drop
  its response (the gateway acted; the app never hears), or refuse a request without
  forwarding it (the gateway never saw it), for the next N requests matching a method and
  path.
- ``cut_database``: the app's database connection is lost at a chosen statement. On
  PostgreSQL its backend is killed with ``pg_terminate_backend`` from a second connection;
  on SQLite ``OperationalError`` is raised, as psycopg would.
- ``run_before`` / ``run_after``: run code right before or after a named function (saleor's
  ``race_condition`` helpers); ``crash_after`` raises ``ProcessCrash`` there, the in-process
  stand-in for a worker dying between two steps.
- ``Worker``: the real ``db_worker`` in a child process against the PostgreSQL test
  database, paused at a named step and SIGKILLed there.
- ``check_payments``: the four properties of issue 7, from the gateway's lists and the
  ledger. ``OperationLog``: a Jepsen-style history of what was done and how it ended.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

from django.db import OperationalError, connections

from classbook.core.processes import free_port
from classbook.core.tasks import tenant_task
from classbook.ledger.models import CREDIT, DEBIT, Allocation, LedgerEntry
from classbook.ledger.selectors import family_balance
from classbook.payments.gateway import Intent, Refund
from classbook.payments.models import (
    GatewayRefundRecord,
    GatewaySettings,
    PaymentAttempt,
    ReconciliationIssue,
)
from classbook.payments.stripe_gateway import StripeGateway

SECRET_KEY = "sk_test_classbook"
BOUND = 30.0  # seconds: the longest any helper here waits for anything
ROOT = Path(__file__).resolve().parents[2]

INTENT_CREATE = ("POST", r"^/v1/payment_intents$")
INTENT_CONFIRM = ("POST", r"^/v1/payment_intents/[^/]+/confirm$")
INTENT_LIST = ("GET", r"^/v1/payment_intents$")
REFUND_CREATE = ("POST", r"^/v1/refunds$")
LEDGER_INSERT = r'^INSERT INTO "ledger_ledgerentry"'
INTENT_ID_SAVE = r'^UPDATE "payments_paymentattempt" SET .*"intent_id" = '


# --- a Jepsen-style operation log ---------------------------------------------------------


@dataclass
class Op:
    index: int
    name: str
    inputs: dict
    kind: str  # ok (it happened), fail (it did not), info (unknown: a fault hit it)
    outcome: str

    def __str__(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.inputs.items())
        return f"[{self.index:3}] {self.name}({args}) -> {self.kind}: {self.outcome}"


class OperationLog:
    """Every operation with its inputs and how it ended; ``echo`` (hypothesis' ``note``)
    sees each line, so a failing example prints its history."""

    def __init__(
        self,
        echo: Callable[[str], None] | None = None,
        count: Callable[[str], None] | None = None,
    ):
        self.ops: list[Op] = []
        self.echo = echo
        self.count = count  # hypothesis' ``event``: how often each outcome happened

    def record(self, name: str, inputs: dict, kind: str, outcome: str) -> Op:
        op = Op(len(self.ops) + 1, name, inputs, kind, outcome)
        self.ops.append(op)
        if self.echo:
            self.echo(str(op))
        if self.count:
            self.count(f"{name} -> {kind}")
        return op

    def __str__(self) -> str:
        return "\n".join(str(op) for op in self.ops) or "(no operations)"


class SetupBroken(Exception):
    """A fault test's own set-up went wrong, as opposed to the behaviour under test: the
    bug tests are ``xfail(raises=AssertionError)``, so a broken set-up is an error, never
    an expected failure."""


def require(condition: object, message: str = "") -> None:
    if not condition:
        raise SetupBroken(message or "the fault test's set-up did not hold")


# --- the gateway sandbox and the proxy ----------------------------------------------------


def wait_until(predicate: Callable[[], bool], *, timeout: float = BOUND, what: str) -> None:
    """Bounded polling (the only waiting these tests do)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout:.0f}s waiting for {what}")
        time.sleep(0.02)


@contextlib.contextmanager
def sandbox_process() -> Iterator[str]:
    """A localstripe of our own on 127.0.0.1, state in memory; yields its URL."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            *("-m", "classbook.payments.sandbox"),
            *("--port", str(port), "--no-persistence"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if process.poll() is not None:
            raise RuntimeError("localstripe exited at start")
        try:
            urllib.request.urlopen(f"{url}/js.stripe.com/v3/", timeout=1).close()
        except OSError:
            return False
        return True

    try:
        wait_until(up, timeout=20, what="localstripe to start")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@dataclass
class _Rule:
    method: str
    path: re.Pattern
    action: str  # "drop" (forward, lose the response) or "refuse" (never forward)
    remaining: int
    meanwhile: Callable[[str], None] | None = None  # runs after the gateway acted
    fired: int = 0
    errors: list[BaseException] = field(default_factory=list)


class DroppingProxy:
    """HTTP/1.1 between the app and the gateway, one request per connection.

    Each request is forwarded with ``Connection: close`` and its response relayed with
    ``Connection: close`` too, so the client never reuses a connection the proxy closed.
    ``drop_response`` forwards the request, reads the gateway's whole response (the
    gateway has acted) and closes the client's connection without a byte: the SDK sees
    the connection end, exactly like a response lost on the network. ``refuse`` closes it
    before forwarding.
    """

    def __init__(self, upstream: str):
        parts = urllib.parse.urlsplit(upstream)
        self.upstream = (parts.hostname, parts.port)
        self._rules: list[_Rule] = []
        self._lock = threading.Lock()
        self.requests: list[tuple[str, str, str]] = []  # (method, path, what was done)
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                proxy._handle(self.request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True
            block_on_close = False

        self._server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> DroppingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(BOUND)

    # rules

    def _add(self, route: tuple[str, str], action: str, times: int, meanwhile=None) -> _Rule:
        rule = _Rule(route[0], re.compile(route[1]), action, times, meanwhile)
        with self._lock:
            self._rules.append(rule)
        return rule

    def drop_response(self, route: tuple[str, str], times: int = 1) -> _Rule:
        return self._add(route, "drop", times)

    def refuse(self, route: tuple[str, str], times: int = 1) -> _Rule:
        return self._add(route, "refuse", times)

    def clear(self) -> None:
        """No rules, and a fresh request log."""
        with self._lock:
            self._rules.clear()
            self.requests.clear()

    @contextlib.contextmanager
    def fault(
        self,
        route: tuple[str, str],
        action: str = "drop",
        times: int = 1,
        meanwhile: Callable[[str], None] | None = None,
    ):
        """A rule for the length of a block; yields it (``.fired`` says whether it hit).
        ``meanwhile(path)`` runs in the proxy's thread after the gateway answered and
        before the response is dropped: what happens while the app waits in vain."""
        rule = self._add(route, action, times, meanwhile)
        try:
            yield rule
        finally:
            with self._lock:
                if rule in self._rules:
                    self._rules.remove(rule)

    def seen(self, route: tuple[str, str]) -> int:
        """How many requests matching ``route`` reached the proxy."""
        pattern = re.compile(route[1])
        with self._lock:
            return sum(1 for m, p, _ in self.requests if m == route[0] and pattern.match(p))

    def _rule(self, method: str, path: str) -> _Rule | None:
        with self._lock:
            for rule in self._rules:
                if rule.remaining > 0 and rule.method == method and rule.path.match(path):
                    rule.remaining -= 1
                    rule.fired += 1
                    return rule
        return None

    # one connection

    def _handle(self, client: socket.socket) -> None:
        client.settimeout(BOUND)
        reader = client.makefile("rb")
        try:
            head = _read_head(reader)
            if head is None:
                return
            request_line, headers = head
            method, target, _ = request_line.split(" ", 2)
            path = urllib.parse.urlsplit(target).path
            length = int(_header(headers, "content-length") or 0)
            body = reader.read(length) if length else b""
            rule = self._rule(method, path)
            action = rule.action if rule else "forward"
            with self._lock:
                self.requests.append((method, path, action))
            if action == "refuse":
                return
            response = self._forward(request_line, headers, body)
            if rule and rule.meanwhile:
                try:
                    rule.meanwhile(path)
                except BaseException as exc:  # kept for the test to assert on
                    rule.errors.append(exc)
            if action == "drop":
                return
            client.sendall(_with_connection_close(response))
        except OSError:
            return
        finally:
            reader.close()
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)
            client.close()

    def _forward(self, request_line: str, headers: list[tuple[str, str]], body: bytes) -> bytes:
        lines = [request_line] + [
            f"{k}: {v}" for k, v in headers if k.lower() not in ("connection", "keep-alive")
        ]
        lines.append("Connection: close")
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        with socket.create_connection(self.upstream, timeout=BOUND) as upstream:
            upstream.sendall(raw)
            chunks = []
            while chunk := upstream.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)


def _read_head(reader) -> tuple[str, list[tuple[str, str]]] | None:
    first = reader.readline(65537)
    if not first:
        return None
    headers = []
    while True:
        line = reader.readline(65537)
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers.append((name.strip(), value.strip()))
    return first.decode("latin-1").rstrip("\r\n"), headers


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    return next((v for k, v in headers if k.lower() == name), None)


def _with_connection_close(response: bytes) -> bytes:
    head, sep, body = response.partition(b"\r\n\r\n")
    lines = [
        line
        for line in head.split(b"\r\n")
        if not line.lower().startswith((b"connection:", b"keep-alive:"))
    ]
    lines.append(b"Connection: close")
    return b"\r\n".join(lines) + sep + body


@dataclass
class Bench:
    """The sandbox, the proxy in front of it and a gateway client that bypasses the proxy."""

    sandbox_url: str
    proxy: DroppingProxy
    truth: StripeGateway = field(init=False)

    def __post_init__(self):
        self.truth = StripeGateway(secret_key=SECRET_KEY, api_base=self.sandbox_url)

    def wipe(self) -> None:
        """Forget everything the gateway knows (only ever our own sandbox)."""
        request = urllib.request.Request(f"{self.sandbox_url}/_config/data", method="DELETE")
        urllib.request.urlopen(request, timeout=BOUND).close()
        self.proxy.clear()

    def configure(self, *, duplicate_policy: str = "refund") -> GatewaySettings:
        """The active account pays through the proxy."""
        from classbook.payments.services import gateway_settings_save

        return gateway_settings_save(
            publishable_key="pk_test_classbook",
            secret_key=SECRET_KEY,
            webhook_secret="whsec_classbook_tests",
            api_base=self.proxy.url,
            duplicate_policy=duplicate_policy,
        )

    def card(self, number: str = "4242424242424242") -> str:
        from tests.payments.conftest import card

        return card(self.sandbox_url, number)

    def gateway_charge(self, attempt: PaymentAttempt, payment_method_id: str) -> Intent:
        """A second charge for ``attempt`` made at the gateway behind our back (a retry the
        network or an old client made; the gateway does not de-duplicate)."""
        intent = self.truth.create_intent(
            amount_cents=attempt.amount_cents,
            currency=attempt.currency,
            payment_method_id=payment_method_id,
            customer_id=None,
            metadata={"attempt_id": str(attempt.uuid), "account": attempt.account.slug},
            idempotency_key=str(attempt.uuid),
        )
        return self.truth.confirm_intent(intent_id=intent.id)


@contextlib.contextmanager
def bench_started() -> Iterator[Bench]:
    with sandbox_process() as url, DroppingProxy(url) as proxy:
        yield Bench(sandbox_url=url, proxy=proxy)


# --- losing the database connection at a chosen statement ---------------------------------


@dataclass
class Cut:
    pattern: str
    when: str
    nth: int
    seen: int = 0
    fired: bool = False
    statement: str = ""


def _admin_connection(db):
    """A second connection, as the app's own role: PostgreSQL lets a role terminate its
    own backends (the owner role is not a member of the app role, and is no superuser)."""
    import psycopg

    s = db.settings_dict
    return psycopg.connect(
        dbname=s["NAME"],
        user=s["USER"] or None,
        password=s["PASSWORD"] or None,
        host=s["HOST"] or None,
        port=s["PORT"] or None,
        autocommit=True,
        connect_timeout=10,
    )


def _lose_connection(db) -> None:
    if db.vendor != "postgresql":
        raise OperationalError("server closed the connection unexpectedly (emulated on SQLite)")
    pid = db.connection.info.backend_pid
    with _admin_connection(db) as admin:
        # Waits (bounded) until the backend is gone, so the next statement surely fails.
        killed = admin.execute("SELECT pg_terminate_backend(%s, 5000)", [pid]).fetchone()[0]
    require(killed, f"could not terminate backend {pid}")


@contextlib.contextmanager
def cut_database(
    pattern: str, *, when: str = "before", nth: int = 1, alias: str = "default"
) -> Iterator[Cut]:
    """The ``nth`` statement matching ``pattern`` on this thread's connection loses the
    connection: ``before`` it runs (it fails), or ``after`` it ran (the next one fails,
    and the open transaction is rolled back by the server). Fires once."""
    assert when in ("before", "after")
    cut = Cut(pattern, when, nth)
    regex = re.compile(pattern)
    db = connections[alias]

    def wrapper(execute, sql, params, many, context):
        if cut.fired or not regex.search(sql):
            return execute(sql, params, many, context)
        cut.seen += 1
        if cut.seen < nth:
            return execute(sql, params, many, context)
        cut.fired, cut.statement = True, sql[:80]
        if when == "after":
            result = execute(sql, params, many, context)
            _lose_connection(context["connection"])
            return result
        _lose_connection(context["connection"])
        return execute(sql, params, many, context)

    try:
        with db.execute_wrapper(wrapper):
            yield cut
    finally:
        recover_connection(alias)


def recover_connection(alias: str = "default") -> None:
    """What Django does at the end of every request: drop a connection that broke (the
    next query opens a new one; ``activate_account`` re-applies the account to it)."""
    db = connections[alias]
    if db.connection is not None and not db.in_atomic_block:
        db.close_if_unusable_or_obsolete()


# --- running code before or after a named step (saleor's race_condition helpers) ----------


class ProcessCrash(BaseException):
    """The process died here: nothing after this point ran (no ``except Exception``
    clause may swallow it)."""


def _resolve(target: str):
    module_name, _, attr = target.rpartition(".")
    try:
        owner = __import__(module_name, fromlist=["_"])
    except ImportError:  # module.Class.method
        module_name, _, cls = module_name.rpartition(".")
        owner = getattr(__import__(module_name, fromlist=["_"]), cls)
    return owner, attr


@contextlib.contextmanager
def run_before(target: str, callback: Callable[..., None]):
    """Call ``callback(*args, **kwargs)`` right before every call of ``target``
    ("package.module.function" or "package.module.Class.method"), in every thread."""
    owner, attr = _resolve(target)
    original = owner.__dict__[attr] if isinstance(owner, type) else getattr(owner, attr)

    def wrapper(*args, **kwargs):
        callback(*args, **kwargs)
        return original(*args, **kwargs)

    with mock.patch.object(owner, attr, wrapper):
        yield


@contextlib.contextmanager
def run_after(target: str, callback: Callable[..., None]):
    """Call ``callback(result, *args, **kwargs)`` right after every call of ``target``."""
    owner, attr = _resolve(target)
    original = owner.__dict__[attr] if isinstance(owner, type) else getattr(owner, attr)

    def wrapper(*args, **kwargs):
        result = original(*args, **kwargs)
        callback(result, *args, **kwargs)
        return result

    with mock.patch.object(owner, attr, wrapper):
        yield


@dataclass
class Trip:
    fired: int = 0


@contextlib.contextmanager
def crash_after(target: str, times: int = 1) -> Iterator[Trip]:
    """The process dies right after ``target`` returns (its effect happened)."""
    trip = Trip()

    def crash(*_args, **_kwargs):
        if trip.fired < times:
            trip.fired += 1
            raise ProcessCrash(f"crashed after {target}")

    with run_after(target, crash):
        yield trip


@contextlib.contextmanager
def crash_before(target: str, times: int = 1) -> Iterator[Trip]:
    """The process dies right before ``target`` would run."""
    trip = Trip()

    def crash(*_args, **_kwargs):
        if trip.fired < times:
            trip.fired += 1
            raise ProcessCrash(f"crashed before {target}")

    with run_before(target, crash):
        yield trip


# The named steps of ``payments.services.payment_take`` a process can die between.
_GATEWAY = "classbook.payments.stripe_gateway.StripeGateway"
STEPS = {
    # the attempt is committed (processing), nothing sent to the gateway yet
    "attempt-committed": ("before", f"{_GATEWAY}.create_intent"),
    # the PaymentIntent exists at the gateway; its id is not stored yet
    "intent-created": ("after", f"{_GATEWAY}.create_intent"),
    # its id is stored; it is not confirmed yet (no money moved)
    "intent-id-stored": ("before", f"{_GATEWAY}.confirm_intent"),
    # the money moved; nothing recorded yet
    "intent-confirmed": ("after", f"{_GATEWAY}.confirm_intent"),
}


def crash_at(step: str):
    when, target = STEPS[step]
    return crash_after(target) if when == "after" else crash_before(target)


# --- the real worker, killed between steps ------------------------------------------------


def _pause_here(marker: str) -> None:
    Path(marker).write_text(str(os.getpid()))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the parent SIGKILLs us meanwhile
        time.sleep(0.02)
    raise RuntimeError("paused for a minute and was never killed")


@tenant_task()
def pay_in_worker(
    *,
    account,
    family_id: int,
    payment_method_id: str,
    amount_cents: int,
    request_token: str,
    pause_at: str = "",
    marker: str = "",
) -> str:
    """A payment taken by the worker (autopay's shape), optionally stopping at a named
    step for the test to SIGKILL the process there."""
    from django.db import connection

    from classbook.families.models import Family
    from classbook.payments import services

    with contextlib.ExitStack() as stack:
        if pause_at == "in-ledger-insert":

            def after_insert(execute, sql, params, many, context):
                result = execute(sql, params, many, context)
                if re.search(LEDGER_INSERT, sql):
                    _pause_here(marker)  # the INSERT ran; its transaction is still open
                return result

            stack.enter_context(connection.execute_wrapper(after_insert))
        elif pause_at:
            when, target = STEPS[pause_at]
            hook = run_after if when == "after" else run_before
            stack.enter_context(hook(target, lambda *a, **k: _pause_here(marker)))
        result = services.payment_take(
            family=Family.objects.get(pk=family_id),
            payment_method_id=payment_method_id,
            amount_cents=amount_cents,
            purpose="charges",
            request_token=request_token,
        )
    return result.attempt.status


class Worker:
    """``manage.py db_worker`` in a child process on the PostgreSQL test database."""

    def __init__(self):
        db = connections["default"]
        s = db.settings_dict
        auth = urllib.parse.quote(s["USER"] or "")
        if s["PASSWORD"]:
            auth += ":" + urllib.parse.quote(s["PASSWORD"])
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("CLASSBOOK_DATABASE")},
            "CLASSBOOK_DATABASE_URL": (
                f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
            ),
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        }
        handle, name = tempfile.mkstemp(prefix="classbook-worker-", suffix=".log")
        os.close(handle)
        self.log_path = Path(name)

    def start(self) -> subprocess.Popen:
        with self.log_path.open("ab") as out:  # the child keeps its own copy
            return subprocess.Popen(
                [
                    sys.executable,
                    *("-m", "django", "db_worker"),
                    *("--batch", "--no-startup-delay", "--no-reload", "--interval", "0"),
                ],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def run_to_completion(self) -> None:
        process = self.start()
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
            raise
        assert process.returncode == 0, self.output()

    def kill_when_paused(self, marker: Path) -> None:
        """Start the worker, wait for it to reach the paused step, SIGKILL it there."""
        process = self.start()
        try:

            def paused() -> bool:
                if process.poll() is not None:
                    raise AssertionError(f"the worker ended before the step:\n{self.output()}")
                return marker.exists()

            wait_until(paused, timeout=60, what="the worker to reach the step")
            os.kill(process.pid, signal.SIGKILL)
            process.wait(10)
            assert process.returncode == -signal.SIGKILL
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(10)

    def close(self) -> None:
        self.log_path.unlink(missing_ok=True)


# --- the four properties ------------------------------------------------------------------

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
UNSETTLED = ("pending", "processing", "unknown")


@dataclass
class Verdict:
    attempts: int = 0
    succeeded_intents: int = 0
    kept: int = 0
    duplicates_refunded: int = 0
    duplicates_flagged: int = 0
    gateway_refunds: int = 0
    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{self.attempts} attempts, {self.succeeded_intents} charges at the gateway, "
            f"{self.kept} kept, {self.duplicates_refunded} duplicates refunded, "
            f"{self.duplicates_flagged} flagged, {self.gateway_refunds} refunds"
        )


def check_payments(
    truth: StripeGateway,
    *,
    families=None,
    refund_records: bool = True,
    log: OperationLog | None = None,
) -> Verdict:
    """Assert the four properties for the attempts of ``families`` (default: the whole
    active account) against what the gateway itself reports:

    1. every succeeded gateway payment with one of our attempt ids is on the ledger
       exactly once (or is a duplicate: property 2), and the ledger has no card payment
       the gateway did not take; every gateway refund of a kept payment is on the ledger
       once, and the ledger's refunds of it add up to what the gateway refunded;
    2. no attempt has two kept charges: every second success is refunded in full at the
       gateway or flagged for review, per ``GatewaySettings.duplicate_policy``;
    3. no attempt (nor, with ``refund_records``, gateway refund) is left unsettled;
    4. ledger invariants: 0 <= applied <= amount, no pair released below zero, balance and
       unapplied credit equal a recomputation from the entries.
    """
    attempts = PaymentAttempt.objects.all()
    if families is not None:
        attempts = attempts.filter(family__in=families)
    by_uuid = {str(a.uuid): a for a in attempts}
    verdict = Verdict(attempts=len(by_uuid))
    problems = verdict.problems
    intents = [
        i for i in truth.list_intents(since=EPOCH) if i.metadata.get("attempt_id") in by_uuid
    ]
    refunds = truth.list_refunds(since=EPOCH)
    settings = GatewaySettings.objects.first()
    policy = settings.duplicate_policy if settings else "refund"

    succeeded: dict[str, list[Intent]] = defaultdict(list)
    for intent in intents:
        if intent.succeeded:
            succeeded[intent.metadata["attempt_id"]].append(intent)
            verdict.succeeded_intents += 1
    refunds_of: dict[str, list[Refund]] = defaultdict(list)
    intent_of_charge = {i.charge_id: i.id for i in intents if i.charge_id}
    for refund in refunds:
        refunds_of[refund.intent_id or intent_of_charge.get(refund.charge_id, "")].append(refund)
    verdict.gateway_refunds = sum(len(refunds_of[i.id]) for i in intents)

    kept_ids = set()
    for uuid, attempt in by_uuid.items():
        name = f"attempt {uuid[:8]} ({attempt.status}, {attempt.intent_id or 'no intent'})"
        # 3. settled
        if attempt.status in UNSETTLED:
            problems.append(f"P3: {name} is left {attempt.status}")
        charges = succeeded.get(uuid, [])
        if attempt.status == "succeeded":
            if attempt.intent_id not in {i.id for i in charges}:
                problems.append(f"P1: {name} is paid on the ledger but not at the gateway")
        elif charges:
            problems.append(f"P1: {name} was charged at the gateway but is not paid")
        for intent in charges:
            entries = list(LedgerEntry.objects.filter(idempotency_key=f"gateway:{intent.id}"))
            if intent.id == attempt.intent_id:
                kept_ids.add(intent.id)
                verdict.kept += 1
                # 1. on the ledger exactly once, as this attempt's payment
                if len(entries) != 1:
                    problems.append(f"P1: {intent.id} of {name} is {len(entries)}x on the ledger")
                    continue
                entry = entries[0]
                if (entry.kind, entry.amount_cents, entry.family_id) != (
                    "payment",
                    intent.amount_cents,
                    attempt.family_id,
                ) or attempt.ledger_entry_id != entry.pk:
                    problems.append(f"P1: {intent.id} of {name} is recorded wrongly: {entry}")
                _check_refunds(intent, entry, refunds_of[intent.id], problems)
                continue
            # 2. a second success for the attempt
            if entries:
                problems.append(f"P2: duplicate {intent.id} of {name} is on the ledger")
            issue = ReconciliationIssue.objects.filter(
                kind="duplicate", gateway_id=intent.id
            ).first()
            refunded = intent.amount_refunded_cents
            if issue is None:
                problems.append(
                    f"P2: duplicate {intent.id} of {name} was neither refunded nor flagged"
                )
            elif issue.needs_review:
                verdict.duplicates_flagged += 1
                if policy == "refund" and "failed" not in issue.action:
                    problems.append(f"P2: duplicate {intent.id} flagged although policy is refund")
            elif refunded != intent.amount_cents:
                problems.append(
                    f"P2: duplicate {intent.id} of {name}: {refunded} of "
                    f"{intent.amount_cents} refunded, not flagged"
                )
            else:
                verdict.duplicates_refunded += 1
            if (
                policy == "flag"
                and refunded
                and not any(r.metadata.get("refund_uuid") for r in refunds_of[intent.id])
            ):
                problems.append(f"P2: duplicate {intent.id} refunded although policy is flag")
    # 1. the ledger has no card payment the gateway did not take
    payments = LedgerEntry.objects.filter(kind="payment", subtype="card")
    if families is not None:
        payments = payments.filter(family__in=families)
    for entry in payments:
        key = (entry.idempotency_key or "").removeprefix("gateway:")
        if key not in kept_ids:
            problems.append(f"P1: ledger card payment {entry.pk} ({key}) is no kept gateway charge")
    # 3. refunds we asked for are settled too
    if refund_records:
        for record in GatewayRefundRecord.objects.filter(
            attempt__in=list(by_uuid.values()), status__in=UNSETTLED
        ):
            problems.append(f"P3: refund {record.uuid.hex[:8]} is left {record.status}")
    # 4. ledger invariants
    family_ids = {a.family_id for a in by_uuid.values()}
    for family_id in sorted(family_ids):
        problems.extend(ledger_problems(family_id))
    if problems:
        history = f"\nhistory:\n{log}" if log is not None else ""
        raise AssertionError(
            "payment properties violated:\n  " + "\n  ".join(problems) + f"\n({verdict}){history}"
        )
    return verdict


def require_properties(truth: StripeGateway, **kwargs) -> Verdict:
    """``check_payments`` where a violation is not the bug a test is about (its set-up)."""
    try:
        return check_payments(truth, **kwargs)
    except AssertionError as exc:
        raise SetupBroken(str(exc)) from exc


def _check_refunds(intent: Intent, payment: LedgerEntry, refunds: list[Refund], problems) -> None:
    live = [r for r in refunds if r.status in ("succeeded", "pending")]
    for refund in live:
        count = LedgerEntry.objects.filter(idempotency_key=f"gateway-refund:{refund.id}").count()
        if count != 1:
            problems.append(f"P1: refund {refund.id} of {intent.id} is {count}x on the ledger")
    on_ledger = sum(
        LedgerEntry.objects.filter(
            refund_of=payment, kind="refund", reversed_by__isnull=True
        ).values_list("amount_cents", flat=True)
    )
    at_gateway = sum(r.amount_cents for r in live)
    if on_ledger != at_gateway or at_gateway != intent.amount_refunded_cents:
        problems.append(
            f"P1: {intent.id} refunded {intent.amount_refunded_cents} at the gateway "
            f"({at_gateway} in refunds), {on_ledger} on the ledger"
        )
    if at_gateway > intent.amount_cents:
        problems.append(
            f"P1: {intent.id} refunded {at_gateway}, more than its {intent.amount_cents}"
        )


def ledger_problems(family_id: int) -> list[str]:
    """Property 4 for one family: every figure equals a recomputation from the entries."""
    problems = []
    entries = list(LedgerEntry.objects.filter(family_id=family_id).order_by("id"))
    applied: dict[int, int] = defaultdict(int)
    pairs: dict[tuple[int, int], int] = defaultdict(int)
    for alloc in Allocation.objects.filter(source__family_id=family_id):
        applied[alloc.source_id] += alloc.amount_cents
        applied[alloc.target_id] += alloc.amount_cents
        pairs[(alloc.source_id, alloc.target_id)] += alloc.amount_cents
    for pair, total in pairs.items():
        if total < 0:
            problems.append(f"P4: allocations {pair} sum to {total}")
    for entry in entries:
        if not 0 <= applied[entry.pk] <= entry.amount_cents:
            problems.append(f"P4: {entry} has {applied[entry.pk]} applied")
    balance = sum(e.direction * e.amount_cents for e in entries)
    open_debits = sum(e.amount_cents - applied[e.pk] for e in entries if e.direction == DEBIT)
    open_credits = sum(e.amount_cents - applied[e.pk] for e in entries if e.direction == CREDIT)
    if entries:
        figures = family_balance(entries[0].family, today=max(e.entry_date for e in entries))
        if not figures.balance_cents == balance == open_debits - open_credits:
            problems.append(
                f"P4: balance {figures.balance_cents}, entries say {balance}, "
                f"open items say {open_debits - open_credits}"
            )
        if figures.unapplied_credit_cents != open_credits:
            problems.append(
                f"P4: unapplied credit {figures.unapplied_credit_cents}, recomputed {open_credits}"
            )
    for payment in (e for e in entries if e.kind == "payment"):
        refunded = sum(
            r.amount_cents
            for r in entries
            if r.refund_of_id == payment.pk and not any(x.reverses_id == r.pk for x in entries)
        )
        if refunded > payment.amount_cents:
            problems.append(f"P4: {payment} refunded {refunded}")
    return problems


def ledger_snapshot(families=None) -> tuple[int, int, int]:
    """(entries, allocations, reconciliation issues): a second reconcile must not move it."""
    entries = LedgerEntry.objects.all()
    allocations = Allocation.objects.all()
    if families is not None:
        entries = entries.filter(family__in=families)
        allocations = allocations.filter(source__family__in=families)
    return entries.count(), allocations.count(), ReconciliationIssue.objects.count()


# --- doing things the way the app does them ----------------------------------------------


def take(
    family,
    payment_method_id: str,
    *,
    token: str,
    cents: int = 8000,
    purpose: str = "charges",
    cart: str = "",
    apply_to=(),
):
    """``payment_take`` as the payment page calls it."""
    from classbook.payments import services

    return services.payment_take(
        family=family,
        payment_method_id=payment_method_id,
        amount_cents=cents,
        purpose=purpose,
        request_token=token,
        apply_to=apply_to,
        cart=cart,
        card_label="Visa 4242",
    )


def reconcile_after(minutes: float):
    """One reconciliation run ``minutes`` from now (attempts must be old enough to count
    as stuck: 1 minute; as never sent: 10)."""
    from datetime import timedelta

    from classbook.core import clock
    from classbook.payments.reconcile import reconcile

    later = clock.now() + timedelta(minutes=minutes)
    with clock.freeze(later):
        return reconcile(now=later)


def intents_of(truth: StripeGateway, attempt: PaymentAttempt) -> list[Intent]:
    return [
        i
        for i in truth.list_intents(since=EPOCH)
        if i.metadata.get("attempt_id") == str(attempt.uuid)
    ]


# --- threads (PostgreSQL) and webhooks ----------------------------------------------------


def in_threads(account, *calls: Callable[[], object]) -> list[object]:
    """Run each call in its own thread and connection, inside ``account``; returns what
    each returned, or the exception it raised."""
    from classbook.core.tenancy import activate_account

    outcomes: list[object] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            with activate_account(account):
                outcomes[index] = call()
        except BaseException as exc:  # reported to the test, which asserts on it
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n, c)) for n, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(BOUND * 2)
    assert not any(t.is_alive() for t in threads), "a thread did not finish in time"
    return outcomes


def meet(parties: int = 2) -> Callable[..., None]:
    """A hook callback: each caller waits (bounded) until ``parties`` callers are there."""
    barrier = threading.Barrier(parties, timeout=20)

    def wait(*_args, **_kwargs) -> None:
        barrier.wait()

    return wait


WEBHOOK_SECRET = "whsec_classbook_tests"


def signed_event(event_type: str, obj: dict, *, event_id: str = "") -> tuple[bytes, str]:
    """A gateway event and its ``Stripe-Signature`` header, as the gateway would send."""
    import hashlib
    import hmac
    import json
    import uuid

    payload = json.dumps(
        {
            "id": event_id or f"evt_{uuid.uuid4().hex[:14]}",
            "object": "event",
            "type": event_type,
            "data": {"object": obj},
        }
    )
    stamp = int(time.time())
    digest = hmac.new(
        WEBHOOK_SECRET.encode(), f"{stamp}.{payload}".encode(), hashlib.sha256
    ).hexdigest()
    return payload.encode(), f"t={stamp},v1={digest}"


def intent_event(intent: Intent, *, event_id: str = "") -> tuple[bytes, str]:
    kind = "payment_intent.succeeded" if intent.succeeded else "payment_intent.payment_failed"
    return signed_event(
        kind,
        {"id": intent.id, "object": "payment_intent", "metadata": intent.metadata},
        event_id=event_id,
    )
