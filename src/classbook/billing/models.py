"""Tuition rules, billing settings and billing runs."""

from datetime import timedelta

from django.db import models
from django.db.models import Q
from django.utils import timezone

from classbook.core import clock
from classbook.core.tenancy import TenantModel


class TuitionRule(TenantModel):
    """How a class is priced. Assigned to a program or a class (``TuitionAssignment``)."""

    class Kind(models.TextChoices):
        MONTHLY = "monthly", "Flat monthly"
        HOURS_TABLE = "hours", "By weekly hours of the family (price table)"
        PER_TERM = "term", "Per session"
        PER_MEETING = "meeting", "Per meeting (drop-in)"

    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=Kind)
    amount_cents = models.PositiveIntegerField(
        default=0, help_text="Per month, per session or per meeting (not for hour tables)."
    )
    # For HOURS_TABLE: [[max_weekly_minutes, monthly_cents], ...] ascending; the first row
    # whose limit is >= the family's weekly minutes applies.
    hour_table = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="tuitionrule_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class TuitionAssignment(TenantModel):
    """A rule for every class of a program, or for one class (which wins)."""

    rule = models.ForeignKey(TuitionRule, on_delete=models.CASCADE, related_name="assignments")
    program = models.ForeignKey(
        "catalog.Program", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    klass = models.ForeignKey(
        "catalog.Class", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(program__isnull=True) ^ Q(klass__isnull=True),
                name="tuitionassignment_one_target",
            ),
            models.UniqueConstraint(
                fields=["program"],
                condition=Q(program__isnull=False),
                name="tuitionassignment_one_per_program",
            ),
            models.UniqueConstraint(
                fields=["klass"],
                condition=Q(klass__isnull=False),
                name="tuitionassignment_one_per_class",
            ),
        ]


class BillingSettings(TenantModel):
    class Proration(models.TextChoices):
        PRORATE = "prorate", "Prorate by meetings"
        FULL = "full", "Charge the full period"
        NONE = "none", "No charge for a partial period"

    class DiscountKind(models.TextChoices):
        PERCENT = "percent", "Percent"
        AMOUNT = "amount", "Amount"

    class Scope(models.TextChoices):
        STUDENT = "student", "Per student"
        FAMILY = "family", "Per family"

    proration = models.CharField(max_length=10, choices=Proration, default=Proration.PRORATE)
    due_day = models.PositiveSmallIntegerField(
        default=1, help_text="Day of the month tuition is due (1–28)."
    )
    sibling_kind = models.CharField(
        max_length=10, choices=DiscountKind, default=DiscountKind.PERCENT
    )
    sibling_second = models.PositiveIntegerField(default=0, help_text="Percent or cents.")
    sibling_third_plus = models.PositiveIntegerField(default=0)
    multiclass_kind = models.CharField(
        max_length=10, choices=DiscountKind, default=DiscountKind.PERCENT
    )
    multiclass_scope = models.CharField(max_length=10, choices=Scope, default=Scope.STUDENT)
    multiclass_second = models.PositiveIntegerField(default=0)
    multiclass_third_plus = models.PositiveIntegerField(default=0)
    combine_locations = models.BooleanField(
        default=True, help_text="Count enrollments at every location for discounts."
    )
    registration_fee_cents = models.PositiveIntegerField(default=0)
    registration_fee_scope = models.CharField(max_length=10, choices=Scope, default=Scope.FAMILY)
    membership_year_start_month = models.PositiveSmallIntegerField(default=9)
    late_fee_cents = models.PositiveIntegerField(default=0)
    late_fee_after_days = models.PositiveSmallIntegerField(default=10)
    late_fees_checked_on = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account"], name="billingsettings_one_per_account"),
            models.CheckConstraint(
                condition=Q(due_day__gte=1, due_day__lte=28), name="billingsettings_due_day_valid"
            ),
            models.CheckConstraint(
                condition=Q(
                    membership_year_start_month__gte=1, membership_year_start_month__lte=12
                ),
                name="billingsettings_year_start_valid",
            ),
        ]


class BillingRun(TenantModel):
    """Posting one period's tuition; resumable, with progress for the page."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Posting"
        DONE = "done", "Posted"
        FAILED = "failed", "Stopped by an error"

    period = models.DateField(help_text="The first day of the month billed.")
    status = models.CharField(max_length=20, choices=Status, default=Status.QUEUED)
    family_ids = models.JSONField(default=list, editable=False)
    families_total = models.PositiveIntegerField(default=0)
    families_done = models.PositiveIntegerField(default=0)
    charges_posted = models.PositiveIntegerField(default=0)
    cents_posted = models.BigIntegerField(default=0)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        "accounts.User", null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)  # progress heartbeat
    finished_at = models.DateTimeField(null=True, blank=True)

    # A running run with no progress for this long lost its worker (killed, restarted).
    STALLED_AFTER = timedelta(minutes=2)

    class Meta:
        ordering = ["-created_at"]

    @property
    def can_resume(self) -> bool:
        if self.status == self.Status.FAILED:
            return True
        if self.status in (self.Status.RUNNING, self.Status.QUEUED):
            last = self.updated_at or self.created_at
            return clock.now() - last > self.STALLED_AFTER
        return False

    @property
    def percent(self) -> int:
        return (
            100
            if not self.families_total
            else round(100 * self.families_done / self.families_total)
        )
