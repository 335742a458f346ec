"""Webhooks delivered twice, resent under a new id, out of order, during a database cut,
or never — through the real receiver (``payments.webhooks.webhook_receive``) with signed
events, after the gateway's response to the request was lost on the way."""

import pytest
from django.db import OperationalError

from classbook.ledger.models import LedgerEntry
from classbook.payments import services
from classbook.payments.models import ReconciliationIssue
from tests.payments import faults
from tests.payments.faults import (
    INTENT_CONFIRM,
    LEDGER_INSERT,
    REFUND_CREATE,
    check_payments,
    cut_database,
    intents_of,
    reconcile_after,
    signed_event,
    take,
)

webhooks = pytest.importorskip("classbook.payments.webhooks")


def deliver(payload_and_signature):
    payload, signature = payload_and_signature
    return webhooks.webhook_receive(payload=payload, signature=signature)


def payments() -> int:
    return LedgerEntry.objects.filter(kind="payment").count()


def lost_confirm(bench, family):
    with bench.proxy.fault(INTENT_CONFIRM) as dropped:
        result = take(family, bench.card(), token="form-1")
    assert dropped.fired == 1 and result.unsettled
    (intent,) = intents_of(bench.truth, result.attempt)
    return result.attempt, intent


def test_a_webhook_delivered_twice_and_resent_records_once(bench, family):
    attempt, intent = lost_confirm(bench, family)
    event = faults.intent_event(intent, event_id="evt_first")
    assert deliver(event).status == 200
    assert "duplicate" in deliver(event).message  # the same delivery again
    assert deliver(faults.intent_event(intent, event_id="evt_resent")).status == 200
    attempt.refresh_from_db()
    assert attempt.status == "succeeded" and not attempt.recorded_by_reconciler
    assert payments() == 1
    before = faults.ledger_snapshot([family])
    reconcile_after(minutes=11)
    assert faults.ledger_snapshot([family]) == before
    check_payments(bench.truth, families=[family])


def test_an_event_out_of_order_settles_to_the_gateways_truth(bench, family):
    attempt, intent = lost_confirm(bench, family)
    stale = signed_event(
        "payment_intent.payment_failed",  # an older event, arriving last
        {"id": intent.id, "object": "payment_intent", "metadata": intent.metadata},
    )
    assert deliver(stale).status == 200
    attempt.refresh_from_db()
    assert attempt.status == "succeeded" and payments() == 1  # re-fetched: it succeeded
    reconcile_after(minutes=11)
    check_payments(bench.truth, families=[family])


def test_a_webhook_for_a_second_charge_is_left_to_the_reconciler(bench, family):
    first = take(family, bench.card(), token="form-1")
    twin = bench.gateway_charge(first.attempt, bench.card())
    outcome = deliver(faults.intent_event(twin))
    assert outcome.status == 200 and "reconciler" in outcome.message
    assert payments() == 1
    reconcile_after(minutes=2)
    assert check_payments(bench.truth, families=[family]).duplicates_refunded == 1
    assert ReconciliationIssue.objects.get(kind="duplicate").gateway_id == twin.id


def test_a_refund_webhook_after_a_lost_refund_response_records_once(bench, family):
    attempt = take(family, bench.card(), token="form-1").attempt
    with bench.proxy.fault(REFUND_CREATE) as dropped:
        record = services.gateway_refund(
            payment=attempt.ledger_entry, amount_cents=3000, reason="Cancelled"
        )
    assert dropped.fired == 1 and record.status == "unknown"
    charge = {"id": attempt.charge_id, "object": "charge", "payment_intent": attempt.intent_id}
    for event_id in ("evt_refund", "evt_refund", "evt_refund_resent"):
        assert deliver(signed_event("charge.refunded", charge, event_id=event_id)).status == 200
    record.refresh_from_db()
    assert record.status == "succeeded"
    assert LedgerEntry.objects.filter(kind="refund").count() == 1
    reconcile_after(minutes=2)
    check_payments(bench.truth, families=[family])
    assert LedgerEntry.objects.filter(kind="refund").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_webhook_cut_off_by_the_database_is_redelivered_and_records_once(bench, family):
    attempt, intent = lost_confirm(bench, family)
    event = faults.intent_event(intent, event_id="evt_cut")
    with cut_database(LEDGER_INSERT) as cut, pytest.raises(OperationalError):
        deliver(event)  # the gateway sees a 500 and delivers it again later
    assert cut.fired and payments() == 0
    assert deliver(event).status == 200  # not taken for a duplicate: it never finished
    attempt.refresh_from_db()
    assert attempt.status == "succeeded" and payments() == 1
    reconcile_after(minutes=11)
    check_payments(bench.truth, families=[family])
