"""A hypothesis state machine that mixes payments and faults, then reconciles once.

Operations: pay (a new form), retry the same form, a second tab (new token, same
purpose and amount), a webhook delivered, replayed or lost, a refund, a second charge the
gateway took behind our back, a reconciliation — each optionally under a fault: the
gateway's response dropped (create, confirm, refund, list), a request that never reached
it, the database connection cut while recording (``pg_terminate_backend`` on
PostgreSQL), the process dying between two steps. After the final reconciliation the
four properties of issue 7 must hold (``faults.check_payments``), and a second
reconciliation must change nothing. Every operation goes into a Jepsen-style log
(operation, inputs, ok/fail/info and outcome), printed with a failing example.
"""

import uuid
from collections import Counter
from contextlib import nullcontext
from datetime import date

import pytest
from django.db import OperationalError
from hypothesis import HealthCheck, event, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from classbook.core.errors import ValidationFailed
from classbook.core.tenancy import activate_account
from classbook.ledger import services as ledger
from classbook.payments import services
from classbook.payments.gateway import GatewayRefused, GatewayUnavailable
from classbook.payments.models import GatewaySettings, PaymentAttempt
from tests.ledger.helpers import make_family
from tests.payments import faults
from tests.payments.faults import (
    INTENT_CONFIRM,
    INTENT_CREATE,
    INTENT_ID_SAVE,
    INTENT_LIST,
    LEDGER_INSERT,
    REFUND_CREATE,
    ProcessCrash,
    crash_after,
    crash_at,
    cut_database,
    reconcile_after,
    take,
)

# Killing the app's backend must not take a test transaction with it.
pytestmark = pytest.mark.django_db(transaction=True)

_REFUND = "classbook.payments.stripe_gateway.StripeGateway.refund"


def pay_fault(bench, fault: str):
    return {
        "none": nullcontext,
        "drop-create-response": lambda: bench.proxy.fault(INTENT_CREATE),
        "drop-confirm-response": lambda: bench.proxy.fault(INTENT_CONFIRM),
        "create-never-arrives": lambda: bench.proxy.fault(INTENT_CREATE, "refuse"),
        "cut-db-recording": lambda: cut_database(LEDGER_INSERT),
        "cut-db-storing-intent-id": lambda: cut_database(INTENT_ID_SAVE),
        "crash-after-create": lambda: crash_at("intent-created"),
        "crash-after-confirm": lambda: crash_at("intent-confirmed"),
    }[fault]()


def refund_fault(bench, fault: str):
    return {
        "none": nullcontext,
        "drop-refund-response": lambda: bench.proxy.fault(REFUND_CREATE),
        "cut-db-recording": lambda: cut_database(LEDGER_INSERT),
        "crash-after-refund": lambda: crash_after(_REFUND),
    }[fault]()


def reconcile_fault(bench, fault: str):
    return {
        "none": nullcontext,
        "drop-list-response": lambda: bench.proxy.fault(INTENT_LIST),
        "cut-db-recording": lambda: cut_database(LEDGER_INSERT),
    }[fault]()


PAY_FAULTS = st.sampled_from(
    [
        *["none"] * 4,  # most payments go through; a third meets a fault
        "drop-create-response",
        "drop-confirm-response",
        "create-never-arrives",
        "cut-db-recording",
        "cut-db-storing-intent-id",
        "crash-after-create",
        "crash-after-confirm",
    ]
)
REFUND_FAULTS = st.sampled_from(
    ["none", "none", "drop-refund-response", "cut-db-recording", "crash-after-refund"]
)
RECONCILE_FAULTS = st.sampled_from(["none", "drop-list-response", "cut-db-recording"])
pick = st.integers(min_value=0, max_value=1000)


# What the whole run did (printed at its end: the machine is only as good as its mix).
TALLY: Counter = Counter()


def tally(what: str) -> None:
    TALLY[what] += 1
    event(what)


def fired(fault) -> str:
    hits = getattr(fault, "fired", None)
    if hits is None:
        return ""
    tally(f"fault {'fired' if hits else 'did not fire'}")
    return " [fault fired]" if hits else " [fault did not fire]"


class PaymentFaults(RuleBasedStateMachine):
    bench: faults.Bench  # set by the test

    def __init__(self):
        super().__init__()
        self.log = faults.OperationLog(echo=note, count=tally)
        self.bench.wipe()
        self.family = make_family("Faults")
        for month in (1, 2):
            ledger.charge_post(
                family=self.family,
                charge_type="tuition",
                amount_cents=8000,
                description=f"Tuition {month}",
                entry_date=date(2027, month, 1),
            )
        self.cards = {"ok": self.bench.card(), "declined": self.bench.card("4000000000000341")}
        self.forms: list[dict] = []
        # Form tokens are unique per account (as the page's random tokens are).
        self.prefix = uuid.uuid4().hex[:6]

    # --- helpers

    def _token(self) -> str:
        return f"{self.prefix}-form-{len(self.forms) + 1}"

    def _short(self, attempt: PaymentAttempt) -> str:
        attempt.refresh_from_db()
        return f"attempt {attempt.uuid.hex[:6]} {attempt.status} {attempt.intent_id or '-'}"

    def _submit(self, op: str, form: dict, fault: str) -> None:
        inputs = {**form, "fault": fault}
        try:
            with pay_fault(self.bench, fault) as hook:
                result = take(
                    self.family,
                    self.cards[form["card"]],
                    token=form["token"],
                    cents=form["cents"],
                    purpose=form["purpose"],
                )
        except (OperationalError, ProcessCrash) as exc:
            self.log.record(op, inputs, "info", f"{type(exc).__name__}{fired(hook)}")
            return
        except ValidationFailed as exc:
            self.log.record(op, inputs, "fail", f"refused: {exc}{fired(hook)}")
            return
        kind = "ok" if result.succeeded else "fail" if result.failed else "info"
        self.log.record(op, inputs, kind, f"{self._short(result.attempt)}{fired(hook)}")

    def _attempts(self, **filters) -> list[PaymentAttempt]:
        return list(PaymentAttempt.objects.filter(family=self.family, **filters).order_by("id"))

    # --- operations

    @initialize(policy=st.sampled_from(["refund", "flag"]))
    def choose_duplicate_policy(self, policy):
        GatewaySettings.objects.update(duplicate_policy=policy)
        self.log.record("duplicate_policy", {"policy": policy}, "ok", "set")

    @rule(
        purpose=st.sampled_from(["charges", "amount"]),
        cents=st.sampled_from([2500, 8000]),
        card=st.sampled_from(["ok", "ok", "ok", "declined"]),
        fault=PAY_FAULTS,
    )
    def pay(self, purpose, cents, card, fault):
        form = {"token": self._token(), "purpose": purpose, "cents": cents, "card": card}
        self.forms.append(form)
        self._submit("pay", form, fault)

    @precondition(lambda self: self.forms)
    @rule(which=pick, fault=PAY_FAULTS)
    def retry_same_form(self, which, fault):
        self._submit("retry", self.forms[which % len(self.forms)], fault)

    @precondition(lambda self: self.forms)
    @rule(which=pick, fault=PAY_FAULTS)
    def second_tab(self, which, fault):
        form = {**self.forms[which % len(self.forms)], "token": self._token()}
        self.forms.append(form)
        self._submit("second_tab", form, fault)

    def _paid(self) -> bool:
        return bool(self._attempts(status="succeeded"))

    @precondition(lambda self: self.forms)
    @rule(which=pick, deliveries=st.sampled_from([0, 1, 2]))
    def webhook(self, which, deliveries):
        """What the webhook does with a payment_intent event: re-fetch the intent and
        settle its attempt (unless the attempt already settled on another intent)."""
        uuids = {str(a.uuid): a for a in self._attempts()}
        intents = [
            i
            for i in self.bench.truth.list_intents(since=faults.EPOCH)
            if i.metadata.get("attempt_id") in uuids
        ]
        if not intents:
            return
        event = intents[which % len(intents)]
        inputs = {"intent": event.id, "status": event.status, "deliveries": deliveries}
        if deliveries == 0:
            self.log.record("webhook", inputs, "info", "lost")
            return
        for _ in range(deliveries):
            attempt = PaymentAttempt.objects.get(uuid=event.metadata["attempt_id"])
            intent = self.bench.truth.retrieve_intent(intent_id=event.id)
            if attempt.intent_id and attempt.intent_id != intent.id:
                outcome = "second intent for the attempt: left to the reconciler"
            else:
                outcome = self._short(services.attempt_settle(attempt=attempt, intent=intent))
        self.log.record("webhook", inputs, "ok", outcome)

    @precondition(lambda self: self._paid())
    @rule(which=pick, share=st.sampled_from([1000, 3000, None]), fault=REFUND_FAULTS)
    def refund(self, which, share, fault):
        paid = self._attempts(status="succeeded")
        if not paid:
            return
        attempt = paid[which % len(paid)]
        cents = share or attempt.amount_cents
        inputs = {"attempt": attempt.uuid.hex[:6], "cents": cents, "fault": fault}
        try:
            with refund_fault(self.bench, fault) as hook:
                record = services.gateway_refund(
                    payment=attempt.ledger_entry, amount_cents=cents, reason="Refund"
                )
        except (OperationalError, ProcessCrash) as exc:
            self.log.record("refund", inputs, "info", f"{type(exc).__name__}{fired(hook)}")
            return
        except ValidationFailed as exc:
            self.log.record("refund", inputs, "fail", f"refused: {exc}{fired(hook)}")
            return
        kind = {"succeeded": "ok", "failed": "fail"}.get(record.status, "info")
        self.log.record("refund", inputs, kind, f"{record.status}{fired(hook)}")

    @precondition(lambda self: self.forms)
    @rule(which=pick)
    def gateway_double_charge(self, which):
        """The gateway took a second payment for one attempt (a retried request it did not
        de-duplicate): the reconciler must refund or flag it."""
        attempts = self._attempts()
        if not attempts:
            return
        attempt = attempts[which % len(attempts)]
        intent = self.bench.gateway_charge(attempt, self.cards["ok"])
        self.log.record("gateway_double_charge", {"attempt": attempt.uuid.hex[:6]}, "ok", intent.id)

    @precondition(lambda self: self.forms)
    @rule(minutes=st.sampled_from([0, 2, 11]), fault=RECONCILE_FAULTS)
    def reconcile(self, minutes, fault):
        inputs = {"minutes_later": minutes, "fault": fault}
        try:
            with reconcile_fault(self.bench, fault) as hook:
                report = reconcile_after(minutes)
        except OperationalError as exc:
            self.log.record("reconcile", inputs, "info", f"{type(exc).__name__}{fired(hook)}")
            return
        summary = (
            f"settled {report.settled}, recorded {report.recorded}, duplicates "
            f"{report.duplicates}, refunds {report.refunds_recorded}, errors {len(report.errors)}"
        )
        self.log.record("reconcile", inputs, "ok", summary + fired(hook))

    def teardown(self):
        self.bench.proxy.clear()
        try:
            report = reconcile_after(11)
        except (GatewayUnavailable, GatewayRefused, OperationalError, ValidationFailed) as exc:
            raise AssertionError(f"the final reconciliation failed: {exc}\n{self.log}") from exc
        assert not report.errors, f"{report.errors}\n{self.log}"
        self.log.record("final_reconcile", {}, "ok", str(report))
        verdict = faults.check_payments(self.bench.truth, families=[self.family], log=self.log)
        before = faults.ledger_snapshot([self.family])
        reconcile_after(12)
        assert faults.ledger_snapshot([self.family]) == before, (
            f"a second reconciliation changed the ledger\n{self.log}"
        )
        note(f"verdict: {verdict}")
        tally("examples checked")
        TALLY["steps"] += len(self.log.ops) - 2


def test_payments_stay_exactly_once_under_any_mix_of_faults(bench, account_a):
    with activate_account(account_a):
        bench.configure()
        PaymentFaults.bench = bench
        PaymentFaults.TestCase.settings = settings(
            max_examples=15,
            stateful_step_count=12,
            deadline=None,
            print_blob=True,
            database=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        TALLY.clear()
        PaymentFaults.TestCase().runTest()
    print("operations over the run:", dict(sorted(TALLY.items())))
    assert TALLY["fault fired"] > 0 and TALLY["examples checked"] > 0
