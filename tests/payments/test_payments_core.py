"""Card payments against a real localstripe: once, whatever happens."""

from datetime import date, timedelta

import pytest

from classbook.core import clock
from classbook.core.errors import ValidationFailed
from classbook.ledger import services as ledger
from classbook.ledger.models import LedgerEntry
from classbook.ledger.selectors import family_balance
from classbook.payments import services
from classbook.payments.models import PaymentAttempt, ReconciliationIssue
from classbook.payments.reconcile import reconcile
from classbook.payments.selectors import gateway_for_account
from tests.ledger.helpers import make_family
from tests.payments.conftest import card


@pytest.fixture
def family(in_a, gateway):
    family = make_family("Garcia")
    ledger.charge_post(
        family=family,
        charge_type="tuition",
        amount_cents=8000,
        description="January tuition",
        entry_date=date(2027, 1, 1),
    )
    return family


def pay(family, sandbox_url, *, cents=8000, token="t-1", number="4242424242424242", apply_to=()):
    return services.payment_take(
        family=family,
        payment_method_id=card(sandbox_url, number),
        amount_cents=cents,
        purpose="charges",
        request_token=token,
        apply_to=apply_to,
        card_label="Visa 4242",
    )


def intents_for(attempt):
    return [
        i
        for i in gateway_for_account().list_intents(since=attempt.created_at - timedelta(minutes=1))
        if i.metadata.get("attempt_id") == str(attempt.uuid)
    ]


def test_a_card_payment_lands_on_the_ledger_once(family, sandbox_url):
    charge = LedgerEntry.objects.get(kind="charge")
    result = pay(family, sandbox_url, apply_to=[(charge, 8000)])
    assert result.succeeded, result.message
    payment = result.attempt.ledger_entry
    assert (payment.kind, payment.subtype, payment.amount_cents) == ("payment", "card", 8000)
    assert payment.reference.startswith("ch_")
    assert payment.idempotency_key == f"gateway:{result.attempt.intent_id}"
    assert family_balance(family, today=date(2027, 1, 2)).balance_cents == 0


def test_a_declined_card_records_nothing_and_says_why(family, sandbox_url):
    result = pay(family, sandbox_url, number="4000000000000341")
    assert result.failed and "declined" in result.message.lower()
    assert not LedgerEntry.objects.filter(kind="payment").exists()


def test_a_double_submit_charges_once(family, sandbox_url):
    first = pay(family, sandbox_url, token="same-form")
    second = pay(family, sandbox_url, token="same-form")
    assert first.attempt.pk == second.attempt.pk and second.succeeded
    assert len(intents_for(first.attempt)) == 1
    assert LedgerEntry.objects.filter(kind="payment").count() == 1


def test_zero_or_negative_amounts_are_refused(family, sandbox_url):
    for cents in (0, -100):
        with pytest.raises(ValidationFailed, match="more than zero"):
            pay(family, sandbox_url, cents=cents)
    assert not PaymentAttempt.objects.exists()


def test_without_gateway_settings_card_payments_are_refused(in_a):
    family = make_family()
    with pytest.raises(ValidationFailed, match="not set up"):
        services.payment_take(
            family=family,
            payment_method_id="pm_x",
            amount_cents=100,
            purpose="charges",
            request_token="x",
        )


def test_unreachable_gateway_leaves_the_attempt_for_the_reconciler(family, sandbox_url):
    from classbook.payments.models import GatewaySettings

    GatewaySettings.objects.update(api_base="http://127.0.0.1:9")  # nothing listens there
    result = services.payment_take(
        family=family,
        payment_method_id="pm_card_visa",
        amount_cents=8000,
        purpose="charges",
        request_token="u",
    )
    assert result.unsettled and "could not be confirmed" in result.message
    assert not LedgerEntry.objects.filter(kind="payment").exists()
    GatewaySettings.objects.update(api_base=sandbox_url)
    later = clock.now() + timedelta(minutes=11)
    with clock.freeze(later):
        reconcile(now=later)
    result.attempt.refresh_from_db()
    assert result.attempt.status == "failed"  # it never reached the gateway


def test_a_success_the_database_missed_is_recorded_by_the_reconciler(family, sandbox_url):
    attempt = PaymentAttempt.objects.create(
        family=family,
        amount_cents=8000,
        currency="USD",
        purpose="charges",
        payment_method_id=card(sandbox_url),
        status="processing",
    )
    gateway = gateway_for_account()
    intent = gateway.create_intent(
        amount_cents=8000,
        currency="USD",
        payment_method_id=attempt.payment_method_id,
        customer_id=None,
        idempotency_key=str(attempt.uuid),
        metadata={"attempt_id": str(attempt.uuid), "account": family.account.slug},
    )
    gateway.confirm_intent(intent_id=intent.id)  # ...and the app crashed before recording
    later = clock.now() + timedelta(minutes=2)
    with clock.freeze(later):
        report = reconcile(now=later)
    attempt.refresh_from_db()
    assert attempt.status == "succeeded" and attempt.intent_id == intent.id
    assert report.settled == 1
    assert LedgerEntry.objects.filter(kind="payment").count() == 1
    reconcile(now=later)  # again: nothing new
    assert LedgerEntry.objects.filter(kind="payment").count() == 1


def test_a_second_charge_for_one_attempt_is_refunded(family, sandbox_url):
    result = pay(family, sandbox_url)
    gateway = gateway_for_account()
    twin = gateway.create_intent(
        amount_cents=8000,
        currency="USD",
        payment_method_id=card(sandbox_url),
        customer_id=None,
        idempotency_key=str(result.attempt.uuid),
        metadata={"attempt_id": str(result.attempt.uuid), "account": family.account.slug},
    )
    gateway.confirm_intent(intent_id=twin.id)
    report = reconcile()
    assert report.duplicates == 1
    issue = ReconciliationIssue.objects.get(kind="duplicate")
    assert issue.gateway_id == twin.id and "refunded" in issue.action
    assert gateway.retrieve_intent(intent_id=twin.id).amount_refunded_cents == 8000
    assert LedgerEntry.objects.filter(kind="payment").count() == 1


def test_refund_through_the_gateway_never_exceeds_the_capture(family, sandbox_url):
    payment = pay(family, sandbox_url).attempt.ledger_entry
    record = services.gateway_refund(payment=payment, amount_cents=3000, reason="Class cancelled")
    assert record.status == "succeeded" and record.refund_id.startswith("re_")
    assert record.ledger_entry.kind == "refund"
    with pytest.raises(ValidationFailed, match=r"50\.00"):
        services.gateway_refund(payment=payment, amount_cents=6000, reason="too much")
    assert LedgerEntry.objects.filter(kind="refund").count() == 1
