"""The gateway webhook: signature, de-duplication, re-fetching the object, out-of-order
events, refunds made at the gateway, 503 on lock timeouts, and real delivery by
localstripe to a live server."""

import json
import threading
import time
import urllib.request

import pytest
from django.db import OperationalError, connection

from classbook.core.tenancy import activate_account
from classbook.ledger.models import LedgerEntry
from classbook.payments import services, webhooks
from classbook.payments.models import (
    GatewayRefundRecord,
    PaymentAttempt,
    ReconciliationIssue,
    WebhookEvent,
)
from classbook.payments.selectors import gateway_for_account
from tests.conftest import is_postgres
from tests.payments.conftest import card
from tests.payments.page_helpers import event, family_owing, signed

HOOK = "/alpha/hooks/gateway/"


@pytest.fixture
def family(account_a, gateway):
    return family_owing(account_a)


def charged_but_unrecorded(account, family, sandbox_url, *, number="4242424242424242"):
    """An attempt whose charge went through at the gateway while the app never heard back
    (left ``processing``). Returns (attempt, intent as the gateway sent it)."""
    with activate_account(account):
        attempt = PaymentAttempt.objects.create(
            family=family,
            amount_cents=8000,
            currency="USD",
            purpose="charges",
            payment_method_id=card(sandbox_url, number),
            status="processing",
        )
        gateway = gateway_for_account()
        intent = gateway.create_intent(
            amount_cents=8000,
            currency="USD",
            payment_method_id=attempt.payment_method_id,
            customer_id=None,
            idempotency_key=str(attempt.uuid),
            metadata={"attempt_id": str(attempt.uuid), "account": account.slug},
        )
        PaymentAttempt.objects.filter(pk=attempt.pk).update(intent_id=intent.id)
        try:
            intent = gateway.confirm_intent(intent_id=intent.id)
        except Exception:  # a decline: the intent itself says so
            intent = gateway.retrieve_intent(intent_id=intent.id)
        return attempt, intent


def intent_body(intent, account, attempt) -> dict:
    return {
        "id": intent.id,
        "object": "payment_intent",
        "status": intent.status,
        "amount": intent.amount_cents,
        "metadata": {"attempt_id": str(attempt.uuid), "account": account.slug},
    }


def deliver(client, body_and_signature):
    body, signature = body_and_signature
    return client.post(
        HOOK, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )


def state(account):
    with activate_account(account):
        return {
            "payments": LedgerEntry.objects.filter(kind="payment").count(),
            "events": WebhookEvent.objects.count(),
            "statuses": sorted(PaymentAttempt.objects.values_list("status", flat=True)),
        }


def test_a_success_event_records_the_payment_once(client, account_a, family, sandbox_url):
    attempt, intent = charged_but_unrecorded(account_a, family, sandbox_url)
    message = event("payment_intent.succeeded", intent_body(intent, account_a, attempt))
    response = deliver(client, signed(message))
    assert response.status_code == 200, response.content
    assert state(account_a) == {"payments": 1, "events": 1, "statuses": ["succeeded"]}
    with activate_account(account_a):
        row = WebhookEvent.objects.get()
    assert row.processed_at is not None and "succeeded" in row.outcome
    # The same event again (the gateway retries): answered, nothing new.
    again = deliver(client, signed(message))
    assert again.status_code == 200 and "duplicate" in again.json()["detail"]
    # Another event about the same payment (its own id): processed, still recorded once.
    other = deliver(client, signed({**message, "id": "evt_test_2"}))
    assert other.status_code == 200
    assert state(account_a) == {"payments": 1, "events": 2, "statuses": ["succeeded"]}


def test_the_body_is_not_trusted_the_intent_is_fetched(client, account_a, family, sandbox_url):
    """A "failed" event for a payment that went through (events out of order, or a forged
    body with a valid signature): the gateway's answer wins."""
    attempt, intent = charged_but_unrecorded(account_a, family, sandbox_url)
    body = {**intent_body(intent, account_a, attempt), "status": "requires_payment_method"}
    response = deliver(client, signed(event("payment_intent.payment_failed", body)))
    assert response.status_code == 200
    assert state(account_a)["statuses"] == ["succeeded"]
    assert state(account_a)["payments"] == 1


def test_a_failure_event_settles_a_decline(client, account_a, family, sandbox_url):
    attempt, intent = charged_but_unrecorded(
        account_a, family, sandbox_url, number="4000000000000341"
    )
    message = event("payment_intent.payment_failed", intent_body(intent, account_a, attempt))
    assert deliver(client, signed(message)).status_code == 200
    with activate_account(account_a):
        attempt.refresh_from_db()
    assert attempt.status == "failed" and "declined" in attempt.failure_message
    assert state(account_a)["payments"] == 0
    # The success event cannot come later for a declined intent, but a late failure event
    # after a success changes nothing: covered above; a replayed failure is a duplicate.
    assert "duplicate" in deliver(client, signed(message)).json()["detail"]


def test_a_bad_signature_is_refused_and_changes_nothing(client, account_a, family, sandbox_url):
    attempt, intent = charged_but_unrecorded(account_a, family, sandbox_url)
    message = event("payment_intent.succeeded", intent_body(intent, account_a, attempt))
    before = state(account_a)
    for body_and_signature in (
        signed(message, secret="whsec_someone_else"),
        (signed(message)[0], "t=1,v1=deadbeef"),
        (signed(message)[0], ""),
        signed(message, at=int(time.time()) - 3600),  # replayed an hour later
    ):
        response = deliver(client, body_and_signature)
        assert response.status_code == 400 and response.json()["received"] is False
    assert state(account_a) == before


def test_an_unknown_event_type_is_refused(client, account_a, family, caplog):
    response = deliver(client, signed(event("customer.created", {"id": "cus_1"})))
    assert response.status_code == 400
    assert "Unknown event type" in response.json()["detail"]
    assert "webhook refused: unknown event" in caplog.text
    assert state(account_a)["events"] == 0


def test_without_a_webhook_secret_everything_is_refused(client, account_a):
    family_owing(account_a)
    response = deliver(client, signed(event("payment_intent.succeeded", {"id": "pi_1"})))
    assert response.status_code == 400


def test_events_of_other_accounts_and_strangers_are_ignored(client, account_a, family):
    stranger = {"id": "pi_stranger", "object": "payment_intent", "metadata": {"account": "bravo"}}
    response = deliver(client, signed(event("payment_intent.succeeded", stranger)))
    assert response.status_code == 200 and "ignored" in response.json()["detail"]
    ours_unknown = {"id": "pi_nobody", "metadata": {"account": "alpha", "attempt_id": "junk"}}
    response = deliver(client, signed(event("payment_intent.succeeded", ours_unknown, "evt_2")))
    assert response.status_code == 200 and "reconciler" in response.json()["detail"]
    assert state(account_a)["payments"] == 0


def test_a_refund_made_at_the_gateway_reaches_the_ledger(client, account_a, family, sandbox_url):
    with activate_account(account_a):
        attempt = services.payment_take(
            family=family,
            payment_method_id=card(sandbox_url),
            amount_cents=8000,
            purpose="charges",
            request_token="hook-refund",
        ).attempt
        # Someone refunds in the gateway's dashboard, not in Classbook.
        gateway_for_account().refund(
            intent_id=attempt.intent_id, amount_cents=2500, metadata={}, idempotency_key="x"
        )
    charge = {"id": attempt.charge_id, "object": "charge", "payment_intent": attempt.intent_id}
    message = event("charge.refunded", charge, "evt_refund_1")
    response = deliver(client, signed(message))
    assert response.status_code == 200 and "1 refund(s) recorded" in response.json()["detail"]
    with activate_account(account_a):
        refund = LedgerEntry.objects.get(kind="refund")
        issue = ReconciliationIssue.objects.get(kind="missing_refund")
    assert refund.amount_cents == 2500 and refund.refund_of_id == attempt.ledger_entry_id
    assert issue.needs_review
    # Replayed under another event id: the refund is not recorded twice.
    deliver(client, signed({**message, "id": "evt_refund_2"}))
    with activate_account(account_a):
        assert LedgerEntry.objects.filter(kind="refund").count() == 1
        assert GatewayRefundRecord.objects.count() == 1


def test_a_refund_of_a_payment_we_do_not_know_is_ignored(client, account_a, family):
    charge = {"id": "ch_unknown", "object": "charge", "payment_intent": "pi_unknown"}
    response = deliver(client, signed(event("charge.refunded", charge)))
    assert response.status_code == 200 and "ignored" in response.json()["detail"]


def test_a_lock_timeout_answers_503_and_the_retry_succeeds(
    client, account_a, family, sandbox_url, monkeypatch
):
    attempt, intent = charged_but_unrecorded(account_a, family, sandbox_url)
    message = event("payment_intent.succeeded", intent_body(intent, account_a, attempt))
    real_settle = services.attempt_settle

    def busy(**kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(services, "attempt_settle", busy)
    response = deliver(client, signed(message))
    assert response.status_code == 503
    assert state(account_a)["payments"] == 0
    monkeypatch.setattr(services, "attempt_settle", real_settle)
    retry = deliver(client, signed(message))  # same event id: not a duplicate yet
    assert retry.status_code == 200
    assert state(account_a) == {"payments": 1, "events": 1, "statuses": ["succeeded"]}


def test_an_unreachable_gateway_answers_503(client, account_a, family, sandbox_url):
    from classbook.payments.models import GatewaySettings

    attempt, intent = charged_but_unrecorded(account_a, family, sandbox_url)
    with activate_account(account_a):
        GatewaySettings.objects.update(api_base="http://127.0.0.1:9")
    message = event("payment_intent.succeeded", intent_body(intent, account_a, attempt))
    assert deliver(client, signed(message)).status_code == 503
    assert state(account_a)["statuses"] == ["processing"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_held_row_lock_answers_503_on_postgresql(live_server, account_a, gateway, sandbox_url):
    """A real lock: another transaction holds the attempt row; the webhook waits at most
    its lock timeout and asks the gateway to come back."""
    if not is_postgres():
        pytest.skip("row locks with a timeout need PostgreSQL")
    import httpx
    from django.db import connections, transaction

    family = family_owing(account_a)
    attempt, intent = charged_but_unrecorded(account_a, family, sandbox_url)
    message = event("payment_intent.succeeded", intent_body(intent, account_a, attempt))
    locked, release = threading.Event(), threading.Event()

    def hold_the_lock():
        try:
            with activate_account(account_a), transaction.atomic():
                list(PaymentAttempt.objects.select_for_update().filter(pk=attempt.pk))
                locked.set()
                release.wait(20)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        assert locked.wait(10)
        body, signature = signed(message)
        started = time.monotonic()
        response = httpx.post(
            f"{live_server.url}{HOOK}",
            content=body,
            headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
            timeout=30,
        )
        assert response.status_code == 503
        assert time.monotonic() - started < webhooks.LOCK_TIMEOUT_MS / 1000 + 5
    finally:
        release.set()
        holder.join(30)
    response = httpx.post(
        f"{live_server.url}{HOOK}",
        content=body,
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 200
    assert state(account_a)["statuses"] == ["succeeded"]
    assert connection.vendor == "postgresql"


@pytest.mark.django_db(transaction=True)
def test_localstripe_delivers_events_to_the_live_server(
    live_server, account_a, gateway, sandbox_url
):
    """Real delivery: the sandbox signs and posts ``payment_intent.succeeded`` to our URL,
    which settles an attempt the app never heard back about."""
    family = family_owing(account_a)
    webhooks.sandbox_webhook_register(
        api_base=sandbox_url,
        url=f"{live_server.url}{HOOK}",
        secret="whsec_classbook_tests",
        name="live-test",
    )
    try:
        charged_but_unrecorded(account_a, family, sandbox_url)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if state(account_a)["statuses"] == ["succeeded"]:
                break
            time.sleep(0.25)
        assert state(account_a)["statuses"] == ["succeeded"]
        assert state(account_a)["payments"] == 1
        with activate_account(account_a):
            row = WebhookEvent.objects.get(
                type="payment_intent.succeeded", object_id=PaymentAttempt.objects.get().intent_id
            )
            assert row.processed_at is not None
    finally:
        # Stop this sandbox sending to a live server that is about to go away.
        unsubscribe = urllib.request.Request(
            f"{sandbox_url}/_config/webhooks/live-test",
            data=json.dumps({"url": "http://127.0.0.1:9/", "secret": "x", "events": []}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        urllib.request.urlopen(unsubscribe, timeout=10).read()
