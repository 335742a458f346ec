"""Reads of the customer portal.

The class finder is the hottest page on registration day. ``class_cards`` answers it in a
fixed number of queries however many classes it lists (classes, instructors, remaining
meetings, prices, and one query each for enrollments, holds, offers and visits of all the
listed classes at once), and returns plain values that may be cached for a few seconds
(``FINDER_CACHE_SECONDS``): a seat count shown a few seconds late is harmless because
every claim re-checks availability under the seat lock (``enrollment.services``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.core.cache import cache
from django.db.models import F, Q

from classbook.billing.models import TuitionAssignment, TuitionRule
from classbook.catalog import eligibility as rules
from classbook.catalog import weekdays
from classbook.catalog.models import (
    Camp,
    CampDay,
    CampOption,
    Class,
    ClassInstructor,
    GenderRule,
    Level,
    Meeting,
    Program,
)
from classbook.core.money import Money
from classbook.core.tenancy import require_account
from classbook.enrollment.capacity import SEATED
from classbook.enrollment.eligibility import camp_refusals, class_refusals
from classbook.enrollment.models import (
    CampBooking,
    Enrollment,
    EnrollmentRequest,
    Hold,
    MakeupToken,
    Visit,
    WaitlistEntry,
)
from classbook.families.models import Family, Student
from classbook.portal.models import Checkout, PortalSettings

FINDER_CACHE_SECONDS = 5


def portal_settings() -> PortalSettings:
    return PortalSettings.objects.first() or PortalSettings()


# --- who a class is for ----------------------------------------------------------------------


@dataclass(frozen=True)
class LevelInfo:
    pk: int
    program_id: int
    position: int
    name: str


@dataclass(frozen=True)
class Who:
    """The person the parent is looking for: a child's date of birth (and, if given,
    gender and level), or one of a signed-in family's students."""

    birth_date: date
    gender: str = ""  # "female", "male" or "" (not said)
    level: LevelInfo | None = None
    student_id: int | None = None
    label: str = ""

    @classmethod
    def of_student(cls, student: Student) -> Who:
        level = student.level
        return cls(
            birth_date=student.date_of_birth,
            gender="" if student.gender == Student.Gender.UNSPECIFIED else student.gender,
            level=LevelInfo(level.pk, level.program_id, level.position, level.name)
            if level
            else None,
            student_id=student.pk,
            label=student.full_name,
        )


def level_info(level: Level | None) -> LevelInfo | None:
    return LevelInfo(level.pk, level.program_id, level.position, level.name) if level else None


# --- class cards -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ClassCard:
    """What a parent needs to choose a class, as plain values (cacheable)."""

    id: int
    name: str
    description: str
    color: str
    program_id: int
    program_name: str
    location_id: int
    location_name: str
    room_name: str
    weekdays: int
    days_label: str
    start_time: time
    end_time: time
    instructors: tuple[str, ...]
    capacity: int
    seats_left: int
    start_date: date  # the next meeting a new student would start at
    end_date: date | None
    meetings_left: int
    term_name: str
    term_start: date
    age_label: str
    min_age_months: int | None
    max_age_months: int | None
    age_as_of: str
    age_as_of_date: date | None
    gender_rule: str
    gender_label: str
    required_level: LevelInfo | None
    price_label: str
    registration_opens_at: datetime | None
    registration_closes_at: datetime | None
    timezone: str

    @property
    def full(self) -> bool:
        return self.seats_left <= 0

    @property
    def seats_label(self) -> str:
        if self.full:
            return "Full"
        return f"{self.seats_left} left"

    @property
    def time_label(self) -> str:
        return f"{_clock(self.start_time)}–{_clock(self.end_time)}"

    def registration_note(self, now: datetime) -> str:
        import zoneinfo

        return (
            rules.check_registration_window(
                opens_at=self.registration_opens_at,
                closes_at=self.registration_closes_at,
                at=now,
                tz=zoneinfo.ZoneInfo(self.timezone),
            )
            or ""
        )

    def refusals(self, who: Who) -> list[str]:
        """The rules ``who`` does not meet (the same checks the enrollment engine makes)."""
        on = rules.age_reference_date(
            rule=self.age_as_of,
            first_meeting=self.start_date,
            term_start=self.term_start,
            fixed_date=self.age_as_of_date,
        )
        found = [
            rules.check_age(
                birth_date=who.birth_date,
                on=on,
                min_months=self.min_age_months,
                max_months=self.max_age_months,
            ),
            rules.check_gender(gender=who.gender, rule=self.gender_rule),
            rules.check_level(student_level=who.level, required_level=self.required_level),
        ]
        return [reason for reason in found if reason]


def _clock(value: time) -> str:
    hour = value.hour % 12 or 12
    suffix = "am" if value.hour < 12 else "pm"
    return f"{hour}:{value.minute:02d}{suffix}" if value.minute else f"{hour}{suffix}"


TIMES_OF_DAY = {
    "morning": ("Morning (before noon)", time(0), time(12)),
    "afternoon": ("Afternoon (noon–5pm)", time(12), time(17)),
    "evening": ("Evening (after 5pm)", time(17), time(23, 59, 59)),
}


@dataclass(frozen=True)
class FinderFilter:
    location_id: int | None = None
    program_id: int | None = None
    weekdays: tuple[int, ...] = ()
    time_of_day: str = ""
    class_ids: tuple[int, ...] | None = None

    def cache_key(self, account_id: int) -> str:
        return (
            f"portal:classes:{account_id}:{self.location_id}:{self.program_id}:"
            f"{','.join(map(str, self.weekdays))}:{self.time_of_day}:"
            f"{','.join(map(str, self.class_ids)) if self.class_ids is not None else '*'}"
        )


def price_labels(classes: list[Class], currency: str) -> dict[int, str]:
    """Each class's price as the billing rules say it ("$85.00 a month"); one query."""
    found: dict[tuple[str, int], TuitionRule] = {}
    assignments = TuitionAssignment.objects.filter(
        Q(klass_id__in=[k.pk for k in classes]) | Q(program_id__in={k.program_id for k in classes})
    ).select_related("rule")
    for a in assignments:
        found[("class", a.klass_id) if a.klass_id else ("program", a.program_id)] = a.rule
    labels = {}
    for klass in classes:
        rule = found.get(("class", klass.pk)) or found.get(("program", klass.program_id))
        labels[klass.pk] = _price_label(rule, currency) if rule else ""
    return labels


def _price_label(rule: TuitionRule, currency: str) -> str:
    def money(cents):
        return str(Money(int(cents), currency))

    if rule.kind == TuitionRule.Kind.MONTHLY:
        return f"{money(rule.amount_cents)} a month"
    if rule.kind == TuitionRule.Kind.PER_TERM:
        return f"{money(rule.amount_cents)} for the session"
    if rule.kind == TuitionRule.Kind.PER_MEETING:
        return f"{money(rule.amount_cents)} a class"
    if rule.hour_table:
        return f"from {money(min(c for _, c in rule.hour_table))} a month"
    return ""


def seats_left_many(
    classes: list[Class], dates: dict[int, list[date]], *, now: datetime
) -> dict[int, int]:
    """Seats free on every remaining meeting of each class (the smallest), the count
    ``enrollment.capacity`` makes for one class (enrolled + visits + unexpired holds + open
    offers), for all ``classes`` in four queries."""
    ids = [k.pk for k in classes if dates.get(k.pk)]
    left = {k.pk: 0 for k in classes}
    if not ids:
        return left
    first = min(dates[i][0] for i in ids)
    last = max(dates[i][-1] for i in ids)
    intervals: dict[int, list[tuple[date, date | None]]] = defaultdict(list)
    for klass_id, start, end in (
        Enrollment.objects.filter(klass_id__in=ids, status__in=SEATED, start_date__lte=last)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=first))
        .values_list("klass_id", "start_date", "end_date")
    ):
        intervals[klass_id].append((start, end))
    for klass_id, start in Hold.objects.filter(
        klass_id__in=ids, expires_at__gt=now, start_date__lte=last
    ).values_list("klass_id", "start_date"):
        intervals[klass_id].append((start, None))
    for klass_id, start in WaitlistEntry.objects.filter(
        klass_id__in=ids,
        status=WaitlistEntry.Status.OFFERED,
        offer_expires_at__gt=now,
        start_date__lte=last,
    ).values_list("klass_id", "start_date"):
        intervals[klass_id].append((start, None))
    visits: dict[int, Counter] = defaultdict(Counter)
    for klass_id, day in Visit.objects.filter(
        meeting__klass_id__in=ids, meeting__date__gte=first, status=Visit.Status.BOOKED
    ).values_list("meeting__klass_id", "meeting__date"):
        visits[klass_id][day] += 1
    for klass in classes:
        days = dates.get(klass.pk)
        if not days:
            continue
        spans = sorted(intervals[klass.pk])
        busiest = 0
        for day in days:
            taken = visits[klass.pk][day]
            for start, end in spans:
                if start > day:
                    break
                if end is None or day <= end:
                    taken += 1
            busiest = max(busiest, taken)
        left[klass.pk] = max(0, klass.capacity - busiest)
    return left


def _classes(filters: FinderFilter):
    queryset = Class.objects.filter(
        is_active=True, portal_visible=True, location__is_active=True
    ).select_related("program", "location", "room", "term", "required_level")
    if filters.location_id:
        queryset = queryset.filter(location_id=filters.location_id)
    if filters.program_id:
        queryset = queryset.filter(program_id=filters.program_id)
    if filters.class_ids is not None:
        queryset = queryset.filter(pk__in=filters.class_ids)
    if filters.weekdays:
        mask = weekdays.to_mask(filters.weekdays)
        queryset = queryset.annotate(_on_day=F("weekdays").bitand(mask)).filter(_on_day__gt=0)
    if filters.time_of_day in TIMES_OF_DAY:
        _, start, end = TIMES_OF_DAY[filters.time_of_day]
        queryset = queryset.filter(start_time__gte=start, start_time__lt=end)
    return queryset.order_by("first_weekday", "start_time", "name", "pk")


def class_cards(
    filters: FinderFilter = FinderFilter(), *, now: datetime, use_cache: bool = False
) -> list[ClassCard]:
    """The portal's classes that still meet, with seats left and price (see the module
    docstring for the query budget)."""
    account = require_account()
    key = filters.cache_key(account.pk)
    if use_cache:
        cached = cache.get(key)
        if cached is not None:
            return cached
    classes = list(_classes(filters))
    ids = [k.pk for k in classes]
    instructors: dict[int, list[str]] = defaultdict(list)
    for link in (
        ClassInstructor.objects.filter(klass_id__in=ids)
        .select_related("instructor")
        .order_by("instructor__first_name", "instructor__last_name")
    ):
        person = link.instructor
        instructors[link.klass_id].append(
            f"{person.first_name} {person.last_name[:1]}.".strip()
            if person.last_name
            else person.first_name or person.username
        )
    dates: dict[int, list[date]] = defaultdict(list)
    for klass_id, day in (
        Meeting.objects.filter(klass_id__in=ids, starts_at__gt=now)
        .order_by("klass_id", "date")
        .values_list("klass_id", "date")
    ):
        dates[klass_id].append(day)
    left = seats_left_many(classes, dates, now=now)
    prices = price_labels(classes, account.currency)
    cards = []
    for klass in classes:
        days = dates.get(klass.pk)
        if not days:
            continue  # nothing left to join
        term_start = klass.term.start_date if klass.term_id else klass.effective_start
        cards.append(
            ClassCard(
                id=klass.pk,
                name=klass.name,
                description=klass.description,
                color=klass.color,
                program_id=klass.program_id,
                program_name=klass.program.name,
                location_id=klass.location_id,
                location_name=klass.location.name,
                room_name=klass.room.name if klass.room_id else "",
                weekdays=klass.weekdays,
                days_label=", ".join(weekdays.NAMES[d] for d in klass.weekday_list),
                start_time=klass.start_time,
                end_time=klass.end_time,
                instructors=tuple(instructors[klass.pk]),
                capacity=klass.capacity,
                seats_left=left[klass.pk],
                start_date=days[0],
                end_date=klass.effective_end,
                meetings_left=len(days),
                term_name=klass.term.name if klass.term_id else "",
                term_start=term_start,
                age_label=rules.format_age_range(klass.min_age_months, klass.max_age_months),
                min_age_months=klass.min_age_months,
                max_age_months=klass.max_age_months,
                age_as_of=klass.age_as_of,
                age_as_of_date=klass.age_as_of_date,
                gender_rule=klass.gender_rule,
                gender_label=""
                if klass.gender_rule == GenderRule.ANY
                else klass.get_gender_rule_display(),
                required_level=level_info(klass.required_level),
                price_label=prices[klass.pk],
                registration_opens_at=klass.effective_registration_opens_at,
                registration_closes_at=klass.effective_registration_closes_at,
                timezone=klass.location.timezone,
            )
        )
    if use_cache:
        cache.set(key, cards, FINDER_CACHE_SECONDS)
    return cards


def class_card(class_id: int, *, now: datetime) -> ClassCard | None:
    cards = class_cards(FinderFilter(class_ids=(class_id,)), now=now)
    return cards[0] if cards else None


def upcoming_meetings(class_id: int, *, now: datetime, limit: int = 8) -> list[Meeting]:
    return list(
        Meeting.objects.filter(klass_id=class_id, starts_at__gt=now).order_by("date")[:limit]
    )


def portal_programs(location_id: int | None = None) -> list[Program]:
    """Programs with a class or camp open in the portal (at a location)."""
    classes = Class.objects.filter(is_active=True, portal_visible=True)
    camps = Camp.objects.filter(portal_visible=True)
    if location_id:
        classes, camps = (
            classes.filter(location_id=location_id),
            camps.filter(location_id=location_id),
        )
    return list(
        Program.objects.filter(is_active=True)
        .filter(Q(pk__in=classes.values("program_id")) | Q(pk__in=camps.values("program_id")))
        .prefetch_related("levels")
        .order_by("name")
    )


def week_meetings(
    cards: list[ClassCard], *, week_start: date
) -> list[tuple[date, list[tuple[Meeting, ClassCard]]]]:
    """The week's meetings of the listed classes, by day (the calendar view)."""
    by_id = {card.id: card for card in cards}
    days = [week_start + timedelta(days=i) for i in range(7)]
    found: dict[date, list] = defaultdict(list)
    for meeting in Meeting.objects.filter(
        klass_id__in=list(by_id), date__range=(days[0], days[-1])
    ).order_by("starts_at"):
        found[meeting.date].append((meeting, by_id[meeting.klass_id]))
    return [(day, found[day]) for day in days]


# --- camps -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CampDayInfo:
    id: int
    date: date
    left: int


@dataclass(frozen=True)
class CampOptionInfo:
    id: int
    kind: str
    label: str
    start_time: time
    end_time: time
    price_label: str

    @property
    def time_label(self) -> str:
        return f"{_clock(self.start_time)}–{_clock(self.end_time)}"


@dataclass(frozen=True)
class CampCard:
    id: int
    name: str
    description: str
    program_name: str
    location_name: str
    start_date: date
    end_date: date
    whole: bool
    capacity: int
    age_label: str
    min_age_months: int | None
    max_age_months: int | None
    options: tuple[CampOptionInfo, ...]
    days: tuple[CampDayInfo, ...]
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None

    @property
    def seats_left(self) -> int:
        return min((d.left for d in self.days), default=0)

    @property
    def full(self) -> bool:
        return all(d.left <= 0 for d in self.days)

    @property
    def week_of(self) -> date:
        return weekdays.week_start(self.start_date)

    def refusals(self, who: Who) -> list[str]:
        reason = rules.check_age(
            birth_date=who.birth_date,
            on=self.start_date,
            min_months=self.min_age_months,
            max_months=self.max_age_months,
        )
        return [reason] if reason else []

    def registration_note(self, now: datetime) -> str:
        return (
            rules.check_registration_window(
                opens_at=self.registration_opens_at, closes_at=self.registration_closes_at, at=now
            )
            or ""
        )


def camp_cards(
    *,
    today: date,
    now: datetime,
    location_id: int | None = None,
    program_id: int | None = None,
    camp_ids: tuple[int, ...] | None = None,
) -> list[CampCard]:
    """Camps still to run, with their options and seats per day; four queries."""
    camps = Camp.objects.filter(portal_visible=True, end_date__gte=today).select_related(
        "program", "location"
    )
    if location_id:
        camps = camps.filter(location_id=location_id)
    if program_id:
        camps = camps.filter(program_id=program_id)
    if camp_ids is not None:
        camps = camps.filter(pk__in=camp_ids)
    camps = list(camps.order_by("start_date", "name"))
    ids = [c.pk for c in camps]
    currency = require_account().currency
    options: dict[int, list[CampOption]] = defaultdict(list)
    for option in CampOption.objects.filter(camp_id__in=ids).order_by("start_time", "kind"):
        options[option.camp_id].append(option)
    days: dict[int, list[CampDay]] = defaultdict(list)
    all_days = list(CampDay.objects.filter(camp_id__in=ids, date__gte=today).order_by("date"))
    for day in all_days:
        days[day.camp_id].append(day)
    taken: Counter = Counter()
    day_ids = [d.pk for d in all_days]
    taken.update(
        CampBooking.objects.filter(
            camp_day_id__in=day_ids, status=CampBooking.Status.ACTIVE
        ).values_list("camp_day_id", flat=True)
    )
    taken.update(
        Hold.objects.filter(camp_day_id__in=day_ids, expires_at__gt=now).values_list(
            "camp_day_id", flat=True
        )
    )
    taken.update(
        WaitlistEntry.objects.filter(
            camp_day_id__in=day_ids,
            status=WaitlistEntry.Status.OFFERED,
            offer_expires_at__gt=now,
        ).values_list("camp_day_id", flat=True)
    )
    cards = []
    for camp in camps:
        if not days[camp.pk]:
            continue
        cards.append(
            CampCard(
                id=camp.pk,
                name=camp.name,
                description=camp.description,
                program_name=camp.program.name,
                location_name=camp.location.name,
                start_date=camp.start_date,
                end_date=camp.end_date,
                whole=camp.signup_mode == Camp.SignupMode.WHOLE,
                capacity=camp.day_capacity,
                age_label=rules.format_age_range(camp.min_age_months, camp.max_age_months),
                min_age_months=camp.min_age_months,
                max_age_months=camp.max_age_months,
                options=tuple(
                    CampOptionInfo(
                        id=o.pk,
                        kind=o.kind,
                        label=o.get_kind_display(),
                        start_time=o.start_time,
                        end_time=o.end_time,
                        price_label=str(Money(o.price_cents, currency))
                        + (
                            " for the camp"
                            if camp.signup_mode == Camp.SignupMode.WHOLE
                            else " a day"
                        ),
                    )
                    for o in options[camp.pk]
                ),
                days=tuple(
                    CampDayInfo(d.pk, d.date, max(0, camp.day_capacity - taken[d.pk]))
                    for d in days[camp.pk]
                ),
                registration_opens_at=camp.registration_opens_at,
                registration_closes_at=camp.registration_closes_at,
            )
        )
    return cards


# --- the cart ----------------------------------------------------------------------------------


def cart_holds(cart: str):
    """Every hold of the cart (expired ones too), with what a cart row shows."""
    if not cart:
        return []
    return list(
        Hold.objects.filter(cart=cart)
        .select_related(
            "klass__program",
            "klass__location",
            "klass__term",
            "klass__required_level",
            "camp_day__camp__location",
            "camp_option",
            "student__level",
        )
        .order_by("created_at", "pk")
    )


def live_hold_count(cart: str, *, now: datetime) -> int:
    if not cart:
        return 0
    return Hold.objects.filter(cart=cart, expires_at__gt=now).count()


def seat_refusals(hold: Hold, student: Student, *, now: datetime) -> list[str]:
    """Why ``student`` cannot take the seat ``hold`` keeps (empty: they can)."""
    if hold.klass_id:
        klass = hold.klass
        reasons = class_refusals(student, klass, start=hold.start_date, now=now, check_window=True)
        if Enrollment.objects.filter(
            student=student, klass=klass, status=Enrollment.Status.ACTIVE
        ).exists():
            reasons.append(f"{student.first_name} is already enrolled in {klass}.")
        if (
            Hold.objects.filter(cart=hold.cart, student=student, klass=klass, expires_at__gt=now)
            .exclude(pk=hold.pk)
            .exists()
        ):
            reasons.append(f"{student.first_name} already has a seat in {klass} in this cart.")
        return reasons
    day = hold.camp_day
    reasons = camp_refusals(student, day.camp, now=now, check_window=True)
    if CampBooking.objects.filter(
        student=student, camp_day=day, status=CampBooking.Status.ACTIVE
    ).exists():
        reasons.append(f"{student.first_name} is already booked on {day.date:%b %-d}.")
    if (
        Hold.objects.filter(cart=hold.cart, student=student, camp_day=day, expires_at__gt=now)
        .exclude(pk=hold.pk)
        .exists()
    ):
        reasons.append(f"{student.first_name} already has {day} in this cart.")
    return reasons


# --- the family's pages ----------------------------------------------------------------------


@dataclass
class FamilyOverview:
    family: Family
    students: list[Student]
    enrollments: list[Enrollment]
    camp_bookings: list[CampBooking]
    waitlist: list[WaitlistEntry]
    requests: list[EnrollmentRequest]
    makeups: list[MakeupToken]
    checkouts: list[Checkout] = field(default_factory=list)


def family_overview(family: Family, *, today: date) -> FamilyOverview:
    students = list(
        Student.objects.filter(family=family, is_active=True).select_related("level__program")
    )
    enrollments = list(
        Enrollment.objects.filter(student__family=family, status=Enrollment.Status.ACTIVE)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
        .select_related("student", "klass__location", "klass__program")
        .order_by("student__first_name", "klass__first_weekday", "klass__start_time")
    )
    camp_bookings = list(
        CampBooking.objects.filter(
            student__family=family, status=CampBooking.Status.ACTIVE, camp_day__date__gte=today
        )
        .select_related("student", "camp_day__camp", "option")
        .order_by("camp_day__date")
    )
    waitlist = list(
        WaitlistEntry.objects.filter(
            student__family=family,
            status__in=[WaitlistEntry.Status.WAITING, WaitlistEntry.Status.OFFERED],
        )
        .select_related("student", "klass", "camp_day__camp")
        .order_by("joined_at")
    )
    requests = list(
        EnrollmentRequest.objects.filter(student__family=family)
        .select_related("student", "enrollment__klass", "target_class", "meeting__klass")
        .order_by("-created_at")[:20]
    )
    makeups = list(
        MakeupToken.objects.filter(
            student__family=family,
            status=MakeupToken.Status.AVAILABLE,
            expires_on__gte=today,
        ).select_related("student")
    )
    return FamilyOverview(
        family=family,
        students=students,
        enrollments=enrollments,
        camp_bookings=camp_bookings,
        waitlist=waitlist,
        requests=requests,
        makeups=makeups,
        checkouts=list(Checkout.objects.filter(family=family).order_by("-created_at")[:5]),
    )


@dataclass(frozen=True)
class ScheduleItem:
    starts_at: datetime
    ends_at: datetime
    title: str
    student: str
    where: str
    uid: str


def family_schedule(family: Family, *, start: date, end: date) -> list[ScheduleItem]:
    """The family's meetings from ``start`` to ``end``: enrolled classes, trial and makeup
    visits, camp days (three queries plus the camps' options)."""
    import zoneinfo
    from datetime import datetime as dt

    items: list[ScheduleItem] = []
    enrollments = list(
        Enrollment.objects.filter(student__family=family, status__in=SEATED)
        .filter(start_date__lte=end)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=start))
        .select_related("student", "klass__location", "klass__room")
    )
    by_class: dict[int, list[Enrollment]] = defaultdict(list)
    for e in enrollments:
        by_class[e.klass_id].append(e)
    for meeting in Meeting.objects.filter(
        klass_id__in=list(by_class), date__range=(start, end)
    ).order_by("starts_at"):
        for e in by_class[meeting.klass_id]:
            if e.covers(meeting.date):
                klass = e.klass
                items.append(
                    ScheduleItem(
                        starts_at=meeting.starts_at,
                        ends_at=meeting.ends_at,
                        title=klass.name,
                        student=e.student.first_name,
                        where=", ".join(
                            p
                            for p in [klass.location.name, klass.room.name if klass.room else ""]
                            if p
                        ),
                        uid=f"m{meeting.pk}-s{e.student_id}",
                    )
                )
    for visit in Visit.objects.filter(
        student__family=family, status=Visit.Status.BOOKED, meeting__date__range=(start, end)
    ).select_related("student", "meeting__klass__location"):
        items.append(
            ScheduleItem(
                starts_at=visit.meeting.starts_at,
                ends_at=visit.meeting.ends_at,
                title=f"{visit.meeting.klass.name} ({visit.get_kind_display().lower()})",
                student=visit.student.first_name,
                where=visit.meeting.klass.location.name,
                uid=f"v{visit.pk}",
            )
        )
    for booking in CampBooking.objects.filter(
        student__family=family,
        status=CampBooking.Status.ACTIVE,
        camp_day__date__range=(start, end),
    ).select_related("student", "camp_day__camp__location", "option"):
        camp = booking.camp_day.camp
        tz = zoneinfo.ZoneInfo(camp.location.timezone)
        day = booking.camp_day.date
        items.append(
            ScheduleItem(
                starts_at=dt.combine(day, booking.option.start_time, tzinfo=tz),
                ends_at=dt.combine(day, booking.option.end_time, tzinfo=tz),
                title=f"{camp.name} ({booking.option.get_kind_display()})",
                student=booking.student.first_name,
                where=camp.location.name,
                uid=f"c{booking.pk}",
            )
        )
    items.sort(key=lambda item: (item.starts_at, item.student))
    return items


def review_queue():
    """Checkouts the office must look at (paid, but a seat was lost)."""
    return Checkout.objects.filter(needs_review=True).select_related("family", "attempt")
