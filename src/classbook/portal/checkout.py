"""Completing a portal checkout exactly once, and the payments settlement hook.

``cart_complete`` turns a cart's holds into enrollments and camp bookings
(``enrollment.services.holds_convert``), posts the charges with the billing run's
idempotency keys (``ledger.services.entries_post_batch``) and records the outcome on the
cart's ``Checkout`` row, in one transaction.

For a card payment it runs as ``SETTLEMENT_HOOKS["cart"]`` *inside* the transaction that
records the payment (``payments.services.attempt_settle``), whoever settles it: the
parent's own request, a webhook, or the reconciler minutes later. So the money and the
enrollment are recorded together, once. If a seat was lost meanwhile (the timer ran out
and someone else took it), the enrollment part is rolled back to a savepoint and the
payment stays on the ledger as unapplied credit, flagged for the office, and the parent
is told — the payment is never lost because of the enrollment.
"""

from __future__ import annotations

import logging

from django.core.mail import send_mail
from django.db import transaction

from classbook.core import clock
from classbook.core.errors import ClassbookError
from classbook.core.tenancy import require_account
from classbook.core.urls import account_reverse
from classbook.enrollment import services as enrollment
from classbook.enrollment.locking import SeatsBusy
from classbook.families.models import Family, Guardian
from classbook.ledger import services as ledger
from classbook.portal import services
from classbook.portal.models import Checkout
from classbook.portal.pricing import charge_lines, converted_as_items

logger = logging.getLogger(__name__)

PAID = Checkout.Status.PAID
PAY_LATER = Checkout.Status.PAY_LATER
LOCK_RETRIES = 3


class SeatsLost(ClassbookError):
    pass


def _convert_and_post(*, cart: str, family: Family) -> list[str]:
    """Holds → enrollments/bookings, then their charges on the ledger (keyed)."""
    for attempt in range(LOCK_RETRIES):
        try:
            with transaction.atomic():
                created = enrollment.holds_convert(cart=cart, students={}, source="portal")
                break
        except SeatsBusy:
            if attempt == LOCK_RETRIES - 1:
                raise
    seats, camps = converted_as_items(created, family_id=family.pk)
    lines, _ = charge_lines(family_id=family.pk, seats=seats, camps=camps)
    if lines:
        ledger.entries_post_batch(
            family=family,
            lines=[line.batch_line() for line in lines],
            summary=f"Portal checkout {cart[:8]}",
        )
    return [str(item) for item in created]


@transaction.atomic
def cart_complete(*, cart: str, family: Family, how: str, attempt=None) -> Checkout:
    """Enroll the cart and post its charges, once. ``how`` is ``paid`` or ``pay_later``.
    With a settled card payment (``attempt``) a lost seat is recorded, never raised, so
    the payment is kept; without one (pay later, nothing due) a failure raises and nothing
    changes."""
    existing = Checkout.objects.select_for_update().filter(cart=cart).first()
    if existing is not None and existing.is_done:
        if attempt is not None and existing.attempt_id not in (None, attempt.pk):
            # A second payment for a cart already checked out (it cannot normally happen:
            # the checkout claim and the payments' twin check stop it). Keep the money.
            return services.checkout_record(
                cart=cart,
                family=family,
                status=existing.status,
                items=existing.items,
                message="A second payment arrived for this cart; it is kept as credit.",
                needs_review=True,
            )
        return existing
    if attempt is None:
        items = _convert_and_post(cart=cart, family=family)
        checkout = services.checkout_record(cart=cart, family=family, status=how, items=items)
    else:
        try:
            with transaction.atomic():
                items = _convert_and_post(cart=cart, family=family)
        except Exception as exc:  # the payment must be recorded whatever went wrong here
            if not isinstance(exc, ClassbookError):
                logger.exception("portal checkout %s could not enroll", cart[:8])
            reason = getattr(exc, "reasons", None) or [str(exc)]
            message = (
                "Your payment was received, but a seat was taken before it was confirmed: "
                f"{' '.join(reason)} The payment is kept as credit on your account and "
                f"{require_account().name} will contact you."
            )
            checkout = services.checkout_record(
                cart=cart,
                family=family,
                status=Checkout.Status.SEATS_LOST,
                items=[],
                attempt=attempt,
                message=message,
                needs_review=True,
            )
            _email_after_commit(checkout)
            return checkout
        checkout = services.checkout_record(
            cart=cart, family=family, status=PAID, items=items, attempt=attempt
        )
    _email_after_commit(checkout)
    return checkout


def settle_cart(attempt) -> None:
    """``SETTLEMENT_HOOKS["cart"]``: runs inside ``attempt_settle``'s transaction."""
    cart_complete(cart=attempt.cart, family=attempt.family, how=PAID, attempt=attempt)


def register() -> None:
    from classbook.payments.services import SETTLEMENT_HOOKS

    hooks = SETTLEMENT_HOOKS.setdefault("cart", [])
    if settle_cart not in hooks:
        hooks.append(settle_cart)


# --- the confirmation email ---------------------------------------------------------------


def _email_after_commit(checkout: Checkout) -> None:
    checkout_id, account = checkout.pk, require_account()
    transaction.on_commit(lambda: send_confirmation(checkout_id=checkout_id, account=account))


def confirmation_text(checkout: Checkout, *, receipt=None, balance_cents: int | None = None) -> str:
    from classbook.core.money import Money

    account = require_account()

    def money(cents: int) -> str:
        return str(Money(cents, account.currency))

    parts = []
    if checkout.status == Checkout.Status.SEATS_LOST:
        parts.append(checkout.message)
    else:
        parts.append("You are enrolled:" if checkout.items else "Your checkout is complete.")
        parts += [f"  • {item}" for item in checkout.items]
    if checkout.lines:
        parts.append("\nCharges:")
        parts += [f"  {description}: {money(cents)}" for description, cents in checkout.lines]
    if receipt is not None:
        payment = receipt.payment
        parts.append(
            f"\nReceipt #{payment.pk}, {payment.entry_date:%B %-d, %Y}: "
            f"{money(payment.amount_cents)} paid by {payment.subtype_label}"
            f"{f' (ref. {payment.reference})' if payment.reference else ''}."
        )
        parts += [
            f"  Applied to {entry.description}: {money(c)}" for entry, c in receipt.applied_to
        ]
        if receipt.unapplied_cents:
            parts.append(f"  Kept as credit: {money(receipt.unapplied_cents)}")
    if balance_cents is not None:
        parts.append(f"\nYour account balance now: {money(balance_cents)}")
    if checkout.status == Checkout.Status.PAY_LATER:
        parts.append("\nNothing was charged to a card; the charges are on your account.")
    return "\n".join(parts)


def send_confirmation(*, checkout_id: int, account) -> None:
    """Email the family's guardians what was enrolled and the receipt."""
    from classbook.core.tenancy import activate_account
    from classbook.ledger.documents import receipt_for
    from classbook.ledger.selectors import family_balance

    with activate_account(account):
        checkout = Checkout.objects.select_related("family", "attempt__ledger_entry").get(
            pk=checkout_id
        )
        emails = list(
            Guardian.objects.filter(family=checkout.family, is_active=True)
            .exclude(email="")
            .order_by("-is_primary", "pk")
            .values_list("email", flat=True)
        )
        if not emails:
            return
        entry = checkout.attempt.ledger_entry if checkout.attempt_id else None
        receipt = receipt_for(entry, today=clock.account_today()) if entry else None
        balance = family_balance(checkout.family, today=clock.account_today()).balance_cents
        link = checkout.site_url + account_reverse("portal:checkout_done", checkout_id=checkout.pk)
        subject = (
            f"{account.name}: payment received, please read"
            if checkout.status == Checkout.Status.SEATS_LOST
            else f"{account.name}: enrollment confirmed"
        )
        body = (
            f"Hello,\n\n{confirmation_text(checkout, receipt=receipt, balance_cents=balance)}\n\n"
            f"See it in your family portal: {link}\n\n{account.name}"
        )
        try:
            send_mail(subject, body, None, emails)
        except Exception:  # a mail outage must not undo anything
            logger.exception("portal confirmation email for checkout %s failed", checkout_id)


# --- cards typed in the browser ------------------------------------------------------------


def card_setup_secret(family: Family) -> str:
    """A SetupIntent's client secret for the gateway's script (``confirmCardSetup``)."""
    from classbook.payments import services as payments

    return payments.card_setup_start(family=family)[1]


def card_label(payment_method_id: str) -> str:
    """ "Visa •••• 4242" for a card typed in the browser (asked of the gateway)."""
    from classbook.payments.gateway import GatewayRefused, GatewayUnavailable
    from classbook.payments.selectors import gateway_for_account

    gateway = gateway_for_account()
    try:
        method = gateway.describe_payment_method(payment_method_id=payment_method_id)
    except (GatewayRefused, GatewayUnavailable, AttributeError):
        return "New card"
    return f"{(method.brand or 'Card').title()} •••• {method.last4}"
