"""Gateway settings, saved cards, payment attempts, webhooks and reconciliation."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from classbook.core import secrets
from classbook.core.tenancy import TenantModel


class GatewaySettings(TenantModel):
    """One account's gateway: keys encrypted at rest."""

    class Mode(models.TextChoices):
        TEST = "test", "Test"
        LIVE = "live", "Live"

    class DuplicatePolicy(models.TextChoices):
        REFUND = "refund", "Refund the second charge automatically"
        FLAG = "flag", "Flag it for staff to decide"

    provider = models.CharField(max_length=20, default="stripe")
    mode = models.CharField(max_length=10, choices=Mode, default=Mode.TEST)
    publishable_key = models.CharField(max_length=200)
    secret_key_encrypted = models.TextField()
    webhook_secret_encrypted = models.TextField(blank=True)
    api_base = models.URLField(
        blank=True, help_text="Empty for Stripe; the sandbox's address for localstripe."
    )
    duplicate_policy = models.CharField(
        max_length=10, choices=DuplicatePolicy, default=DuplicatePolicy.REFUND
    )
    autopay_retry_days = models.JSONField(
        default=list, blank=True, help_text="Days after a failed autopay to retry."
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account"], name="gatewaysettings_one_per_account")
        ]

    @property
    def secret_key(self) -> str:
        return secrets.decrypt(self.secret_key_encrypted)

    @property
    def webhook_secret(self) -> str:
        return secrets.decrypt(self.webhook_secret_encrypted)

    @property
    def js_url(self) -> str:
        base = self.api_base.rstrip("/")
        return f"{base}/js.stripe.com/v3/" if base else "https://js.stripe.com/v3/"


class GatewayCustomer(TenantModel):
    family = models.OneToOneField(
        "families.Family", on_delete=models.PROTECT, related_name="gateway_customer"
    )
    customer_id = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)


class SavedCard(TenantModel):
    """A card on file: only the gateway's id and what a person needs to recognise it."""

    family = models.ForeignKey(
        "families.Family", on_delete=models.PROTECT, related_name="saved_cards"
    )
    guardian = models.ForeignKey(
        "families.Guardian", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    payment_method_id = models.CharField(max_length=100)
    brand = models.CharField(max_length=30, blank=True)
    last4 = models.CharField(max_length=4)
    exp_month = models.PositiveSmallIntegerField()
    exp_year = models.PositiveSmallIntegerField()
    is_default = models.BooleanField(default=False)
    use_for_autopay = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-is_default", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["family"],
                condition=Q(is_default=True, removed_at__isnull=True),
                name="savedcard_one_default",
            ),
            models.UniqueConstraint(
                fields=["account", "payment_method_id"], name="savedcard_method_once"
            ),
        ]

    def __str__(self) -> str:
        brand = self.brand.title() or "Card"
        return f"{brand} •••• {self.last4} ({self.exp_month:02d}/{self.exp_year % 100:02d})"


class PaymentAttempt(TenantModel):
    """One try to take money through the gateway, committed before any call that can move
    money, and settled exactly once (``payments.services``)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Starting"
        PROCESSING = "processing", "Sent to the gateway"
        UNKNOWN = "unknown", "Not confirmed yet"
        SUCCEEDED = "succeeded", "Paid"
        FAILED = "failed", "Declined or failed"

    class Purpose(models.TextChoices):
        CHARGES = "charges", "Open charges"
        CART = "cart", "Portal checkout"
        AUTOPAY = "autopay", "Autopay"
        AMOUNT = "amount", "An amount on account"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    family = models.ForeignKey(
        "families.Family", on_delete=models.PROTECT, related_name="payment_attempts"
    )
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    purpose = models.CharField(max_length=20, choices=Purpose)
    apply_to = models.JSONField(default=list, blank=True)  # [[charge entry id, cents], ...]
    cart = models.CharField(max_length=64, blank=True)
    request_token = models.CharField(
        max_length=64, blank=True, help_text="The form's one-time token (double submits)."
    )
    payment_method_id = models.CharField(max_length=100)
    card_label = models.CharField(max_length=60, blank=True)
    method = models.CharField(max_length=20, default="card")  # card or echeck
    location = models.ForeignKey(
        "accounts.Location", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=20, choices=Status, default=Status.PENDING)
    intent_id = models.CharField(max_length=100, blank=True)
    charge_id = models.CharField(max_length=100, blank=True)
    failure_message = models.CharField(max_length=300, blank=True)
    ledger_entry = models.OneToOneField(
        "ledger.LedgerEntry",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="attempt",
    )
    recorded_by_reconciler = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["account", "status", "created_at"], name="attempt_status_time")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "intent_id"],
                condition=~Q(intent_id=""),
                name="attempt_intent_once",
            ),
            models.UniqueConstraint(
                fields=["account", "request_token"],
                condition=~Q(request_token=""),
                name="attempt_request_token_once",
            ),
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="attempt_amount_positive"),
            models.CheckConstraint(
                condition=~Q(status="succeeded") | Q(ledger_entry__isnull=False),
                name="attempt_success_is_on_the_ledger",
            ),
        ]

    def __str__(self) -> str:
        return f"Payment attempt {self.uuid} ({self.get_status_display()})"


class GatewayRefundRecord(TenantModel):
    """A refund we asked the gateway for; settled into a ledger refund exactly once."""

    class Status(models.TextChoices):
        PENDING = "pending", "Starting"
        SUCCEEDED = "succeeded", "Refunded"
        FAILED = "failed", "Failed"
        UNKNOWN = "unknown", "Not confirmed yet"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    attempt = models.ForeignKey(PaymentAttempt, on_delete=models.PROTECT, related_name="refunds")
    amount_cents = models.PositiveIntegerField()
    reason = models.CharField(max_length=200)
    status = models.CharField(max_length=20, choices=Status, default=Status.PENDING)
    refund_id = models.CharField(max_length=100, blank=True)
    failure_message = models.CharField(max_length=300, blank=True)
    ledger_entry = models.OneToOneField(
        "ledger.LedgerEntry",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="gateway_refund",
    )
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "refund_id"],
                condition=~Q(refund_id=""),
                name="refund_gateway_once",
            ),
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="refund_amount_positive"),
        ]


class WebhookEvent(TenantModel):
    """Every gateway event once (de-duplicated by its id)."""

    event_id = models.CharField(max_length=100)
    type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=100, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "event_id"], name="webhook_event_once")
        ]


class ReconciliationIssue(TenantModel):
    """A difference between the gateway and the ledger, and what was done about it."""

    class Kind(models.TextChoices):
        MISSING_PAYMENT = "missing_payment", "Paid at the gateway, missing from the ledger"
        DUPLICATE = "duplicate", "Charged twice for one attempt"
        STUCK = "stuck", "Attempt left unsettled"
        UNKNOWN_PAYMENT = "unknown_payment", "Gateway payment not started by Classbook"
        MISSING_REFUND = "missing_refund", "Refunded at the gateway, missing from the ledger"

    kind = models.CharField(max_length=30, choices=Kind)
    attempt = models.ForeignKey(
        PaymentAttempt, null=True, blank=True, on_delete=models.PROTECT, related_name="issues"
    )
    gateway_id = models.CharField(max_length=100)
    amount_cents = models.IntegerField(default=0)
    action = models.CharField(max_length=300)
    needs_review = models.BooleanField(default=True)
    found_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-found_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "kind", "gateway_id"], name="reconciliation_issue_once"
            )
        ]
