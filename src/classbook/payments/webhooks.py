"""The gateway's webhook: ``POST /<account>/hooks/gateway/``.

- The signature is checked with the account's webhook secret; a bad one, or an event type
  we do not handle, answers 400 (logged) and changes nothing.
- Events are de-duplicated by id (``WebhookEvent``): one already processed answers 200 at
  once. Processing is idempotent anyway (``attempt_settle`` and the refund step settle
  once), so a delivery that failed half-way is simply processed again.
- The event body is never trusted for the outcome: the PaymentIntent is fetched again
  from the gateway, so events arriving out of order settle to the gateway's truth.
- Lock waits are bounded; a lock timeout or an unreachable gateway answers 503, and the
  gateway delivers the event again later. No row lock is held while the gateway is
  called.
"""

from __future__ import annotations

import json
import logging
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Q
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from classbook.core import clock
from classbook.core.errors import ValidationFailed
from classbook.core.tenancy import require_account
from classbook.payments import services
from classbook.payments.gateway import GatewayRefused, GatewayUnavailable
from classbook.payments.models import PaymentAttempt, WebhookEvent
from classbook.payments.reconcile import ReconcileReport, reconcile_refunds
from classbook.payments.selectors import gateway_for_account, gateway_settings
from classbook.staff.access import PUBLIC, office_view

logger = logging.getLogger(__name__)

LOCK_TIMEOUT_MS = 3000
EVENTS = ("payment_intent.succeeded", "payment_intent.payment_failed", "charge.refunded")


class RetryLater(Exception):
    """Answer 503: the gateway delivers the event again later."""


@dataclass(frozen=True)
class Outcome:
    status: int
    message: str


def _is_lock_timeout(exc: OperationalError) -> bool:
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    return sqlstate in ("55P03", "40P01") or "database is locked" in str(exc)


@contextmanager
def bounded_locks() -> Iterator[None]:
    """One transaction whose lock waits end after ``LOCK_TIMEOUT_MS`` (PostgreSQL; SQLite
    writers queue on the database lock and time out with "database is locked")."""
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_MS}ms'")
            yield
    except OperationalError as exc:
        if _is_lock_timeout(exc):
            raise RetryLater("the payment is busy (lock timeout)") from exc
        raise
    except IntegrityError as exc:  # another delivery of the same object won the race
        raise RetryLater("recorded by a concurrent delivery") from exc


def _attempt_for(metadata: dict, intent_id: str) -> PaymentAttempt | None:
    attempt_id = metadata.get("attempt_id", "")
    try:
        attempt_uuid = uuid.UUID(attempt_id) if attempt_id else None
    except ValueError:
        attempt_uuid = None
    attempt = None
    if attempt_uuid is not None:
        attempt = PaymentAttempt.objects.filter(uuid=attempt_uuid).first()
    if attempt is None and intent_id:
        attempt = PaymentAttempt.objects.filter(intent_id=intent_id).first()
    return attempt


def _intent_event(obj: dict, gateway) -> str:
    intent_id = obj.get("id") or ""
    metadata = obj.get("metadata") or {}
    if metadata.get("account") != require_account().slug:
        return "not a payment of this account; ignored"
    attempt = _attempt_for(metadata, intent_id)
    if attempt is None:
        return "no attempt of ours; the reconciler flags it"
    intent = gateway.retrieve_intent(intent_id=intent_id)  # the gateway's truth, not the body
    if attempt.intent_id and attempt.intent_id != intent.id:
        return "a second intent for one attempt; left to the reconciler"
    with bounded_locks():
        settled = services.attempt_settle(attempt=attempt, intent=intent)
    return f"attempt {settled.uuid}: {settled.status}"


def _refund_event(obj: dict, gateway) -> str:
    charge_id = obj.get("id") or ""
    intent_id = obj.get("payment_intent") or ""
    if isinstance(intent_id, dict):
        intent_id = intent_id.get("id", "")
    attempt = PaymentAttempt.objects.filter(
        Q(charge_id=charge_id, charge_id__gt="") | Q(intent_id=intent_id, intent_id__gt="")
    ).first()
    if attempt is None:
        return "not a payment of this account; ignored"
    since = attempt.created_at - timedelta(minutes=5)
    refunds = [
        refund
        for refund in gateway.list_refunds(since=since)
        if (charge_id and refund.charge_id == charge_id)
        or (attempt.intent_id and refund.intent_id == attempt.intent_id)
    ]
    report = ReconcileReport()
    with bounded_locks():
        reconcile_refunds(refunds, report)
    return f"{report.refunds_recorded} refund(s) recorded"


HANDLERS: dict[str, Callable[[dict, object], str]] = {
    "payment_intent.succeeded": _intent_event,
    "payment_intent.payment_failed": _intent_event,
    "charge.refunded": _refund_event,
}


def _event_row(event_id: str, event_type: str, object_id: str) -> WebhookEvent:
    try:
        with transaction.atomic():
            return WebhookEvent.objects.get_or_create(
                event_id=event_id, defaults={"type": event_type, "object_id": object_id[:100]}
            )[0]
    except IntegrityError:
        return WebhookEvent.objects.get(event_id=event_id)


def webhook_receive(*, payload: bytes, signature: str) -> Outcome:
    """Check, de-duplicate and process one delivery (inside the account of the URL)."""
    slug = require_account().slug
    settings = gateway_settings()
    gateway = gateway_for_account()
    if gateway is None or settings is None or not settings.webhook_secret:
        logger.warning("webhook refused: no webhook secret", extra={"fields": {"account": slug}})
        return Outcome(400, "This account has no webhook secret.")
    try:
        event = gateway.verify_webhook(payload=payload, signature=signature)
    except GatewayRefused as exc:
        logger.warning(
            "webhook refused: bad signature",
            extra={"fields": {"account": slug, "error": str(exc)[:200]}},
        )
        return Outcome(400, "Bad signature.")
    event_id, event_type = str(event.get("id") or ""), str(event.get("type") or "")
    obj = (event.get("data") or {}).get("object") or {}
    if not event_id or event_type not in HANDLERS or not isinstance(obj, dict):
        logger.warning(
            "webhook refused: unknown event",
            extra={"fields": {"account": slug, "event": event_id, "type": event_type}},
        )
        return Outcome(400, f"Unknown event type {event_type!r}.")
    row = _event_row(event_id, event_type, str(obj.get("id") or ""))
    if row.processed_at is not None:
        return Outcome(200, f"duplicate of an event processed already ({row.outcome})")
    try:
        outcome = HANDLERS[event_type](obj, gateway)
    except (RetryLater, GatewayUnavailable) as exc:
        logger.warning(
            "webhook deferred",
            extra={"fields": {"account": slug, "event": event_id, "reason": str(exc)[:200]}},
        )
        return Outcome(503, "Busy; deliver this event again later.")
    except ValidationFailed as exc:  # the gateway disagrees with the attempt: staff decide
        logger.error(
            "webhook not applied",
            extra={"fields": {"account": slug, "event": event_id, "reason": str(exc)[:200]}},
        )
        outcome = f"not applied: {exc}"
    WebhookEvent.objects.filter(pk=row.pk).update(processed_at=clock.now(), outcome=outcome[:300])
    logger.info(
        "webhook processed",
        extra={"fields": {"account": slug, "event": event_id, "outcome": outcome}},
    )
    return Outcome(200, outcome)


@csrf_exempt
@office_view(PUBLIC)  # the gateway is not a person: the signature is its log-in
@require_POST
def gateway_webhook(request):
    outcome = webhook_receive(
        payload=request.body, signature=request.headers.get("Stripe-Signature", "")
    )
    return JsonResponse(
        {"received": outcome.status == 200, "detail": outcome.message}, status=outcome.status
    )


def sandbox_webhook_register(*, api_base: str, url: str, secret: str, name: str) -> None:
    """Ask the localstripe sandbox to deliver our events to ``url`` (its
    ``POST /_config/webhooks/<name>``). Stripe itself is configured in its dashboard."""
    body = json.dumps({"url": url, "secret": secret, "events": list(EVENTS)}).encode()
    request = urllib.request.Request(
        f"{api_base.rstrip('/')}/_config/webhooks/{name}",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
    except OSError as exc:
        raise GatewayUnavailable(f"the sandbox at {api_base} did not answer: {exc}") from exc
