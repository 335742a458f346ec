"""Autopay: after a billing run, each family's autopay card pays what is due.

- Each charge is one attempt per family, month and try, whose request token is
  ``autopay:<family id>:<YYYY-MM>:<try>``. ``payment_take`` finds the attempt a token
  already started, so a task run twice (a retry, a resumed billing run, two workers)
  never charges twice; a try that ran already is skipped before anything is sent.
- A declined card is tried again on the days of ``GatewaySettings.autopay_retry_days``
  (counted from the first try) while something is still due: the ``autopay_retries``
  housekeeping step, which runs after the reconciler has settled unconfirmed attempts.
- The primary guardian gets the receipt (the ledger's receipt document) after a success
  and a notice after a decline. An attempt the gateway has not confirmed yet is settled
  by the reconciler later and sends nothing.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.mail import EmailMessage

from classbook.core import clock
from classbook.core.errors import ValidationFailed
from classbook.core.housekeeping import step
from classbook.core.money import Money
from classbook.core.tenancy import require_account
from classbook.families.models import Family, Guardian
from classbook.families.selectors import guardian_to_email
from classbook.ledger.documents import receipt_for, render_pdf
from classbook.ledger.selectors import family_balance
from classbook.payments import services
from classbook.payments.models import PaymentAttempt, SavedCard
from classbook.payments.selectors import gateway_for_account, gateway_settings

logger = logging.getLogger(__name__)

AUTOPAY = PaymentAttempt.Purpose.AUTOPAY
TOKEN = re.compile(r"^autopay:(\d+):(\d{4}-\d{2}):(\d+)$")


def autopay_token(family_id: int, period: date, try_number: int) -> str:
    return f"autopay:{family_id}:{period:%Y-%m}:{try_number}"


@dataclass
class AutopayReport:
    charged: int = 0
    declined: int = 0
    unconfirmed: int = 0
    skipped: int = 0


def _autopay_cards():
    return SavedCard.objects.filter(
        use_for_autopay=True, removed_at__isnull=True, family__merged_into__isnull=True
    ).select_related("family")


def _retry_days() -> list[int]:
    settings = gateway_settings()
    return sorted(settings.autopay_retry_days or []) if settings else []


def next_try_at(first_try_at: datetime, tries_done: int, days: list[int]) -> datetime | None:
    """When try ``tries_done + 1`` is due (``days`` after the first try), or None."""
    if tries_done - 1 < len(days):
        return first_try_at + timedelta(days=days[tries_done - 1])
    return None


def charge_family(
    *,
    card: SavedCard,
    period: date,
    try_number: int,
    first_try_at: datetime | None = None,
    report: AutopayReport,
) -> PaymentAttempt | None:
    """One autopay try for one family: its due balance, once."""
    family = card.family
    token = autopay_token(family.pk, period, try_number)
    if PaymentAttempt.objects.filter(request_token=token).exists():
        report.skipped += 1  # this try ran already (the task ran twice)
        return None
    due = family_balance(family, today=clock.account_today()).due_now_cents
    if due <= 0:
        report.skipped += 1
        return None
    try:
        result = services.payment_take(
            family=family,
            payment_method_id=card.payment_method_id,
            amount_cents=due,
            purpose=AUTOPAY,
            request_token=token,
            card_label=str(card)[:60],
        )
    except ValidationFailed as exc:
        logger.warning("autopay refused", extra={"fields": {"family": family.pk, "why": str(exc)}})
        report.skipped += 1
        return None
    attempt = result.attempt
    if attempt.request_token != token:  # an earlier payment still being confirmed
        report.unconfirmed += 1
        return attempt
    if result.succeeded:
        report.charged += 1
        _notify(family, _receipt_email, attempt)
    elif result.failed:
        report.declined += 1
        retry_at = next_try_at(first_try_at or attempt.created_at, try_number, _retry_days())
        _notify(family, _decline_email, attempt, card, retry_at)
    else:
        report.unconfirmed += 1
    return attempt


def autopay_run(*, period: date) -> AutopayReport:
    """Charge every family with an autopay card for what is due now (first try)."""
    report = AutopayReport()
    if gateway_for_account() is None:
        return report
    for card in _autopay_cards():
        charge_family(card=card, period=period, try_number=1, report=report)
    fields = {"account": require_account().slug, "period": str(period), **vars(report)}
    logger.info("autopay run", extra={"fields": fields})
    return report


def autopay_retry_due(*, now: datetime | None = None) -> AutopayReport:
    """Try declined autopay cards again when their retry day has come."""
    report = AutopayReport()
    days = _retry_days()
    if not days or gateway_for_account() is None:
        return report
    now = now or clock.now()
    tries: dict[tuple[int, str], dict[int, PaymentAttempt]] = {}
    recent = PaymentAttempt.objects.filter(
        purpose=AUTOPAY,
        request_token__startswith="autopay:",
        created_at__gte=now - timedelta(days=days[-1] + 3),
    )
    for attempt in recent:
        match = TOKEN.match(attempt.request_token)
        if match:
            family_id, period, number = int(match[1]), match[2], int(match[3])
            tries.setdefault((family_id, period), {})[number] = attempt
    cards = {card.family_id: card for card in _autopay_cards()}
    for (family_id, period), numbered in sorted(tries.items()):
        last = max(numbered)
        if numbered[last].status != PaymentAttempt.Status.FAILED or family_id not in cards:
            continue
        first_try_at = numbered[min(numbered)].created_at
        due_at = next_try_at(first_try_at, last, days)
        if due_at is None or now < due_at:
            continue
        charge_family(
            card=cards[family_id],
            period=date.fromisoformat(f"{period}-01"),
            try_number=last + 1,
            first_try_at=first_try_at,
            report=report,
        )
    return report


@step("autopay_retries", per_account=True)
def autopay_retries() -> int:
    report = autopay_retry_due()
    return report.charged + report.declined + report.unconfirmed


# --- email to the family -----------------------------------------------------------------


def _notify(family: Family, build, *args) -> None:
    """Email the primary guardian; a mail failure never stops autopay for others."""
    guardian = guardian_to_email(family)
    if guardian is None:
        return
    try:
        build(family, guardian, *args).send()
    except Exception:
        logger.exception("autopay email failed", extra={"fields": {"family": family.pk}})


def _receipt_email(family: Family, guardian: Guardian, attempt: PaymentAttempt) -> EmailMessage:
    account = require_account()
    payment = attempt.ledger_entry
    context = {
        "family": family,
        "guardian": guardian,
        "receipt": receipt_for(payment, today=clock.account_today()),
    }
    message = EmailMessage(
        subject=f"{account.name}: receipt for your autopay payment",
        body=f"Hello {guardian.first_name},\n\nYour card {attempt.card_label} was charged "
        f"{Money(payment.amount_cents, payment.currency)} for what was due on your "
        f"account. Your receipt is attached.\n\n{account.name}",
        to=[guardian.email],
    )
    message.attach(
        f"receipt-{payment.pk}.pdf",
        render_pdf("ledger/receipt_document.html", context),
        "application/pdf",
    )
    return message


def _decline_email(
    family: Family,
    guardian: Guardian,
    attempt: PaymentAttempt,
    card: SavedCard,
    retry_at: datetime | None,
) -> EmailMessage:
    account = require_account()
    amount = Money(attempt.amount_cents, attempt.currency)
    if retry_at is not None:
        again = f"We will try the card again on {retry_at.astimezone(_zone()).strftime('%B %-d')}."
    else:
        again = "We will not try this card again."
    return EmailMessage(
        subject=f"{account.name}: your autopay payment did not go through",
        body=f"Hello {guardian.first_name},\n\nWe tried to charge {amount} to your card "
        f"{card} for what is due on your account, and the card processor declined it: "
        f"{attempt.failure_message or 'no reason given'}\n\n{again} You can also pay at the "
        f"front desk or update your card with us.\n\n{account.name}",
        to=[guardian.email],
    )


def _zone():
    import zoneinfo

    return zoneinfo.ZoneInfo(require_account().timezone)
