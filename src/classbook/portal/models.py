"""The customer portal's own rows: per-account portal settings and one row per checkout.

The cart itself is the enrollment engine's ``Hold`` rows under a cart key kept in the
parent's session; a ``Checkout`` is created when the parent pays (or chooses to pay later)
and records what happened to that cart, exactly once (see ``portal.checkout``).
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from classbook.core.tenancy import TenantModel

hex_colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a colour like #1e5fa8.")


class PortalSettings(TenantModel):
    """How one business's portal looks and behaves (one row per account, made on first
    save; until then the defaults below apply)."""

    class Mode(models.TextChoices):
        OFF = "off", "Off"
        SETUP = "setup", "Setup (staff preview only)"
        ACTIVE = "active", "Active (open to families)"

    mode = models.CharField(max_length=10, choices=Mode, default=Mode.OFF)
    allow_pay_later = models.BooleanField("Families may check out and pay later", default=False)
    welcome_text = models.TextField(blank=True, max_length=2000)
    primary_color = models.CharField(max_length=7, default="#1e5fa8", validators=[hex_colour])
    accent_color = models.CharField(max_length=7, default="#f2f6fb", validators=[hex_colour])
    logo_url = models.URLField(blank=True, max_length=500)
    # A small uploaded logo, kept in the database (no media storage to set up or back up
    # separately); served by ``portal:logo`` with its content type.
    logo_image = models.BinaryField(blank=True, default=b"", editable=False)
    logo_content_type = models.CharField(max_length=40, blank=True, editable=False)
    drop_notice_days = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(90)],
        help_text="A drop requested in the portal takes effect at least this many days later.",
    )
    drop_on_month_start = models.BooleanField(
        default=False, help_text="Drops take effect on the first day of a month."
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "portal settings"
        constraints = [
            models.UniqueConstraint(fields=["account"], name="portalsettings_one_per_account"),
            models.CheckConstraint(
                condition=Q(mode__in=["off", "setup", "active"]), name="portalsettings_mode_valid"
            ),
        ]

    def __str__(self) -> str:
        return "Portal settings"

    @property
    def is_active(self) -> bool:
        return self.mode == self.Mode.ACTIVE

    @property
    def has_logo(self) -> bool:
        return bool(self.logo_content_type) or bool(self.logo_url)


class Checkout(TenantModel):
    """One cart's checkout: claimed once for payment, completed once.

    ``open`` → ``paying`` (one request holds the claim while the gateway is called) →
    ``paid`` / ``pay_later`` (the holds became enrollments and the charges were posted), or
    ``seats_lost`` (paid, but a seat was taken meanwhile: the money stays on the family's
    ledger as unapplied credit and the office reviews it). A declined card puts the
    checkout back to ``open`` so the parent can retry while the holds last.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Not paid yet"
        PAYING = "paying", "Payment under way"
        PAID = "paid", "Paid and enrolled"
        PAY_LATER = "pay_later", "Enrolled, to be paid later"
        SEATS_LOST = "seats_lost", "Paid, but a seat was lost"

    cart = models.CharField(max_length=64)
    family = models.ForeignKey(
        "families.Family", on_delete=models.PROTECT, related_name="portal_checkouts"
    )
    status = models.CharField(max_length=20, choices=Status, default=Status.OPEN)
    amount_cents = models.PositiveIntegerField(default=0, help_text="What the parent was shown.")
    lines = models.JSONField(default=list, blank=True)  # [[description, signed cents], ...]
    items = models.JSONField(default=list, blank=True)  # what was enrolled, as text
    attempt = models.ForeignKey(
        "payments.PaymentAttempt",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    message = models.CharField(max_length=500, blank=True)
    # The portal's address as the parent used it (links in the confirmation email, which
    # may be sent by a webhook or the reconciler, outside any request).
    site_url = models.CharField(max_length=200, blank=True)
    needs_review = models.BooleanField(default=False)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["account", "needs_review", "created_at"], name="checkout_review"),
            models.Index(fields=["account", "family"], name="checkout_family"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["account", "cart"], name="checkout_once_per_cart"),
            models.CheckConstraint(
                condition=Q(status__in=["open", "paying", "paid", "pay_later", "seats_lost"]),
                name="checkout_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"Checkout {self.cart[:8]} ({self.get_status_display()})"

    @property
    def is_done(self) -> bool:
        return self.status in (self.Status.PAID, self.Status.PAY_LATER, self.Status.SEATS_LOST)
