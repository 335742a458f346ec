"""The process dies between two steps of a payment, then the task is retried.

In-process (both databases): ``ProcessCrash`` is raised right before or after a named
gateway call, which is all a crash leaves behind when no transaction is open there. On
PostgreSQL the real ``db_worker`` runs the payment in a child process, is paused at the
step and SIGKILLed there (also inside the recording transaction, which the server then
rolls back), and the retried task runs in a second worker. After each: one
reconciliation and the four properties.
"""

import uuid

import pytest
from django_tasks import TaskResultStatus

from classbook.ledger.models import LedgerEntry
from classbook.payments import services
from classbook.payments.models import GatewayRefundRecord, PaymentAttempt
from tests.conftest import is_postgres
from tests.payments import faults
from tests.payments.faults import (
    INTENT_CREATE,
    ProcessCrash,
    check_payments,
    crash_after,
    crash_at,
    crash_before,
    intents_of,
    reconcile_after,
    require,
    take,
)

_REFUND = "classbook.payments.stripe_gateway.StripeGateway.refund"


def payments() -> int:
    return LedgerEntry.objects.filter(kind="payment").count()


# step -> (what the gateway has for the attempt, payments on the ledger in the end)
OUTCOMES = {
    "attempt-committed": (None, 0),
    "intent-created": ("requires_confirmation", 0),
    "intent-id-stored": ("requires_confirmation", 0),
    "intent-confirmed": ("succeeded", 1),
}


@pytest.mark.parametrize("step", list(OUTCOMES))
def test_a_crash_between_steps_then_a_retried_task_charges_at_most_once(bench, family, step):
    pm = bench.card()
    with crash_at(step) as trip, pytest.raises(ProcessCrash):
        take(family, pm, token="autopay-1")
    assert trip.fired == 1
    attempt = PaymentAttempt.objects.get(request_token="autopay-1")
    assert attempt.status == "processing"
    gateway_status, ledgered = OUTCOMES[step]
    assert [i.status for i in intents_of(bench.truth, attempt)] == (
        [gateway_status] if gateway_status else []
    )

    retried = take(family, pm, token="autopay-1")  # the task runs again
    assert retried.attempt.pk == attempt.pk and retried.unsettled
    assert bench.proxy.seen(INTENT_CREATE) == (1 if gateway_status else 0)

    reconcile_after(minutes=11)
    attempt.refresh_from_db()
    assert attempt.status == ("succeeded" if ledgered else "failed")
    check_payments(bench.truth, families=[family])
    assert payments() == ledgered


def test_a_crash_after_the_gateway_refunded_is_recorded_by_the_reconciler(bench, family):
    payment = take(family, bench.card(), token="form-1").attempt.ledger_entry
    with crash_after(_REFUND) as trip, pytest.raises(ProcessCrash):
        services.gateway_refund(payment=payment, amount_cents=3000, reason="Cancelled")
    assert trip.fired == 1 and GatewayRefundRecord.objects.get().status == "pending"
    reconcile_after(minutes=2)
    check_payments(bench.truth, families=[family])
    assert LedgerEntry.objects.filter(kind="refund").count() == 1


def test_a_crash_before_the_refund_reached_the_gateway_converges(bench, family):
    payment = take(family, bench.card(), token="form-1").attempt.ledger_entry
    with crash_before(_REFUND) as trip, pytest.raises(ProcessCrash):
        services.gateway_refund(payment=payment, amount_cents=3000, reason="Cancelled")
    require(trip.fired == 1 and GatewayRefundRecord.objects.get().status == "pending")
    reconcile_after(minutes=11)
    check_payments(bench.truth, families=[family])  # P3: no refund left pending


# --- the real worker, SIGKILLed -----------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("pause_at", "ledgered"),
    [("intent-created", 0), ("intent-confirmed", 1), ("in-ledger-insert", 1)],
)
def test_a_worker_killed_between_steps_then_retried_charges_at_most_once(
    bench, family, tmp_path, pause_at, ledgered
):
    if not is_postgres():
        pytest.skip("the child worker needs a database it can share (PostgreSQL)")
    token = f"autopay-{uuid.uuid4().hex[:8]}"
    job = {
        "account_id": family.account_id,
        "family_id": family.pk,
        "payment_method_id": bench.card(),
        "amount_cents": 8000,
        "request_token": token,
    }
    worker = faults.Worker()
    try:
        marker = tmp_path / "paused"
        faults.pay_in_worker.enqueue(**job, pause_at=pause_at, marker=str(marker))
        worker.kill_when_paused(marker)
        attempt = PaymentAttempt.objects.get(request_token=token)
        assert attempt.status == "processing" and payments() == 0

        retry = faults.pay_in_worker.enqueue(**job)  # the task is retried
        worker.run_to_completion()
        retry.refresh()
        assert retry.status == TaskResultStatus.SUCCESSFUL, worker.output()
        assert retry.return_value == "processing"  # it found the attempt; charged nothing
    finally:
        worker.close()
    assert bench.proxy.seen(INTENT_CREATE) == 1

    reconcile_after(minutes=11)
    attempt.refresh_from_db()
    assert attempt.status == ("succeeded" if ledgered else "failed")
    check_payments(bench.truth, families=[family])
    assert payments() == ledgered
