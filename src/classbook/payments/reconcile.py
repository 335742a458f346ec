"""Bring the ledger in line with the gateway (a periodic step, and a button).

1. Attempts left pending/processing/unknown converge to the gateway's truth.
2. Every succeeded gateway payment carrying one of our attempt ids is on the ledger once:
   a missing one is recorded (and flagged for review); a second success for an attempt
   that is already paid is a duplicate, refunded automatically or flagged (account
   setting). A success with no attempt of ours is flagged.
3. Every gateway refund is on the ledger once; a missing one is recorded and flagged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q

from classbook.audit.actions import register_action
from classbook.audit.services import log_action
from classbook.core import clock
from classbook.core.tenancy import require_account
from classbook.payments.gateway import GatewayRefused, GatewayUnavailable, Refund
from classbook.payments.models import (
    GatewayRefundRecord,
    GatewaySettings,
    PaymentAttempt,
    ReconciliationIssue,
)
from classbook.payments.selectors import gateway_for_account, gateway_settings
from classbook.payments.services import (
    NEVER_SENT_AFTER,
    attempt_resolve,
    attempt_settle,
    refund_settle,
)

ISSUE_RECORDED = register_action("payments.reconciliation_issue", "Reconciliation difference")

STUCK_AFTER = timedelta(minutes=1)
DEFAULT_WINDOW = timedelta(days=3)
Kind = ReconciliationIssue.Kind


@dataclass
class ReconcileReport:
    settled: int = 0
    recorded: int = 0
    duplicates: int = 0
    refunds_recorded: int = 0
    flagged: int = 0
    errors: list[str] = field(default_factory=list)


def _issue(
    kind: str,
    gateway_id: str,
    *,
    attempt=None,
    amount_cents: int = 0,
    action: str,
    needs_review: bool,
) -> bool:
    """Record a difference once; returns False when it was already known."""
    try:
        with transaction.atomic():
            issue = ReconciliationIssue.objects.create(
                kind=kind,
                gateway_id=gateway_id,
                attempt=attempt,
                amount_cents=amount_cents,
                action=action,
                needs_review=needs_review,
            )
            log_action(
                action=ISSUE_RECORDED,
                obj=issue,
                label=issue.get_kind_display(),
                changes={"gateway_id": [None, gateway_id], "action": [None, action]},
            )
    except IntegrityError:
        return False
    return True


def reconcile(*, since: datetime | None = None, now: datetime | None = None) -> ReconcileReport:
    report = ReconcileReport()
    gateway = gateway_for_account()
    if gateway is None:
        return report
    now = now or clock.now()
    since = since or now - DEFAULT_WINDOW
    # Look back far enough to see the refund of any record still open.
    oldest_open = (
        GatewayRefundRecord.objects.filter(status__in=["pending", "unknown"])
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if oldest_open is not None:
        since = min(since, oldest_open - timedelta(minutes=5))
    slug = require_account().slug
    # 1. stuck attempts
    for attempt in PaymentAttempt.objects.filter(
        status__in=["pending", "processing", "unknown"], created_at__lte=now - STUCK_AFTER
    ):
        before = attempt.status
        settled = attempt_resolve(attempt=attempt, gateway=gateway, by_reconciler=True)
        if settled.status != before:
            report.settled += 1
    # 2. gateway payments
    try:
        intents = [
            i for i in gateway.list_intents(since=since) if i.metadata.get("account") == slug
        ]
        refunds = gateway.list_refunds(since=since)
    except GatewayUnavailable as exc:
        report.errors.append(f"gateway unreachable: {exc}")
        return report
    by_uuid = {
        str(a.uuid): a
        for a in PaymentAttempt.objects.filter(
            uuid__in=[i.metadata.get("attempt_id") for i in intents if i.metadata.get("attempt_id")]
        )
    }
    settings = gateway_settings()
    for intent in (i for i in intents if i.succeeded):
        attempt = by_uuid.get(intent.metadata.get("attempt_id", ""))
        if attempt is None:
            report.flagged += _issue(
                Kind.UNKNOWN_PAYMENT,
                intent.id,
                amount_cents=intent.amount_cents,
                needs_review=True,
                action="Not started by Classbook: check who took it.",
            )
            continue
        attempt.refresh_from_db()
        if attempt.status != "succeeded":
            settled = attempt_settle(attempt=attempt, intent=intent, by_reconciler=True)
            report.recorded += settled.recorded_by_reconciler and settled.intent_id == intent.id
        elif attempt.intent_id != intent.id:
            report.duplicates += _duplicate(attempt, intent, gateway, settings)
    # 3. gateway refunds
    reconcile_refunds(refunds, report)
    # 4. refunds we started that never reached the gateway (a crash, a refused request)
    seen = {r.metadata.get("refund_uuid") for r in refunds}
    for record in GatewayRefundRecord.objects.filter(
        status__in=["pending", "unknown"], created_at__lte=now - NEVER_SENT_AFTER
    ):
        if str(record.uuid) not in seen:
            refund_settle(record=record, refund_id="", succeeded=False)
            report.settled += 1
    return report


def reconcile_refunds(refunds: list[Refund], report: ReconcileReport) -> None:
    """Step 3, also run by the ``charge.refunded`` webhook for one payment's refunds:
    every refund at the gateway is on the ledger once."""
    for refund in refunds:
        if refund.status not in ("succeeded", "pending"):
            continue
        refund_uuid = refund.metadata.get("refund_uuid")
        record = (
            GatewayRefundRecord.objects.filter(uuid=refund_uuid).first() if refund_uuid else None
        )
        if record is not None:
            if record.status != "succeeded":
                refund_settle(record=record, refund_id=refund.id, succeeded=True)
                report.refunds_recorded += _issue(
                    Kind.MISSING_REFUND,
                    refund.id,
                    attempt=record.attempt,
                    amount_cents=refund.amount_cents,
                    needs_review=False,
                    action="Refund recorded on the ledger by the reconciler.",
                )
            continue
        attempt = PaymentAttempt.objects.filter(
            Q(intent_id=refund.intent_id, intent_id__gt="")
            | Q(charge_id=refund.charge_id, charge_id__gt="")
        ).first()
        if attempt is None or attempt.ledger_entry_id is None:
            continue  # another account's refund, or a duplicate's refund handled above
        if GatewayRefundRecord.objects.filter(refund_id=refund.id).exists():
            continue
        with transaction.atomic():
            record = GatewayRefundRecord.objects.create(
                attempt=attempt,
                amount_cents=refund.amount_cents,
                reason="Refunded at the gateway directly",
            )
            refund_settle(record=record, refund_id=refund.id, succeeded=True)
        report.refunds_recorded += _issue(
            Kind.MISSING_REFUND,
            refund.id,
            attempt=attempt,
            amount_cents=refund.amount_cents,
            needs_review=True,
            action="Refund made outside Classbook recorded on the ledger.",
        )


def _duplicate(attempt, intent, gateway, settings: GatewaySettings | None) -> int:
    """A second success for an attempt already paid: refund it (policy) or flag it."""
    refund_it = settings is None or settings.duplicate_policy == "refund"
    # Claim first: the issue's unique constraint lets one reconciler act, so two running
    # at once never refund the second charge twice.
    if not _issue(
        Kind.DUPLICATE,
        intent.id,
        attempt=attempt,
        amount_cents=intent.amount_cents,
        needs_review=True,
        action="Charged twice for one attempt; being handled.",
    ):
        return 0
    action = "Flagged for staff: charged twice for one attempt."
    if refund_it and intent.amount_refunded_cents < intent.amount_cents:
        try:
            gateway.refund(
                intent_id=intent.id,
                amount_cents=intent.amount_cents - intent.amount_refunded_cents,
                metadata={"duplicate_of": attempt.intent_id},
                idempotency_key=f"duplicate-{intent.id}",
            )
            action = "Second charge refunded automatically at the gateway."
        except (GatewayUnavailable, GatewayRefused) as exc:
            action = f"Refund of the second charge failed ({exc}); flagged for staff."
            refund_it = False
    ReconciliationIssue.objects.filter(kind=Kind.DUPLICATE, gateway_id=intent.id).update(
        action=action, needs_review=not refund_it
    )
    return 1
