"""Programs, levels, rooms, sessions, classes, camps, closures and their meetings.

Meetings and camp days are *materialised* rows (see ``classbook.catalog.meetings``): the
enrollment engine counts and locks seats on them, billing prorates by them, attendance
takes a roll on them. Everything else here is the rule they are derived from.
"""

from __future__ import annotations

import zoneinfo
from datetime import date

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from classbook.catalog import weekdays
from classbook.core.tenancy import TenantModel

color_validator = RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a colour like #1e88e5.")

# Colours offered for classes (readable with white text on a calendar).
PALETTE = (
    "#1e88e5",
    "#43a047",
    "#e53935",
    "#8e24aa",
    "#fb8c00",
    "#00897b",
    "#3949ab",
    "#d81b60",
    "#6d4c41",
    "#546e7a",
)


class GenderRule(models.TextChoices):
    ANY = "any", "Anyone"
    GIRLS = "girls", "Girls only"
    BOYS = "boys", "Boys only"


class AgeAsOf(models.TextChoices):
    """The date a student's age is measured at for a class's age range."""

    FIRST_MEETING = "first_meeting", "The student's first meeting"
    TERM_START = "term_start", "The start of the session (or class)"
    FIXED_DATE = "fixed_date", "A fixed date"


class Program(TenantModel):
    """A line of business, e.g. "Recreational Gymnastics" or "Swim Lessons"."""

    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="program_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Level(TenantModel):
    """A skill level inside a program (Level 1, Level 2, ...); students carry one."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="levels")
    name = models.CharField(max_length=80)
    position = models.PositiveSmallIntegerField(default=0, help_text="Lower comes first.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["program__name", "position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["program", "name"], name="level_name_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.program.name} · {self.name}"


class Room(TenantModel):
    """A space at a location where classes meet (a gym floor, a pool lane, a studio)."""

    location = models.ForeignKey(
        "accounts.Location", on_delete=models.PROTECT, related_name="rooms"
    )
    name = models.CharField(max_length=80)
    capacity = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="How many people fit; for information only."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["location__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["location", "name"], name="room_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Term(TenantModel):
    """A session ("Fall 2026"): the dates its classes run and when registration is open.

    Called ``Term`` in code so it never clashes with Django's sessions; "session" in the UI.
    """

    name = models.CharField(max_length=120)
    start_date = models.DateField()
    end_date = models.DateField()
    registration_opens_at = models.DateTimeField(null=True, blank=True)
    registration_closes_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "session"
        ordering = ["-start_date", "name"]
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="term_name_unique"),
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")), name="term_dates_ordered"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Class(TenantModel):
    """A class that meets weekly: for a session, or open-ended from a start date.

    ``start_date``/``end_date`` are optional inside a session (they narrow it); without a
    session ``start_date`` is required and a missing ``end_date`` means open-ended.
    Ages are stored in months and both ends are inclusive (6y 0m – 9y 11m).
    """

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="classes")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    required_level = models.ForeignKey(
        Level, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    location = models.ForeignKey(
        "accounts.Location", on_delete=models.PROTECT, related_name="classes"
    )
    room = models.ForeignKey(
        Room, null=True, blank=True, on_delete=models.PROTECT, related_name="classes"
    )
    term = models.ForeignKey(
        Term, null=True, blank=True, on_delete=models.PROTECT, related_name="classes"
    )
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    weekdays = models.PositiveSmallIntegerField(help_text="Bit 0 = Monday … bit 6 = Sunday.")
    first_weekday = models.PositiveSmallIntegerField(default=0, editable=False)  # sorting
    start_time = models.TimeField()
    end_time = models.TimeField()
    instructors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="ClassInstructor", related_name="taught_classes"
    )
    capacity = models.PositiveSmallIntegerField()
    min_age_months = models.PositiveSmallIntegerField(null=True, blank=True)
    max_age_months = models.PositiveSmallIntegerField(null=True, blank=True)
    age_as_of = models.CharField(max_length=20, choices=AgeAsOf, default=AgeAsOf.FIRST_MEETING)
    age_as_of_date = models.DateField(null=True, blank=True)
    gender_rule = models.CharField(max_length=10, choices=GenderRule, default=GenderRule.ANY)
    portal_visible = models.BooleanField(default=True)
    registration_opens_at = models.DateTimeField(null=True, blank=True)
    registration_closes_at = models.DateTimeField(null=True, blank=True)
    color = models.CharField(max_length=7, default=PALETTE[0], validators=[color_validator])
    is_active = models.BooleanField(default=True)
    copied_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="copies"
    )
    # Meetings exist up to this date (open-ended classes are extended by housekeeping).
    meetings_until = models.DateField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "class"
        verbose_name_plural = "classes"
        ordering = ["first_weekday", "start_time", "name"]
        indexes = [
            models.Index(fields=["account", "location", "first_weekday", "start_time"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")), name="class_times_ordered"
            ),
            models.CheckConstraint(
                condition=Q(weekdays__gte=1, weekdays__lte=weekdays.ALL_DAYS),
                name="class_weekdays_valid",
            ),
            models.CheckConstraint(
                condition=Q(min_age_months__isnull=True)
                | Q(max_age_months__isnull=True)
                | Q(min_age_months__lte=F("max_age_months")),
                name="class_ages_ordered",
            ),
            models.CheckConstraint(
                condition=Q(start_date__isnull=True)
                | Q(end_date__isnull=True)
                | Q(end_date__gte=F("start_date")),
                name="class_dates_ordered",
            ),
            models.CheckConstraint(
                condition=Q(term__isnull=False) | Q(start_date__isnull=False),
                name="class_has_term_or_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def effective_start(self) -> date:
        return self.start_date or self.term.start_date

    @property
    def effective_end(self) -> date | None:
        """The last date the class may meet; None = open-ended."""
        if self.end_date:
            return self.end_date
        return self.term.end_date if self.term_id else None

    @property
    def is_open_ended(self) -> bool:
        return self.effective_end is None

    @property
    def weekday_list(self) -> list[int]:
        return weekdays.from_mask(self.weekdays)

    @property
    def weekday_names(self) -> str:
        return weekdays.short_names(self.weekdays)

    @property
    def timezone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.location.timezone)

    @property
    def effective_registration_opens_at(self):
        if self.registration_opens_at:
            return self.registration_opens_at
        return self.term.registration_opens_at if self.term_id else None

    @property
    def effective_registration_closes_at(self):
        if self.registration_closes_at:
            return self.registration_closes_at
        return self.term.registration_closes_at if self.term_id else None


class ClassInstructor(TenantModel):
    """A staff member teaching a class (the tenant-owned through table)."""

    klass = models.ForeignKey(Class, on_delete=models.CASCADE, related_name="instructor_links")
    instructor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["klass", "instructor"], name="class_instructor_once"),
        ]


class Meeting(TenantModel):
    """One occurrence of a class: a date with its start and end instants.

    Derived from the class, its session and closures by ``catalog.meetings``; never edited
    by hand. Past meetings are never deleted or moved.
    """

    klass = models.ForeignKey(Class, on_delete=models.CASCADE, related_name="meetings")
    date = models.DateField()
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["account", "date"])]
        constraints = [
            # Also the (klass, date) index enrollment counts capacity with.
            models.UniqueConstraint(fields=["klass", "date"], name="meeting_one_per_class_day"),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="meeting_times_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.klass.name} · {self.date:%a %b} {self.date.day}"


class Closure(TenantModel):
    """A holiday or closure: no class meets in it (at one location, or everywhere)."""

    name = models.CharField(max_length=120)
    start_date = models.DateField()
    end_date = models.DateField()
    location = models.ForeignKey(
        "accounts.Location",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="closures",
        help_text="Leave empty to close every location.",
    )
    closes_camps = models.BooleanField(
        default=False, help_text="Camps do not run on these dates either."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["start_date", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")), name="closure_dates_ordered"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def covers(self, day: date, location_id: int) -> bool:
        return self.start_date <= day <= self.end_date and (
            self.location_id is None or self.location_id == location_id
        )


class Camp(TenantModel):
    """A camp that runs on dates; families sign up for all of it or for chosen days."""

    class SignupMode(models.TextChoices):
        WHOLE = "whole", "The whole camp"
        PER_DAY = "per_day", "Chosen days"

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="camps")
    location = models.ForeignKey(
        "accounts.Location", on_delete=models.PROTECT, related_name="camps"
    )
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    start_date = models.DateField()
    end_date = models.DateField()
    weekdays = models.PositiveSmallIntegerField(default=weekdays.MON_TO_FRI)
    signup_mode = models.CharField(max_length=10, choices=SignupMode, default=SignupMode.WHOLE)
    day_capacity = models.PositiveSmallIntegerField(help_text="Campers per day.")
    min_age_months = models.PositiveSmallIntegerField(null=True, blank=True)
    max_age_months = models.PositiveSmallIntegerField(null=True, blank=True)
    portal_visible = models.BooleanField(default=True)
    registration_opens_at = models.DateTimeField(null=True, blank=True)
    registration_closes_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["start_date", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")), name="camp_dates_ordered"
            ),
            models.CheckConstraint(
                condition=Q(weekdays__gte=1, weekdays__lte=weekdays.ALL_DAYS),
                name="camp_weekdays_valid",
            ),
            models.CheckConstraint(
                condition=Q(min_age_months__isnull=True)
                | Q(max_age_months__isnull=True)
                | Q(min_age_months__lte=F("max_age_months")),
                name="camp_ages_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def weekday_names(self) -> str:
        return weekdays.short_names(self.weekdays)


class CampOption(TenantModel):
    """Full day, half day AM or half day PM: its own times and price (whole camp or a day)."""

    class Kind(models.TextChoices):
        FULL_DAY = "full", "Full day"
        AM = "am", "Half day (AM)"
        PM = "pm", "Half day (PM)"

    camp = models.ForeignKey(Camp, on_delete=models.CASCADE, related_name="options")
    kind = models.CharField(max_length=4, choices=Kind)
    start_time = models.TimeField()
    end_time = models.TimeField()
    price_cents = models.PositiveIntegerField(help_text="In the account's currency.")

    class Meta:
        ordering = ["camp", "start_time", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["camp", "kind"], name="camp_option_kind_once"),
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")), name="camp_option_times_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.camp.name} · {self.get_kind_display()}"


class CampDay(TenantModel):
    """One date a camp runs: the unit enrollment locks and counts seats on."""

    camp = models.ForeignKey(Camp, on_delete=models.CASCADE, related_name="days")
    date = models.DateField()

    class Meta:
        ordering = ["date"]
        indexes = [models.Index(fields=["account", "date"])]
        constraints = [
            models.UniqueConstraint(fields=["camp", "date"], name="camp_day_once"),
        ]

    def __str__(self) -> str:
        return f"{self.camp.name} · {self.date:%a %b} {self.date.day}"

    @property
    def capacity(self) -> int:
        return self.camp.day_capacity
