"""Lost gateway responses, through a real TCP proxy in front of a real localstripe.

Each test drops (or refuses) one request on the way to the gateway, does what a person or
the worker would do next (retry the same form, open a second tab, refund again), runs one
reconciliation and checks the four properties of issue 7 against the gateway's own lists.
"""

import pytest

from classbook.core.errors import ValidationFailed
from classbook.ledger import services as ledger
from classbook.ledger.models import LedgerEntry
from classbook.payments import services
from classbook.payments.models import GatewayRefundRecord, PaymentAttempt
from tests.payments import faults
from tests.payments.faults import (
    INTENT_CONFIRM,
    INTENT_CREATE,
    REFUND_CREATE,
    check_payments,
    intents_of,
    reconcile_after,
    require,
    take,
)


def payments():
    return LedgerEntry.objects.filter(kind="payment").count()


def test_a_lost_create_response_charges_nothing_and_the_attempt_fails(bench, family):
    pm = bench.card()
    with bench.proxy.fault(INTENT_CREATE) as dropped:
        first = take(family, pm, token="form-1")
    assert dropped.fired == 1 and first.unsettled
    assert "could not be confirmed yet" in first.message
    (intent,) = intents_of(bench.truth, first.attempt)  # the gateway did create it
    assert intent.status == "requires_confirmation"

    again = take(family, pm, token="form-1")  # the browser retries the same form
    other_tab = take(family, pm, token="form-2")  # a second tab, same charges
    assert again.attempt.pk == other_tab.attempt.pk == first.attempt.pk
    assert "still being confirmed" in other_tab.message
    assert bench.proxy.seen(INTENT_CREATE) == 1 and bench.proxy.seen(INTENT_CONFIRM) == 0

    reconcile_after(minutes=11)
    first.attempt.refresh_from_db()
    assert first.attempt.status == "failed" and payments() == 0
    check_payments(bench.truth, families=[family])
    # ...and the family can pay afterwards, once.
    assert take(family, pm, token="form-3").succeeded
    check_payments(bench.truth, families=[family])
    assert payments() == 1


def test_a_lost_confirm_response_is_recorded_once_by_the_reconciler(bench, family):
    pm = bench.card()
    with bench.proxy.fault(INTENT_CONFIRM) as dropped:
        first = take(family, pm, token="form-1")
    assert dropped.fired == 1 and first.unsettled and payments() == 0
    (intent,) = intents_of(bench.truth, first.attempt)
    assert intent.succeeded  # the money moved; we never heard

    again = take(family, pm, token="form-1")
    assert again.attempt.pk == first.attempt.pk and again.unsettled
    assert bench.proxy.seen(INTENT_CREATE) == 1 and bench.proxy.seen(INTENT_CONFIRM) == 1

    report = reconcile_after(minutes=2)
    assert report.settled == 1 and not report.errors
    first.attempt.refresh_from_db()
    assert first.attempt.status == "succeeded" and first.attempt.intent_id == intent.id
    verdict = check_payments(bench.truth, families=[family])
    assert verdict.kept == 1 and payments() == 1
    before = faults.ledger_snapshot([family])
    reconcile_after(minutes=3)
    assert faults.ledger_snapshot([family]) == before  # a second run changes nothing


def test_a_second_tab_after_a_lost_confirm_is_told_it_is_paid(bench, family):
    pm = bench.card()
    with bench.proxy.fault(INTENT_CONFIRM):
        first = take(family, pm, token="tab-1")
    second = take(family, pm, token="tab-2")
    assert second.succeeded and second.attempt.pk == first.attempt.pk
    assert "already paid" in second.message
    assert bench.proxy.seen(INTENT_CREATE) == 1
    reconcile_after(minutes=11)
    assert check_payments(bench.truth, families=[family]).kept == 1
    assert payments() == 1


def test_a_request_that_never_reached_the_gateway_fails_and_can_be_paid_again(bench, family):
    pm = bench.card()
    with bench.proxy.fault(INTENT_CREATE, action="refuse") as refused:
        first = take(family, pm, token="form-1")
    assert refused.fired == 1 and first.unsettled
    assert intents_of(bench.truth, first.attempt) == []
    reconcile_after(minutes=11)
    first.attempt.refresh_from_db()
    assert first.attempt.status == "failed"
    assert "never reached" in first.attempt.failure_message
    assert take(family, pm, token="form-2").succeeded
    assert check_payments(bench.truth, families=[family]).kept == 1


def test_a_declined_card_with_a_lost_confirm_response_records_nothing(bench, family):
    pm = bench.card("4000000000000341")
    with bench.proxy.fault(INTENT_CONFIRM) as dropped:
        first = take(family, pm, token="form-1")
    assert dropped.fired == 1 and first.unsettled
    reconcile_after(minutes=2)
    first.attempt.refresh_from_db()
    assert first.attempt.status == "failed" and payments() == 0
    check_payments(bench.truth, families=[family])


def test_a_lost_refund_response_is_recorded_once_and_holds_back_its_amount(bench, family):
    payment = take(family, bench.card(), token="form-1").attempt.ledger_entry
    with bench.proxy.fault(REFUND_CREATE) as dropped:
        record = services.gateway_refund(payment=payment, amount_cents=3000, reason="Cancelled")
    assert dropped.fired == 1 and record.status == "unknown"
    assert not LedgerEntry.objects.filter(kind="refund").exists()
    # Staff try again for the whole payment: what may have been refunded is held back.
    with pytest.raises(ValidationFailed, match=r"50\.00"):
        services.gateway_refund(payment=payment, amount_cents=8000, reason="Again")
    report = reconcile_after(minutes=2)
    assert report.refunds_recorded == 1
    record.refresh_from_db()
    assert record.status == "succeeded"
    check_payments(bench.truth, families=[family])
    assert LedgerEntry.objects.filter(kind="refund").count() == 1
    reconcile_after(minutes=3)
    assert LedgerEntry.objects.filter(kind="refund").count() == 1


def test_a_refund_that_never_reached_the_gateway_converges(bench, family):
    payment = take(family, bench.card(), token="form-1").attempt.ledger_entry
    with bench.proxy.fault(REFUND_CREATE, action="refuse") as refused:
        record = services.gateway_refund(payment=payment, amount_cents=3000, reason="Cancelled")
    require(refused.fired == 1 and record.status == "unknown")
    require(bench.truth.list_refunds(since=faults.EPOCH) == [])
    reconcile_after(minutes=11)
    record.refresh_from_db()
    assert record.status == "failed"  # nothing was refunded
    # ...so the whole payment can be refunded again.
    assert services.gateway_refund(payment=payment, amount_cents=8000, reason="All").status == (
        "succeeded"
    )
    check_payments(bench.truth, families=[family])


@pytest.mark.parametrize("policy", ["refund", "flag"])
def test_a_second_charge_at_the_gateway_is_refunded_or_flagged_per_policy(bench, family, policy):
    bench.configure(duplicate_policy=policy)
    first = take(family, bench.card(), token="form-1")
    twin = bench.gateway_charge(first.attempt, bench.card())
    assert twin.succeeded
    report = reconcile_after(minutes=2)
    assert report.duplicates == 1
    verdict = check_payments(bench.truth, families=[family])
    assert verdict.kept == 1 and payments() == 1
    refunded = bench.truth.retrieve_intent(intent_id=twin.id).amount_refunded_cents
    if policy == "refund":
        assert verdict.duplicates_refunded == 1 and refunded == 8000
    else:
        assert verdict.duplicates_flagged == 1 and refunded == 0


def test_a_lost_duplicate_refund_response_leaves_it_flagged_never_refunded_twice(bench, family):
    first = take(family, bench.card(), token="form-1")
    twin = bench.gateway_charge(first.attempt, bench.card())
    with bench.proxy.fault(REFUND_CREATE) as dropped:
        reconcile_after(minutes=2)
    assert dropped.fired == 1
    reconcile_after(minutes=3)
    reconcile_after(minutes=4)
    refunds = [r for r in bench.truth.list_refunds(since=faults.EPOCH) if r.intent_id == twin.id]
    assert sum(r.amount_cents for r in refunds) == 8000  # refunded once, not again
    verdict = check_payments(bench.truth, families=[family])
    assert verdict.duplicates_flagged == 1  # staff are told the refund's outcome was unknown
    assert PaymentAttempt.objects.get().status == "succeeded"
    assert not GatewayRefundRecord.objects.exists()


def test_a_different_payment_while_one_is_unconfirmed_charges_nothing_more(bench, family):
    """A second form for the same family and purpose (another amount, another card) while
    the first is unconfirmed is not charged: the answer is the first payment, settled
    from the gateway, and says so. (Callers show that payment's amount: the office page,
    autopay compares the token, the portal says nothing more was charged.)"""
    with bench.proxy.fault(INTENT_CONFIRM):
        first = take(family, bench.card(), token="first", cents=8000)
    second = take(family, bench.card(), token="second", cents=2500)
    assert second.attempt.pk == first.attempt.pk and second.attempt.amount_cents == 8000
    assert "nothing more was charged" in second.message
    assert bench.proxy.seen(INTENT_CREATE) == 1
    reconcile_after(minutes=11)
    assert check_payments(bench.truth, families=[family]).kept == 1 and payments() == 1


def test_the_checker_sees_each_violation(bench, family):
    """The property checker is not vacuous: a card payment the gateway never took (P1), an
    unhandled second charge (P2) and an unsettled attempt (P3) are each reported."""
    paid = take(family, bench.card(), token="form-1")
    check_payments(bench.truth, families=[family])
    ledger.payment_record(
        family=family, method="card", amount_cents=100, idempotency_key="gateway:pi_never"
    )
    bench.gateway_charge(paid.attempt, bench.card())
    PaymentAttempt.objects.create(
        family=family,
        amount_cents=100,
        currency="USD",
        purpose="amount",
        payment_method_id="pm_x",
        status="unknown",
    )
    with pytest.raises(AssertionError) as failure:
        check_payments(bench.truth, families=[family])
    message = str(failure.value)
    assert "P1: ledger card payment" in message
    assert "P2: duplicate" in message and "neither refunded nor flagged" in message
    assert "P3: attempt" in message and "left unknown" in message
