"""The database connection is lost at a chosen statement while money moves.

On PostgreSQL the app's own backend is killed with ``pg_terminate_backend`` from a
second connection at that statement (the incident: "payments were taken at the gateway
but never saved"); on SQLite the statement raises ``OperationalError`` as psycopg would.
After each cut: what the person would do next, one reconciliation, the four properties.
"""

import pytest
from django.db import OperationalError

from classbook.ledger.models import LedgerEntry
from classbook.payments import services
from classbook.payments.models import GatewayRefundRecord, PaymentAttempt
from tests.payments import faults
from tests.payments.faults import (
    INTENT_CONFIRM,
    INTENT_CREATE,
    INTENT_ID_SAVE,
    LEDGER_INSERT,
    check_payments,
    cut_database,
    intents_of,
    reconcile_after,
    take,
)

# A killed backend must not take the test's own transaction with it.
pytestmark = pytest.mark.django_db(transaction=True)

ATTEMPT_INSERT = r'^INSERT INTO "payments_paymentattempt"'


def payments() -> int:
    return LedgerEntry.objects.filter(kind="payment").count()


@pytest.mark.parametrize("when", ["before", "after"])
def test_connection_lost_while_recording_a_taken_payment(bench, family, when):
    pm = bench.card()
    with cut_database(LEDGER_INSERT, when=when) as cut, pytest.raises(OperationalError):
        take(family, pm, token="form-1")
    assert cut.fired
    attempt = PaymentAttempt.objects.get(request_token="form-1")
    assert attempt.status == "processing" and attempt.intent_id and payments() == 0
    (intent,) = intents_of(bench.truth, attempt)
    assert intent.succeeded  # the gateway has the money, the ledger does not (incident 1)

    again = take(family, pm, token="form-1")  # the person presses Pay again
    other_tab = take(family, pm, token="form-2")  # ...or pays from another tab
    assert again.attempt.pk == attempt.pk and again.unsettled
    assert other_tab.attempt.pk == attempt.pk and other_tab.succeeded  # settled, not charged
    assert bench.proxy.seen(INTENT_CREATE) == 1

    reconcile_after(minutes=2)
    verdict = check_payments(bench.truth, families=[family])
    assert verdict.kept == 1 and payments() == 1


def test_connection_lost_while_storing_the_intent_id(bench, family):
    pm = bench.card()
    with cut_database(INTENT_ID_SAVE) as cut, pytest.raises(OperationalError):
        take(family, pm, token="form-1")
    assert cut.fired
    attempt = PaymentAttempt.objects.get(request_token="form-1")
    assert attempt.status == "processing" and not attempt.intent_id
    (intent,) = intents_of(bench.truth, attempt)
    assert intent.status == "requires_confirmation"  # created, never confirmed
    assert bench.proxy.seen(INTENT_CONFIRM) == 0

    reconcile_after(minutes=11)
    attempt.refresh_from_db()
    assert attempt.status == "failed" and attempt.intent_id == intent.id
    check_payments(bench.truth, families=[family])
    assert take(family, pm, token="form-2").succeeded
    assert check_payments(bench.truth, families=[family]).kept == 1


def test_connection_lost_while_committing_the_attempt_moves_no_money(bench, family):
    pm = bench.card()
    with cut_database(ATTEMPT_INSERT) as cut, pytest.raises(OperationalError):
        take(family, pm, token="form-1")
    assert cut.fired and not PaymentAttempt.objects.exists()
    assert bench.proxy.seen(INTENT_CREATE) == 0
    assert take(family, pm, token="form-1").succeeded  # the retry charges, once
    reconcile_after(minutes=11)
    assert check_payments(bench.truth, families=[family]).kept == 1


def test_connection_lost_while_recording_a_gateway_refund(bench, family):
    payment = take(family, bench.card(), token="form-1").attempt.ledger_entry
    with cut_database(LEDGER_INSERT) as cut, pytest.raises(OperationalError):
        services.gateway_refund(payment=payment, amount_cents=3000, reason="Cancelled")
    assert cut.fired
    record = GatewayRefundRecord.objects.get()
    assert record.status == "pending" and not LedgerEntry.objects.filter(kind="refund").exists()
    assert len(bench.truth.list_refunds(since=faults.EPOCH)) == 1  # refunded at the gateway

    report = reconcile_after(minutes=2)
    assert report.refunds_recorded == 1
    check_payments(bench.truth, families=[family])
    assert LedgerEntry.objects.filter(kind="refund").count() == 1


def test_connection_lost_while_the_reconciler_records(bench, family):
    with bench.proxy.fault(INTENT_CONFIRM):
        first = take(family, bench.card(), token="form-1")
    assert first.unsettled
    with cut_database(LEDGER_INSERT) as cut, pytest.raises(OperationalError):
        reconcile_after(minutes=2)
    assert cut.fired and payments() == 0
    reconcile_after(minutes=3)
    assert check_payments(bench.truth, families=[family]).kept == 1
    assert payments() == 1
