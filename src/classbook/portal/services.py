"""Writes of the customer portal. Each public function is one transaction and writes one
audit entry. Seats are claimed and converted only through ``enrollment.services``; the
orchestration of a whole checkout (convert the holds, post the charges, record the
outcome) lives in ``portal.checkout``, which calls these and the other apps' services.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from classbook.accounts.models import User
from classbook.audit.actions import register_action
from classbook.audit.context import current_actor
from classbook.audit.services import changes_between, created_fields, log_action, snapshot
from classbook.core import clock
from classbook.core.errors import ClassbookError, ValidationFailed
from classbook.core.tenancy import require_account
from classbook.enrollment.models import Hold
from classbook.families.models import Family, Guardian, Student
from classbook.portal.models import Checkout, PortalSettings
from classbook.portal.selectors import seat_refusals

SETTINGS_CHANGED = register_action("portal.settings_changed", "Portal settings changed")
SEAT_ASSIGNED = register_action("portal.seat_assigned", "Cart seat assigned to a student")
CHECKOUT_STARTED = register_action("portal.checkout_started", "Portal checkout started")
CHECKOUT_REOPENED = register_action(
    "portal.checkout_reopened", "Portal checkout reopened after a failed payment"
)
CHECKOUT_COMPLETED = register_action("portal.checkout_completed", "Portal checkout completed")
CHECKOUT_FLAGGED = register_action(
    "portal.checkout_flagged", "Portal checkout needs the office (payment kept as credit)"
)
CHECKOUT_REVIEWED = register_action("portal.checkout_reviewed", "Portal checkout reviewed")
LOGIN_CREATED = register_action("portal.login_created", "Family signed up in the portal")

MAX_LOGO_BYTES = 300 * 1024
SETTINGS_FIELDS = (
    "mode",
    "allow_pay_later",
    "welcome_text",
    "primary_color",
    "accent_color",
    "logo_url",
    "drop_notice_days",
    "drop_on_month_start",
)
MIN_CONTRAST = 4.5  # WCAG AA for normal text
BODY_TEXT = "#212529"  # Bootstrap's body colour, shown on the accent background


class CheckoutBusy(ClassbookError):
    """The cart's checkout is being paid in another request, or is already done."""

    def __init__(self, checkout: Checkout):
        self.checkout = checkout
        if checkout.is_done:
            message = "This cart was already checked out; nothing more was charged."
        else:
            message = (
                "A payment for this cart is already under way (another tab or a double "
                "click). Nothing more was charged."
            )
        super().__init__(message)


def _actor_user() -> User | None:
    user = current_actor().user
    return user if user is not None and user.account_id else None


# --- settings -----------------------------------------------------------------------------


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast_ratio(first: str, second: str) -> float:
    """WCAG contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    a, b = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (a + 0.05) / (b + 0.05)


_IMAGE_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def _logo_content_type(data: bytes) -> str | None:
    """The image type of an uploaded logo from its first bytes (never SVG: it can carry
    script), or None."""
    for signature, content_type in _IMAGE_SIGNATURES:
        if data.startswith(signature):
            return content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


@dataclass(frozen=True)
class LogoUpload:
    data: bytes


@transaction.atomic
def portal_settings_update(
    *,
    mode: str,
    allow_pay_later: bool,
    welcome_text: str = "",
    primary_color: str = "#1e5fa8",
    accent_color: str = "#f2f6fb",
    logo_url: str = "",
    logo: LogoUpload | None = None,
    remove_logo: bool = False,
    drop_notice_days: int = 0,
    drop_on_month_start: bool = False,
) -> PortalSettings:
    """Change the portal's mode, checkout options, branding and drop policy."""
    current = PortalSettings.objects.select_for_update().first() or PortalSettings()
    before = snapshot(current, SETTINGS_FIELDS)
    before["logo"] = "uploaded" if current.logo_content_type else ""
    current.mode, current.allow_pay_later = mode, allow_pay_later
    current.welcome_text = welcome_text.strip()
    current.primary_color, current.accent_color = primary_color.lower(), accent_color.lower()
    current.logo_url = logo_url.strip()
    current.drop_notice_days, current.drop_on_month_start = drop_notice_days, drop_on_month_start
    errors: dict[str, list[str]] = {}
    try:
        current.full_clean(exclude=["account", "logo_image"], validate_constraints=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if current.logo_url and not current.logo_url.startswith("https://"):
        errors.setdefault("logo_url", []).append("Use an address starting with https://.")
    if "primary_color" not in errors:
        ratio = _contrast_ratio(current.primary_color, "#ffffff")
        if ratio < MIN_CONTRAST:
            errors["primary_color"] = [
                f"White text on this colour has a contrast of {ratio:.1f}:1; choose a darker "
                f"colour (at least {MIN_CONTRAST}:1 so everyone can read the buttons)."
            ]
    if "accent_color" not in errors:
        ratio = _contrast_ratio(current.accent_color, BODY_TEXT)
        if ratio < MIN_CONTRAST:
            errors["accent_color"] = [
                f"Dark text on this background has a contrast of {ratio:.1f}:1; choose a "
                f"lighter colour (at least {MIN_CONTRAST}:1)."
            ]
    if logo is not None:
        kind = _logo_content_type(logo.data)
        if len(logo.data) > MAX_LOGO_BYTES:
            errors["logo"] = [f"The logo is too large; keep it under {MAX_LOGO_BYTES // 1024} KB."]
        elif kind is None:
            errors["logo"] = ["Upload a PNG, JPEG, GIF or WebP image."]
        else:
            current.logo_image, current.logo_content_type = logo.data, kind
    elif remove_logo:
        current.logo_image, current.logo_content_type = b"", ""
    if errors:
        raise ValidationFailed(errors)
    current.updated_at = clock.now()
    current.save()
    after = snapshot(current, SETTINGS_FIELDS)
    after["logo"] = "uploaded" if current.logo_content_type else ""
    log_action(
        action=SETTINGS_CHANGED,
        obj=current,
        label="Portal settings",
        changes=changes_between(before, after),
    )
    return current


# --- the cart -------------------------------------------------------------------------------


@transaction.atomic
def hold_assign_student(*, cart: str, hold: Hold, family: Family, student: Student) -> Hold:
    """Say which of the family's students a held seat is for, re-checking the rules for
    that student (age at the first meeting, gender, level, registration window)."""
    locked = (
        Hold.objects.select_for_update(of=("self",))
        .select_related("klass__term", "klass__location", "camp_day__camp")
        .filter(pk=hold.pk, cart=cart)
        .first()
    )
    if locked is None:
        raise ValidationFailed("That seat is no longer in your cart.")
    now = clock.now()
    place = locked.klass or locked.camp_day
    if locked.expires_at <= now:
        raise ValidationFailed(
            f"Your reservation for {place} ran out; add it to the cart again if it is still free."
        )
    if student.family_id != family.pk or not student.is_active:
        raise ValidationFailed({"student": ["Choose one of your family's students."]})
    reasons = seat_refusals(locked, student, now=now)
    if reasons:
        raise ValidationFailed({"student": reasons})
    before = str(locked.student) if locked.student_id else (locked.child_label or None)
    locked.student = student
    locked.save(update_fields=["student"])
    log_action(
        action=SEAT_ASSIGNED,
        obj=family,
        label=str(family),
        changes={f"seat · {place}": [before, student.full_name]},
    )
    return locked


# --- checkout -------------------------------------------------------------------------------


@transaction.atomic
def checkout_begin(
    *, cart: str, family: Family, amount_cents: int, lines: list[list], site_url: str = ""
) -> Checkout:
    """Claim the cart's checkout for one payment (or pay-later) request. A second request
    (another tab, a double click, the back button) gets ``CheckoutBusy``."""
    if not cart:
        raise ValueError("a cart key is required")
    checkout = Checkout.objects.select_for_update().filter(cart=cart).first()
    if checkout is None:
        try:
            with transaction.atomic():
                checkout = Checkout.objects.create(cart=cart, family=family)
        except IntegrityError:  # the same cart was claimed by a request racing this one
            raise CheckoutBusy(Checkout.objects.get(cart=cart)) from None
    if checkout.family_id != family.pk:
        raise ValidationFailed("This cart belongs to another family.")
    if checkout.is_done:
        raise CheckoutBusy(checkout)
    if checkout.status == Checkout.Status.PAYING and not _stale(checkout):
        raise CheckoutBusy(checkout)
    before = checkout.status
    checkout.status = Checkout.Status.PAYING
    checkout.amount_cents, checkout.lines = amount_cents, lines
    checkout.message, checkout.updated_at = "", clock.now()
    checkout.site_url = site_url.rstrip("/")[:200]
    checkout.save(
        update_fields=["status", "amount_cents", "lines", "message", "site_url", "updated_at"]
    )
    log_action(
        action=CHECKOUT_STARTED,
        obj=family,
        label=str(family),
        changes={
            f"checkout {cart[:8]}": [before, checkout.status],
            "amount_cents": [None, amount_cents],
        },
    )
    return checkout


def _stale(checkout: Checkout) -> bool:
    """A claim left by a payment that is known to have failed may be taken again."""
    from classbook.payments.models import PaymentAttempt

    if checkout.attempt_id is None:
        attempt = (
            PaymentAttempt.objects.filter(cart=checkout.cart, family_id=checkout.family_id)
            .order_by("-created_at")
            .first()
        )
    else:
        attempt = checkout.attempt
    return attempt is not None and attempt.status == PaymentAttempt.Status.FAILED


@transaction.atomic
def checkout_reopen(*, checkout: Checkout, reason: str) -> Checkout:
    """The payment did not go through: the parent may try again while the holds last."""
    checkout = Checkout.objects.select_for_update().get(pk=checkout.pk)
    if checkout.status != Checkout.Status.PAYING:
        return checkout
    checkout.status, checkout.message = Checkout.Status.OPEN, reason[:500]
    checkout.updated_at = clock.now()
    checkout.save(update_fields=["status", "message", "updated_at"])
    log_action(
        action=CHECKOUT_REOPENED,
        obj=checkout.family,
        label=str(checkout.family),
        changes={f"checkout {checkout.cart[:8]}": ["paying", "open"], "reason": [None, reason]},
    )
    return checkout


@transaction.atomic
def checkout_record(
    *,
    cart: str,
    family: Family,
    status: str,
    items: list[str],
    attempt=None,
    message: str = "",
    needs_review: bool = False,
) -> Checkout:
    """Record what a checkout ended with (called inside the completing transaction)."""
    if status not in (
        Checkout.Status.PAID,
        Checkout.Status.PAY_LATER,
        Checkout.Status.SEATS_LOST,
    ):
        raise ValueError(f"not a final checkout status: {status!r}")
    checkout = Checkout.objects.select_for_update().filter(cart=cart).first()
    if checkout is None:
        checkout = Checkout(cart=cart, family=family)
    before = checkout.status if checkout.pk else None
    now = clock.now()
    if not checkout.is_done:
        checkout.status, checkout.items = status, items
        checkout.completed_at = now
        if attempt is not None:
            checkout.attempt = attempt
    checkout.message = message[:500] or checkout.message
    checkout.needs_review = checkout.needs_review or needs_review
    checkout.updated_at = now
    checkout.save()
    log_action(
        action=CHECKOUT_FLAGGED if needs_review else CHECKOUT_COMPLETED,
        obj=family,
        label=str(family),
        changes={
            f"checkout {cart[:8]}": [before, checkout.status],
            "items": [None, items],
            **({"message": [None, message]} if message else {}),
        },
    )
    return checkout


@transaction.atomic
def checkout_review(*, checkout: Checkout) -> Checkout:
    """The office has dealt with a checkout that needed attention (refunded the credit,
    enrolled by hand, called the family)."""
    checkout = Checkout.objects.select_for_update().get(pk=checkout.pk)
    if not checkout.needs_review:
        raise ValidationFailed("This checkout does not need review.")
    checkout.needs_review = False
    checkout.reviewed_at, checkout.reviewed_by = clock.now(), _actor_user()
    checkout.save(update_fields=["needs_review", "reviewed_at", "reviewed_by"])
    log_action(
        action=CHECKOUT_REVIEWED,
        obj=checkout.family,
        label=str(checkout.family),
        changes={f"checkout {checkout.cart[:8]} · needs_review": [True, False]},
    )
    return checkout


# --- signing up ------------------------------------------------------------------------------


@transaction.atomic
def guardian_login_create(*, guardian: Guardian, password: str) -> User:
    """The portal login of a guardian who signed up themselves (they chose the password
    on the sign-up page, so no invitation email is needed). Logins of guardians the office
    adds are made by ``families.services.guardian_portal_invite``."""
    guardian = (
        Guardian.objects.select_for_update(of=("self",))
        .select_related("family")
        .get(pk=guardian.pk)
    )
    errors: dict[str, list[str]] = {}
    if guardian.user_id is not None:
        raise ValidationFailed("This guardian already has a portal login.")
    if not guardian.is_active:
        raise ValidationFailed("This guardian is no longer active.")
    email = guardian.email.strip().lower()
    if not email:
        errors["email"] = ["Enter your email address: it is your portal login."]
    elif User.objects.filter(email__iexact=email, kind=User.Kind.GUARDIAN).exists():
        errors["email"] = [
            f"{email} already has a parent portal login here. Log in instead, or use "
            "“Forgot password” with the business."
        ]
    user = User(
        account=require_account(),
        kind=User.Kind.GUARDIAN,
        username=email if not User.objects.filter(username__iexact=email).exists() else "",
        email=email,
        first_name=guardian.first_name,
        last_name=guardian.last_name,
    )
    try:
        validate_password(password, user)
    except ValidationError as exc:
        errors["password1"] = list(exc.messages)
    if errors:
        raise ValidationFailed(errors)
    user.username = user.username or f"guardian-{guardian.pk}"
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise ValidationFailed("Please try again: that login was just taken.") from None
    Guardian.objects.filter(pk=guardian.pk).update(user=user)
    log_action(
        action=LOGIN_CREATED,
        obj=guardian.family,
        label=str(guardian.family),
        changes=created_fields({f"{guardian.full_name} · portal_login": user.username}),
    )
    return user
