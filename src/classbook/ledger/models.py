"""The family ledger: append-only entries and the allocations between them.

Directions: a *debit* raises what the family owes (charge, refund, reversal of a payment
or credit); a *credit* lowers it (payment, credit, reversal of a charge or refund). An
allocation applies (part of) a credit-direction entry to a debit-direction entry; a
negative allocation releases an earlier one. Nothing is ever updated or deleted: a
mistake is corrected by a reversal, which first releases every allocation touching the
entry and is then allocated against it in full.

Invariants (services check them under a lock on the family row; on PostgreSQL a trigger
re-checks every allocation insert under row locks):
    for every entry:  0 <= applied <= amount
    for every (source, target) pair: the sum of its allocations >= 0
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from classbook.core.append_only import AppendOnlyQuerySet
from classbook.core.tenancy import TenantModel

DEBIT = 1
CREDIT = -1


class LedgerEntry(TenantModel):
    classbook_append_only = True  # read by classbook.core.rls

    class Kind(models.TextChoices):
        CHARGE = "charge", "Charge"
        PAYMENT = "payment", "Payment"
        CREDIT = "credit", "Credit"
        REFUND = "refund", "Refund"
        REVERSAL = "reversal", "Reversal"

    class ChargeType(models.TextChoices):
        TUITION = "tuition", "Tuition"
        REGISTRATION_FEE = "registration_fee", "Registration fee"
        CAMP_FEE = "camp_fee", "Camp fee"
        TRIAL_FEE = "trial_fee", "Trial fee"
        LATE_FEE = "late_fee", "Late fee"
        RETAIL = "retail", "Retail / other"

    class PaymentMethod(models.TextChoices):
        CARD = "card", "Card"
        ECHECK = "echeck", "eCheck"
        CASH = "cash", "Cash"
        CHECK = "check", "Check"
        CARD_EXTERNAL = "card_external", "Credit card external"
        OTHER = "other", "Other"

    class CreditType(models.TextChoices):
        DISCOUNT = "discount", "Discount"
        GOODWILL = "goodwill", "Goodwill"
        TRANSFER = "transfer", "Transfer"

    family = models.ForeignKey(
        "families.Family", on_delete=models.PROTECT, related_name="ledger_entries"
    )
    kind = models.CharField(max_length=20, choices=Kind)
    subtype = models.CharField(max_length=30, blank=True)
    direction = models.SmallIntegerField(editable=False)  # DEBIT (+1) or CREDIT (-1)
    amount_cents = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    entry_date = models.DateField()
    due_date = models.DateField(null=True, blank=True)
    location = models.ForeignKey(
        "accounts.Location", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    description = models.CharField(max_length=300)
    reference = models.CharField(
        max_length=120, blank=True, help_text="Check number, gateway transaction id, …"
    )
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    refund_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    # A stable key that makes posting idempotent (billing runs, gateway payments). NULL,
    # not "", for entries without one: the unique constraint ignores NULLs.
    idempotency_key = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    posted_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    posted_at = models.DateTimeField(default=timezone.now)

    objects = AppendOnlyQuerySet.as_scoped_manager()

    class Meta:
        ordering = ["entry_date", "id"]
        verbose_name_plural = "ledger entries"
        indexes = [
            models.Index(
                fields=["account", "family", "entry_date", "id"], name="ledger_family_date"
            ),
            models.Index(fields=["account", "kind", "entry_date"], name="ledger_kind_date"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="ledger_amount_positive"),
            models.CheckConstraint(
                condition=Q(direction__in=[DEBIT, CREDIT]), name="ledger_direction_valid"
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="charge", direction=DEBIT)
                    | Q(kind="refund", direction=DEBIT)
                    | Q(kind="payment", direction=CREDIT)
                    | Q(kind="credit", direction=CREDIT)
                    | Q(kind="reversal")
                ),
                name="ledger_direction_matches_kind",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="reversal", reverses__isnull=False)
                    | (~Q(kind="reversal") & Q(reverses__isnull=True))
                ),
                name="ledger_reversal_names_entry",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="refund", refund_of__isnull=False)
                    | (~Q(kind="refund") & Q(refund_of__isnull=True))
                ),
                name="ledger_refund_names_payment",
            ),
            models.UniqueConstraint(
                fields=["account", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="ledger_idempotency_key_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount_cents / 100:.2f} {self.description}"

    @property
    def subtype_label(self) -> str:
        """ "Cash", "Tuition", "Goodwill"… whichever list the subtype comes from."""
        for choices in (self.PaymentMethod, self.ChargeType, self.CreditType, self.Kind):
            if self.subtype in choices.values:
                return choices(self.subtype).label
        return self.subtype

    @property
    def signed_cents(self) -> int:
        return self.direction * self.amount_cents

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("Ledger entries cannot be changed; post a reversal instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Ledger entries cannot be deleted; post a reversal instead.")


class Allocation(TenantModel):
    """Applies ``amount_cents`` of a credit-direction ``source`` to a debit-direction
    ``target``; negative rows release an earlier application."""

    classbook_append_only = True

    source = models.ForeignKey(
        LedgerEntry, on_delete=models.PROTECT, related_name="allocations_out"
    )
    target = models.ForeignKey(LedgerEntry, on_delete=models.PROTECT, related_name="allocations_in")
    amount_cents = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = AppendOnlyQuerySet.as_scoped_manager()

    class Meta:
        # The family pages sum allocations for a list of entries ("account = ? AND
        # source_id IN (…)"): with the account leading, SQLite (no statistics) uses these
        # instead of scanning the whole account (docs/decisions.md, "Office pages").
        indexes = [
            models.Index(fields=["account", "source"], name="allocation_account_source"),
            models.Index(fields=["account", "target"], name="allocation_account_target"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(amount_cents=0), name="allocation_nonzero"),
            models.CheckConstraint(
                condition=~Q(source=models.F("target")), name="allocation_distinct_entries"
            ),
        ]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("Allocations cannot be changed; add a releasing allocation.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Allocations cannot be deleted; add a releasing allocation.")


class LedgerSettings(TenantModel):
    """Per-account ledger choices."""

    auto_apply_credit = models.BooleanField(
        "Apply unapplied credit to new charges automatically", default=True
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account"], name="ledgersettings_one_per_account")
        ]


class StatementRun(TenantModel):
    """One "email statements" job: progress shown on the page while the worker sends."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Sending"
        DONE = "done", "Done"
        FAILED = "failed", "Stopped by an error"

    month = models.DateField()
    only_with_balance = models.BooleanField(default=True)
    family_ids = models.JSONField(default=list, editable=False)  # fixed when queued
    status = models.CharField(max_length=20, choices=Status, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)  # no guardian email
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        "accounts.User", null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    @property
    def done_count(self) -> int:
        return self.sent + self.skipped

    @property
    def percent(self) -> int:
        return 100 if not self.total else round(100 * self.done_count / self.total)


class StatementDelivery(TenantModel):
    """One family's statement in a run; makes a resumed run skip what was sent."""

    run = models.ForeignKey(StatementRun, on_delete=models.CASCADE, related_name="deliveries")
    family = models.ForeignKey("families.Family", on_delete=models.PROTECT, related_name="+")
    email = models.EmailField(blank=True)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "family"], name="statementdelivery_once")
        ]
