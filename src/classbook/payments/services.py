"""Taking money exactly once. Read ARCHITECTURE.md invariant 4 before changing this.

The order is the whole point:

1. ``_attempt_open`` commits a PaymentAttempt (status pending) before any gateway call.
   The form's one-time token makes a double submit find the same attempt.
2. ``_claim`` moves it to *processing* with one conditional UPDATE; only the request that
   wins may call the gateway, so two tabs or a double click cannot both charge.
3. The PaymentIntent is created with ``metadata[attempt_id]`` and the attempt uuid as
   idempotency key, and its id is committed before it is confirmed.
4. ``attempt_settle`` records the outcome, the ledger payment and its applications in one
   transaction; the ledger's unique idempotency key ``gateway:<intent>`` makes a second
   recording impossible, whoever settles (the request, a webhook, the reconciler).

A lost response leaves the attempt *unknown*; it is settled by retrieving the intent
(or finding it by its metadata), never by charging again. No database row is locked
while the gateway is called.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction

from classbook.audit.actions import register_action
from classbook.audit.context import current_actor
from classbook.audit.services import created_fields, log_action
from classbook.core import clock, secrets
from classbook.core.errors import ValidationFailed
from classbook.core.tenancy import require_account
from classbook.families.models import Family
from classbook.ledger import services as ledger
from classbook.ledger.models import LedgerEntry
from classbook.ledger.selectors import refundable_cents
from classbook.payments.gateway import CardDeclined, GatewayRefused, GatewayUnavailable, Intent
from classbook.payments.models import (
    GatewayCustomer,
    GatewayRefundRecord,
    GatewaySettings,
    PaymentAttempt,
    ReconciliationIssue,
    SavedCard,
)
from classbook.payments.selectors import gateway_for_account

SETTINGS_SAVED = register_action("payments.settings_saved", "Gateway settings changed")
CARD_SAVED = register_action("payments.card_saved", "Card saved on file")
CARD_REMOVED = register_action("payments.card_removed", "Card removed")
ATTEMPT_STARTED = register_action("payments.attempt_started", "Card payment started")
ATTEMPT_SETTLED = register_action("payments.attempt_settled", "Card payment settled")
REFUND_STARTED = register_action("payments.refund_started", "Gateway refund started")
REFUND_SETTLED = register_action("payments.refund_settled", "Gateway refund settled")
CARD_AUTOPAY_SET = register_action("payments.card_autopay", "Autopay card chosen")
ISSUE_REVIEWED = register_action("payments.issue_reviewed", "Reconciliation difference reviewed")

Status = PaymentAttempt.Status
# An attempt whose outcome is unknown blocks a new one for the same thing this long.
UNSETTLED_TWIN_WINDOW = timedelta(minutes=30)
# An attempt with no intent found at the gateway after this long never reached it.
NEVER_SENT_AFTER = timedelta(minutes=10)

# What else happens when an attempt of a purpose succeeds (the portal converts its cart).
# ``hook(attempt)`` runs inside the settling transaction.
SETTLEMENT_HOOKS: dict[str, list[Callable[[PaymentAttempt], None]]] = {}


def _actor_user():
    user = current_actor().user
    return user if user is not None and user.account_id else None


def _require_gateway():
    gateway = gateway_for_account()
    if gateway is None:
        raise ValidationFailed(
            "Card payments are not set up for this business yet (no gateway settings)."
        )
    return gateway


@transaction.atomic
def gateway_settings_save(
    *,
    publishable_key: str,
    secret_key: str,
    webhook_secret: str = "",
    api_base: str = "",
    mode: str = "test",
    duplicate_policy: str = "refund",
    autopay_retry_days: list[int] | None = None,
) -> GatewaySettings:
    current = GatewaySettings.objects.select_for_update().first() or GatewaySettings()
    if not publishable_key.startswith("pk_") or not (secret_key or current.pk):
        raise ValidationFailed({"publishable_key": ["Enter the gateway's keys (pk_… and sk_…)."]})
    if secret_key and not secret_key.startswith(("sk_", "rk_")):
        raise ValidationFailed({"secret_key": ["A secret key starts with sk_ or rk_."]})
    current.publishable_key, current.api_base = publishable_key.strip(), api_base.strip()
    current.mode, current.duplicate_policy = mode, duplicate_policy
    if secret_key:
        current.secret_key_encrypted = secrets.encrypt(secret_key.strip())
    if webhook_secret:
        current.webhook_secret_encrypted = secrets.encrypt(webhook_secret.strip())
    current.autopay_retry_days = sorted(set(autopay_retry_days or [1, 3, 7]))
    current.updated_at = clock.now()
    current.save()
    changes = {
        "mode": [None, mode],
        "publishable_key": [None, current.publishable_key],
        "api_base": [None, current.api_base],
        "duplicate_policy": [None, duplicate_policy],
    }
    # A secret left empty is kept, and is then not a change (masked when it is one).
    if secret_key:
        changes["secret_key"] = [None, "replaced"]
    if webhook_secret:
        changes["webhook_secret"] = [None, "replaced"]
    log_action(action=SETTINGS_SAVED, obj=current, label="Gateway settings", changes=changes)
    return current


def _customer_id(family: Family, gateway) -> str:
    existing = GatewayCustomer.objects.filter(family=family).first()
    if existing:
        return existing.customer_id
    customer_id = gateway.create_customer(
        email="",
        name=str(family),
        metadata={"family_id": str(family.pk), "account": require_account().slug},
    )
    with transaction.atomic():
        record, _ = GatewayCustomer.objects.get_or_create(
            family=family, defaults={"customer_id": customer_id}
        )
    return record.customer_id


def card_save(
    *,
    family: Family,
    payment_method_id: str,
    make_default: bool = True,
    use_for_autopay: bool = False,
    guardian=None,
) -> SavedCard:
    """Keep a card tokenized in the browser on file (the gateway calls run first, with no
    row locked; then one transaction records it)."""
    gateway = _require_gateway()
    method = gateway.attach_payment_method(
        customer_id=_customer_id(family, gateway), payment_method_id=payment_method_id
    )
    with transaction.atomic():
        if make_default:
            SavedCard.objects.filter(family=family, is_default=True).update(is_default=False)
        if use_for_autopay:
            SavedCard.objects.filter(family=family).update(use_for_autopay=False)
        card, _ = SavedCard.objects.update_or_create(
            payment_method_id=method.id,
            defaults={
                "family": family,
                "guardian": guardian,
                "brand": method.brand,
                "last4": method.last4,
                "exp_month": method.exp_month,
                "exp_year": method.exp_year,
                "is_default": make_default,
                "use_for_autopay": use_for_autopay,
                "removed_at": None,
            },
        )
        log_action(
            action=CARD_SAVED,
            obj=family,
            label=str(family),
            changes=created_fields({"card": str(card), "autopay": use_for_autopay}),
        )
    return card


def card_setup_start(*, family: Family) -> tuple[str, str]:
    """A SetupIntent for the browser: ``(id, client secret)``. Stripe.js sends the card
    from the browser to the gateway with it (``confirmCardSetup``) and hands back only a
    payment-method id. Nothing of ours changes but the family's gateway customer link (no
    audit entry: the card is audited when it is saved or charged)."""
    gateway = _require_gateway()
    return gateway.create_setup_intent(customer_id=_customer_id(family, gateway))


@transaction.atomic
def card_autopay_set(*, card: SavedCard, use_for_autopay: bool) -> SavedCard:
    """Choose the family's card for autopay (one at most), or stop using it."""
    card = SavedCard.objects.select_for_update().get(pk=card.pk)
    if card.removed_at is not None:
        raise ValidationFailed("This card was removed; save it again to use it.")
    if use_for_autopay:
        SavedCard.objects.filter(family_id=card.family_id).exclude(pk=card.pk).update(
            use_for_autopay=False
        )
    before = card.use_for_autopay
    card.use_for_autopay = use_for_autopay
    card.save(update_fields=["use_for_autopay"])
    log_action(
        action=CARD_AUTOPAY_SET,
        obj=card.family,
        label=str(card.family),
        changes={f"autopay · {card}": [before, use_for_autopay]},
    )
    return card


@transaction.atomic
def card_remove(*, card: SavedCard) -> SavedCard:
    card = SavedCard.objects.select_for_update().get(pk=card.pk)
    card.removed_at, card.is_default, card.use_for_autopay = clock.now(), False, False
    card.save(update_fields=["removed_at", "is_default", "use_for_autopay"])
    log_action(
        action=CARD_REMOVED,
        obj=card.family,
        label=str(card.family),
        changes={"card": [str(card), None]},
    )
    return card


@dataclass(frozen=True)
class PaymentResult:
    attempt: PaymentAttempt
    message: str

    @property
    def succeeded(self) -> bool:
        return self.attempt.status == Status.SUCCEEDED

    @property
    def failed(self) -> bool:
        return self.attempt.status == Status.FAILED

    @property
    def unsettled(self) -> bool:
        return self.attempt.status in (Status.PENDING, Status.PROCESSING, Status.UNKNOWN)


def _attempt_open(
    *,
    family: Family,
    amount_cents: int,
    purpose: str,
    payment_method_id: str,
    request_token: str,
    apply_to,
    cart: str,
    location,
    card_label: str,
) -> PaymentAttempt:
    """Commit the attempt (or find the one this form already started)."""
    if request_token:
        existing = PaymentAttempt.objects.filter(request_token=request_token).first()
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            attempt = PaymentAttempt.objects.create(
                family=family,
                amount_cents=amount_cents,
                currency=require_account().currency,
                purpose=purpose,
                apply_to=[[e.pk, c] for e, c in apply_to],
                cart=cart,
                request_token=request_token,
                payment_method_id=payment_method_id,
                card_label=card_label,
                location=location,
                created_by=_actor_user(),
            )
            log_action(
                action=ATTEMPT_STARTED,
                obj=attempt,
                label=str(family),
                changes=created_fields(
                    {"amount_cents": amount_cents, "purpose": purpose, "card": card_label}
                ),
            )
    except IntegrityError:  # the same token won a race in another request
        return PaymentAttempt.objects.get(request_token=request_token)
    return attempt


def _claim(attempt: PaymentAttempt) -> bool:
    """Only one request may call the gateway for an attempt."""
    return bool(
        PaymentAttempt.objects.filter(pk=attempt.pk, status=Status.PENDING).update(
            status=Status.PROCESSING, updated_at=clock.now()
        )
    )


def _mark(attempt: PaymentAttempt, **fields) -> None:
    PaymentAttempt.objects.filter(pk=attempt.pk).update(updated_at=clock.now(), **fields)
    for name, value in fields.items():
        setattr(attempt, name, value)


def _mark_unknown(attempt: PaymentAttempt) -> None:
    """Only a request still processing may say "unknown": a webhook or the reconciler may
    have settled the attempt meanwhile, and that outcome must not be overwritten."""
    PaymentAttempt.objects.filter(pk=attempt.pk, status=Status.PROCESSING).update(
        status=Status.UNKNOWN, updated_at=clock.now()
    )
    attempt.refresh_from_db()


def _unsettled_twin(family: Family, purpose: str, cart: str) -> PaymentAttempt | None:
    """An earlier attempt for the same thing whose outcome is not known yet."""
    since = clock.now() - UNSETTLED_TWIN_WINDOW
    return (
        PaymentAttempt.objects.filter(
            family=family,
            purpose=purpose,
            cart=cart,
            created_at__gte=since,
            status__in=[Status.PENDING, Status.PROCESSING, Status.UNKNOWN],
        )
        .order_by("-created_at")
        .first()
    )


def payment_take(
    *,
    family: Family,
    payment_method_id: str,
    amount_cents: int,
    purpose: str,
    request_token: str,
    apply_to=(),
    cart: str = "",
    location=None,
    card_label: str = "",
) -> PaymentResult:
    """Charge a card (saved, or tokenized in the browser) once, whatever happens."""
    if not isinstance(amount_cents, int) or amount_cents <= 0:
        raise ValidationFailed({"amount": ["The amount must be more than zero."]})
    gateway = _require_gateway()
    for _ in range(2):  # a twin that turns out failed lets us try once more
        with transaction.atomic():
            # Two tabs or two guardians at the same moment queue here (no gateway call is
            # made while the lock is held), so only one of them opens an attempt.
            Family.objects.select_for_update().filter(pk=family.pk).exists()
            twin = _unsettled_twin(family, purpose, cart)
            if twin is None or twin.request_token == request_token:
                attempt = _attempt_open(
                    family=family,
                    amount_cents=amount_cents,
                    purpose=purpose,
                    payment_method_id=payment_method_id,
                    request_token=request_token,
                    apply_to=apply_to,
                    cart=cart,
                    location=location,
                    card_label=card_label,
                )
                break
        twin = attempt_resolve(attempt=twin, gateway=gateway)
        if twin.status == Status.SUCCEEDED:
            return PaymentResult(
                twin, "This was already paid a moment ago; nothing more was charged."
            )
        if twin.status != Status.FAILED:
            return PaymentResult(
                twin,
                "An earlier payment is still being confirmed by the card processor. Wait a "
                "few minutes before trying again; nothing more was charged.",
            )
    else:
        return PaymentResult(twin, "Please try again.")
    if attempt.status != Status.PENDING or not _claim(attempt):
        attempt.refresh_from_db()
        return _result(attempt)
    customer = GatewayCustomer.objects.filter(family=family).first()
    try:
        intent = gateway.create_intent(
            amount_cents=attempt.amount_cents,
            currency=attempt.currency,
            payment_method_id=payment_method_id,
            customer_id=customer.customer_id if customer else None,
            metadata={
                "attempt_id": str(attempt.uuid),
                "account": require_account().slug,
                "family_id": str(family.pk),
            },
            idempotency_key=str(attempt.uuid),
        )
        _mark(attempt, intent_id=intent.id)
        intent = gateway.confirm_intent(intent_id=intent.id)
    except CardDeclined as declined:
        _mark_unknown(attempt)
        if attempt.intent_id:
            intent = _safe_retrieve(gateway, attempt.intent_id)
            if intent is None:
                return _result(attempt)
        else:
            return _result(attempt_fail(attempt=attempt, message=str(declined)))
    except GatewayUnavailable:
        _mark_unknown(attempt)
        return _result(attempt)
    except GatewayRefused as refused:
        return _result(attempt_fail(attempt=attempt, message=str(refused)))
    return _result(attempt_settle(attempt=attempt, intent=intent))


def _safe_retrieve(gateway, intent_id: str) -> Intent | None:
    try:
        return gateway.retrieve_intent(intent_id=intent_id)
    except (GatewayUnavailable, GatewayRefused):
        return None


def _result(attempt: PaymentAttempt) -> PaymentResult:
    if attempt.status == Status.SUCCEEDED:
        return PaymentResult(attempt, "Payment received. Thank you!")
    if attempt.status == Status.FAILED:
        return PaymentResult(attempt, attempt.failure_message or "The payment did not go through.")
    return PaymentResult(
        attempt,
        "The payment could not be confirmed yet. Nothing is lost: "
        "we check with the card processor automatically and the "
        "balance updates within a few minutes.",
    )


@transaction.atomic
def attempt_fail(*, attempt: PaymentAttempt, message: str) -> PaymentAttempt:
    attempt = PaymentAttempt.objects.select_for_update().get(pk=attempt.pk)
    if attempt.status in (Status.SUCCEEDED, Status.FAILED):
        return attempt
    attempt.status, attempt.failure_message = Status.FAILED, message[:300]
    attempt.updated_at = clock.now()
    attempt.save(update_fields=["status", "failure_message", "updated_at"])
    log_action(
        action=ATTEMPT_SETTLED,
        obj=attempt,
        label=str(attempt.family),
        changes={"status": [None, "failed"], "reason": [None, message[:300]]},
    )
    return attempt


def _applications(attempt: PaymentAttempt) -> list[tuple[LedgerEntry, int]]:
    """The charges the attempt meant to pay, still open (else they go oldest first)."""
    from classbook.ledger.selectors import open_items

    wanted = {entry_id: cents for entry_id, cents in attempt.apply_to}
    if not wanted:
        return []
    left = attempt.amount_cents
    chosen = []
    for item in open_items(attempt.family, direction=1):
        if item.entry.pk in wanted and left > 0:
            cents = min(wanted[item.entry.pk], item.open_cents, left)
            if cents > 0:
                chosen.append((item.entry, cents))
                left -= cents
    return chosen


@transaction.atomic
def attempt_settle(
    *, attempt: PaymentAttempt, intent: Intent, by_reconciler: bool = False
) -> PaymentAttempt:
    """Record what the gateway says happened, once (idempotent)."""
    attempt = PaymentAttempt.objects.select_for_update().get(pk=attempt.pk)
    if attempt.status == Status.SUCCEEDED or (
        attempt.status == Status.FAILED and not intent.succeeded
    ):
        return attempt
    if intent.succeeded:
        if intent.amount_cents != attempt.amount_cents:
            raise ValidationFailed(
                f"The gateway charged {intent.amount_cents} cents for an "
                f"attempt of {attempt.amount_cents}."
            )
        entry = ledger.payment_record(
            family=attempt.family,
            method=LedgerEntry.PaymentMethod.CARD,
            amount_cents=intent.amount_cents,
            description=f"Card payment {attempt.card_label}".strip(),
            reference=intent.charge_id or intent.id,
            location=attempt.location,
            apply_to=_applications(attempt) or None,
            entry_date=_account_date(intent.created),
            idempotency_key=f"gateway:{intent.id}",
        )
        attempt.status, attempt.ledger_entry = Status.SUCCEEDED, entry
        attempt.intent_id, attempt.charge_id = intent.id, intent.charge_id
        attempt.recorded_by_reconciler = by_reconciler
        if by_reconciler:  # flagged by the call that recorded it, in its transaction
            ReconciliationIssue.objects.get_or_create(
                kind=ReconciliationIssue.Kind.MISSING_PAYMENT,
                gateway_id=intent.id,
                defaults={
                    "attempt": attempt,
                    "amount_cents": intent.amount_cents,
                    "needs_review": True,
                    "action": "Recorded on the ledger by the reconciler.",
                },
            )
        for hook in SETTLEMENT_HOOKS.get(attempt.purpose, []):
            hook(attempt)
    elif intent.failed:
        attempt.status = Status.FAILED
        attempt.failure_message = (intent.failure_message or "The card was declined.")[:300]
    else:
        attempt.status = Status.UNKNOWN  # still processing at the gateway
    attempt.updated_at = clock.now()
    attempt.save()
    if attempt.status == Status.FAILED:  # a success is audited as the ledger payment
        log_action(
            action=ATTEMPT_SETTLED,
            obj=attempt,
            label=str(attempt.family),
            changes={
                "status": [None, attempt.status],
                "intent": [None, intent.id],
                "reason": [None, attempt.failure_message],
            },
        )
    return attempt


def _account_date(moment):
    """The day a gateway timestamp falls on where the business is (not the UTC day), so
    an evening payment is on that evening's deposit."""
    if moment is None:
        return None
    return moment.astimezone(zoneinfo.ZoneInfo(require_account().timezone)).date()


def attempt_resolve(
    *, attempt: PaymentAttempt, gateway=None, by_reconciler: bool = False
) -> PaymentAttempt:
    """Settle an attempt whose outcome is unknown from what the gateway knows."""
    gateway = gateway or _require_gateway()
    attempt.refresh_from_db()
    if attempt.status in (Status.SUCCEEDED, Status.FAILED):
        return attempt
    intent = None
    if attempt.intent_id:
        intent = _safe_retrieve(gateway, attempt.intent_id)
    else:
        try:
            candidates = gateway.list_intents(since=attempt.created_at - timedelta(minutes=5))
        except GatewayUnavailable:
            return attempt
        matching = [i for i in candidates if i.metadata.get("attempt_id") == str(attempt.uuid)]
        if matching:
            intent = next((i for i in matching if i.succeeded), matching[0])
            _mark(attempt, intent_id=intent.id)
        elif clock.now() - attempt.created_at > NEVER_SENT_AFTER:
            return attempt_fail(
                attempt=attempt,
                message="The payment never reached the card processor; nothing was charged.",
            )
    if intent is None:
        return attempt
    if (
        intent.status == "requires_confirmation"
        and clock.now() - attempt.created_at > NEVER_SENT_AFTER
    ):
        # Created but never confirmed (its confirmation was lost): no money moved.
        return attempt_fail(
            attempt=attempt, message="The payment was not completed; nothing was charged."
        )
    return attempt_settle(attempt=attempt, intent=intent, by_reconciler=by_reconciler)


def gateway_refund(*, payment: LedgerEntry, amount_cents: int, reason: str) -> GatewayRefundRecord:
    """Refund (part of) a card payment at the gateway, then on the ledger, once."""
    if not isinstance(amount_cents, int) or amount_cents <= 0:
        raise ValidationFailed({"amount": ["The amount must be more than zero."]})
    gateway = _require_gateway()
    with transaction.atomic():
        attempt = PaymentAttempt.objects.select_for_update().filter(ledger_entry=payment).first()
        if attempt is None:
            raise ValidationFailed(
                "This payment was not taken through the gateway; record "
                "the refund on the ledger instead."
            )
        pending = sum(
            GatewayRefundRecord.objects.filter(
                attempt=attempt, status__in=["pending", "unknown"]
            ).values_list("amount_cents", flat=True)
        )
        available = refundable_cents(payment) - pending
        if amount_cents > available:
            raise ValidationFailed(
                {
                    "amount": [
                        f"At most {available / 100:.2f} of this payment can still be refunded."
                    ]
                }
            )
        record = GatewayRefundRecord.objects.create(
            attempt=attempt,
            amount_cents=amount_cents,
            reason=reason.strip() or "Refund",
            created_by=_actor_user(),
        )
        log_action(
            action=REFUND_STARTED,
            obj=record,
            label=str(attempt.family),
            changes=created_fields({"amount_cents": amount_cents, "reason": reason}),
        )
    try:
        refund = gateway.refund(
            intent_id=attempt.intent_id,
            amount_cents=amount_cents,
            metadata={"refund_uuid": str(record.uuid), "account": require_account().slug},
            idempotency_key=str(record.uuid),
        )
    except GatewayUnavailable:
        GatewayRefundRecord.objects.filter(pk=record.pk).update(status="unknown")
        record.status = "unknown"
        return record
    except (CardDeclined, GatewayRefused) as refused:
        GatewayRefundRecord.objects.filter(pk=record.pk).update(
            status="failed", failure_message=str(refused)
        )
        raise ValidationFailed(f"The card processor refused the refund: {refused}") from None
    return refund_settle(
        record=record, refund_id=refund.id, succeeded=refund.status in ("succeeded", "pending")
    )


@transaction.atomic
def refund_settle(
    *, record: GatewayRefundRecord, refund_id: str, succeeded: bool
) -> GatewayRefundRecord:
    record = GatewayRefundRecord.objects.select_for_update().get(pk=record.pk)
    if record.status in ("succeeded", "failed"):
        return record
    if succeeded:
        entry = ledger.refund_post(
            payment=record.attempt.ledger_entry,
            amount_cents=record.amount_cents,
            description=f"Card refund: {record.reason}",
            reference=refund_id,
            idempotency_key=f"gateway-refund:{refund_id}",
        )
        record.status, record.refund_id, record.ledger_entry = "succeeded", refund_id, entry
    else:
        record.status, record.refund_id = "failed", refund_id
    record.save()
    if record.status == "failed":  # a success is audited as the ledger refund
        log_action(
            action=REFUND_SETTLED,
            obj=record,
            label=str(record.attempt.family),
            changes={"status": [None, record.status], "refund": [None, refund_id]},
        )
    return record


@transaction.atomic
def reconciliation_issue_review(*, issue: ReconciliationIssue) -> ReconciliationIssue:
    """Staff looked at a difference the reconciler found: it no longer needs review."""
    issue = ReconciliationIssue.objects.select_for_update().get(pk=issue.pk)
    if not issue.needs_review:
        return issue
    issue.needs_review = False
    issue.save(update_fields=["needs_review"])
    log_action(
        action=ISSUE_REVIEWED,
        obj=issue,
        label=issue.get_kind_display(),
        changes={"needs_review": [True, False], "gateway_id": [None, issue.gateway_id]},
    )
    return issue
