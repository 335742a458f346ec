"""Who takes a seat where, and for how long.

Seats are never counted in a stored counter. For every meeting of a class (or every camp
day) the seats taken are computed from the rows below (``enrollment.capacity``):

    enrollments covering the date + trial and makeup visits on that meeting
    + unexpired holds covering the date + open waitlist offers covering the date

and a claim is valid only if that stays within capacity on every date it covers. Claims
lock the class (or camp day) rows first; see ``enrollment.locking``.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from classbook.core.tenancy import TenantModel


class Enrollment(TenantModel):
    """A student in a weekly class from ``start_date`` until ``end_date`` (inclusive)."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Enrolled"
        DROPPED = "dropped", "Dropped"
        TRANSFERRED = "transferred", "Transferred"
        CANCELLED = "cancelled", "Cancelled before the start"

    student = models.ForeignKey(
        "families.Student", on_delete=models.PROTECT, related_name="enrollments"
    )
    klass = models.ForeignKey("catalog.Class", on_delete=models.PROTECT, related_name="enrollments")
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True, help_text="Last day attending.")
    status = models.CharField(max_length=20, choices=Status, default=Status.ACTIVE)
    end_reason = models.CharField(max_length=300, blank=True)
    transferred_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="transferred_to"
    )
    override_reason = models.CharField(
        max_length=300, blank=True, help_text="Why staff enrolled past capacity or rules."
    )
    source = models.CharField(max_length=20, default="office")  # office, portal, waitlist
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["start_date", "id"]
        indexes = [
            models.Index(fields=["klass", "status", "start_date"], name="enrollment_class_status")
        ]
        constraints = [
            # A student has at most one current enrollment per class.
            models.UniqueConstraint(
                fields=["student", "klass"],
                condition=Q(status="active"),
                name="enrollment_one_active_per_class",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="enrollment_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student} in {self.klass}"

    def covers(self, day) -> bool:
        return self.start_date <= day and (self.end_date is None or day <= self.end_date)


class CampBooking(TenantModel):
    """A student at one camp day with an option (full day, morning, afternoon)."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Booked"
        CANCELLED = "cancelled", "Cancelled"

    student = models.ForeignKey(
        "families.Student", on_delete=models.PROTECT, related_name="camp_bookings"
    )
    camp_day = models.ForeignKey(
        "catalog.CampDay", on_delete=models.PROTECT, related_name="bookings"
    )
    option = models.ForeignKey("catalog.CampOption", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=Status, default=Status.ACTIVE)
    override_reason = models.CharField(max_length=300, blank=True)
    source = models.CharField(max_length=20, default="office")
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["student", "camp_day"],
                condition=Q(status="active"),
                name="campbooking_one_per_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student} at {self.camp_day}"


class Visit(TenantModel):
    """A single visit to one meeting: a trial, or a makeup paid with a token."""

    class Kind(models.TextChoices):
        TRIAL = "trial", "Trial"
        MAKEUP = "makeup", "Makeup"

    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        CANCELLED = "cancelled", "Cancelled"

    kind = models.CharField(max_length=10, choices=Kind)
    student = models.ForeignKey("families.Student", on_delete=models.PROTECT, related_name="visits")
    meeting = models.ForeignKey("catalog.Meeting", on_delete=models.PROTECT, related_name="visits")
    status = models.CharField(max_length=20, choices=Status, default=Status.BOOKED)
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["student", "meeting"],
                condition=Q(status="booked"),
                name="visit_one_per_meeting",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.student} on {self.meeting}"


class MakeupToken(TenantModel):
    """One makeup owed to a student (an absence), spent on a meeting with space."""

    class Status(models.TextChoices):
        AVAILABLE = "available", "Available"
        REDEEMED = "redeemed", "Used"
        VOID = "void", "Cancelled"

    student = models.ForeignKey(
        "families.Student", on_delete=models.PROTECT, related_name="makeup_tokens"
    )
    reason = models.CharField(max_length=300)
    missed_meeting = models.ForeignKey(
        "catalog.Meeting", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_on = models.DateField()
    status = models.CharField(max_length=20, choices=Status, default=Status.AVAILABLE)
    visit = models.OneToOneField(
        Visit, null=True, blank=True, on_delete=models.PROTECT, related_name="token"
    )
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["expires_on", "id"]


class Hold(TenantModel):
    """A seat kept for a portal cart until ``expires_at`` (the reservation timer).

    An expired hold stops counting at that instant; housekeeping only deletes old rows.
    Exactly one of ``klass`` / ``camp_day`` is set.
    """

    cart = models.CharField(max_length=64, db_index=True)
    student = models.ForeignKey(
        "families.Student", null=True, blank=True, on_delete=models.CASCADE, related_name="holds"
    )
    child_label = models.CharField(
        max_length=120, blank=True, help_text="Who it is for, before the family signs in."
    )
    klass = models.ForeignKey(
        "catalog.Class", null=True, blank=True, on_delete=models.CASCADE, related_name="holds"
    )
    start_date = models.DateField(null=True, blank=True)
    camp_day = models.ForeignKey(
        "catalog.CampDay", null=True, blank=True, on_delete=models.CASCADE, related_name="holds"
    )
    camp_option = models.ForeignKey(
        "catalog.CampOption", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["klass", "expires_at"], name="hold_class_expiry"),
            models.Index(fields=["camp_day", "expires_at"], name="hold_day_expiry"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(klass__isnull=False, start_date__isnull=False, camp_day__isnull=True)
                    | Q(klass__isnull=True, camp_day__isnull=False, camp_option__isnull=False)
                ),
                name="hold_one_target",
            ),
        ]


class WaitlistEntry(TenantModel):
    """A place in line for a full class (from a start date) or a full camp day."""

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting"
        OFFERED = "offered", "Offered a seat"
        CLAIMED = "claimed", "Claimed"
        DECLINED = "declined", "Declined"
        EXPIRED = "expired", "Offer expired"
        LEFT = "left", "Left the list"

    student = models.ForeignKey(
        "families.Student", on_delete=models.PROTECT, related_name="waitlist_entries"
    )
    klass = models.ForeignKey(
        "catalog.Class", null=True, blank=True, on_delete=models.CASCADE, related_name="waitlist"
    )
    start_date = models.DateField(null=True, blank=True)
    camp_day = models.ForeignKey(
        "catalog.CampDay", null=True, blank=True, on_delete=models.CASCADE, related_name="waitlist"
    )
    camp_option = models.ForeignKey(
        "catalog.CampOption", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(max_length=20, choices=Status, default=Status.WAITING)
    joined_at = models.DateTimeField(default=timezone.now)
    offered_at = models.DateTimeField(null=True, blank=True)
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["joined_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["student", "klass"],
                condition=Q(status__in=["waiting", "offered"], klass__isnull=False),
                name="waitlist_once_per_class",
            ),
            models.UniqueConstraint(
                fields=["student", "camp_day"],
                condition=Q(status__in=["waiting", "offered"], camp_day__isnull=False),
                name="waitlist_once_per_camp_day",
            ),
            models.CheckConstraint(
                condition=(
                    Q(klass__isnull=False, start_date__isnull=False, camp_day__isnull=True)
                    | Q(klass__isnull=True, camp_day__isnull=False, camp_option__isnull=False)
                ),
                name="waitlist_one_target",
            ),
            models.CheckConstraint(
                condition=~Q(status="offered") | Q(offer_expires_at__isnull=False),
                name="waitlist_offer_has_deadline",
            ),
        ]


class EnrollmentRequest(TenantModel):
    """A family's request (from the portal) that staff approve or deny."""

    class Kind(models.TextChoices):
        DROP = "drop", "Drop"
        TRANSFER = "transfer", "Transfer"
        TRIAL = "trial", "Trial"
        MAKEUP = "makeup", "Makeup"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for the office"
        APPROVED = "approved", "Approved"
        DENIED = "denied", "Denied"

    kind = models.CharField(max_length=20, choices=Kind)
    student = models.ForeignKey(
        "families.Student", on_delete=models.PROTECT, related_name="requests"
    )
    enrollment = models.ForeignKey(
        Enrollment, null=True, blank=True, on_delete=models.PROTECT, related_name="requests"
    )
    target_class = models.ForeignKey(
        "catalog.Class", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    meeting = models.ForeignKey(
        "catalog.Meeting", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    effective_date = models.DateField(null=True, blank=True)
    message = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=Status, default=Status.PENDING)
    reply = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]


class EnrollmentSettings(TenantModel):
    """Per-account timers."""

    hold_minutes = models.PositiveSmallIntegerField(
        "Checkout reservation timer (minutes)", default=10
    )
    offer_hours = models.PositiveSmallIntegerField("Waitlist claim window (hours)", default=24)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account"], name="enrollmentsettings_one_per_account")
        ]
