"""Reads of the enrollment engine shared by pages, the portal and the API.

Seat counts here follow ``enrollment.capacity`` exactly (enrolled + trial and makeup
visits + unexpired holds + open offers); the list reads count many classes at once in a
fixed number of queries, however many rows a page shows.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Case, IntegerField, Min, Prefetch, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce

from classbook.catalog import eligibility as rules
from classbook.catalog.models import Camp, CampDay, Class, Meeting
from classbook.enrollment import capacity
from classbook.enrollment.capacity import SEATED, FullOn
from classbook.enrollment.eligibility import class_refusals
from classbook.enrollment.models import (
    CampBooking,
    Enrollment,
    EnrollmentRequest,
    EnrollmentSettings,
    Hold,
    MakeupToken,
    Visit,
    WaitlistEntry,
)
from classbook.families.models import Family, Student

OPEN_WAITLIST = (WaitlistEntry.Status.WAITING, WaitlistEntry.Status.OFFERED)


def enrollment_settings() -> EnrollmentSettings:
    return EnrollmentSettings.objects.first() or EnrollmentSettings()


def _limit(queryset: QuerySet, allowed: set[int] | None, path: str) -> QuerySet:
    return queryset if allowed is None else queryset.filter(**{f"{path}__in": allowed})


def age_label(birth_date: date | None, on: date) -> str:
    """ "6y 3m" on ``on`` (the roster's date, the first meeting, ...)."""
    if birth_date is None:
        return ""
    return rules.format_age(max(rules.age_in_months(birth_date, on), 0), short=True)


# ---------------------------------------------------------------- seat counts


@dataclass(frozen=True)
class SeatCount:
    day: date | None
    taken: int
    capacity: int

    @property
    def left(self) -> int:
        return max(0, self.capacity - self.taken)

    @property
    def over(self) -> int:
        """Seats taken beyond capacity (staff overrides)."""
        return max(0, self.taken - self.capacity)


def seats_on(classes: list[Class], days: dict[int, date], *, now: datetime) -> dict[int, SeatCount]:
    """Seats taken in each class on its date in ``days`` (class id → date): the same count
    as ``capacity.class_taken``, for many classes in four queries."""
    ids = [k.pk for k in classes if k.pk in days]
    result = {k.pk: SeatCount(None, 0, k.capacity) for k in classes}
    if not ids:
        return result
    first, last = min(days[i] for i in ids), max(days[i] for i in ids)
    taken: Counter = Counter()
    spans = (
        Enrollment.objects.filter(klass_id__in=ids, status__in=SEATED, start_date__lte=last)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=first))
        .values_list("klass_id", "start_date", "end_date")
    )
    for klass_id, start, end in spans:
        day = days[klass_id]
        if start <= day and (end is None or day <= end):
            taken[klass_id] += 1
    holds = Hold.objects.filter(
        klass_id__in=ids, expires_at__gt=now, start_date__lte=last
    ).values_list("klass_id", "start_date")
    offers = WaitlistEntry.objects.filter(
        klass_id__in=ids,
        status=WaitlistEntry.Status.OFFERED,
        offer_expires_at__gt=now,
        start_date__lte=last,
    ).values_list("klass_id", "start_date")
    for klass_id, start in [*holds, *offers]:
        if start <= days[klass_id]:
            taken[klass_id] += 1
    visits = Visit.objects.filter(
        meeting__klass_id__in=ids,
        meeting__date__in={days[i] for i in ids},
        status=Visit.Status.BOOKED,
    ).values_list("meeting__klass_id", "meeting__date")
    for klass_id, day in visits:
        if days[klass_id] == day:
            taken[klass_id] += 1
    for klass in classes:
        if klass.pk in days:
            result[klass.pk] = SeatCount(days[klass.pk], taken[klass.pk], klass.capacity)
    return result


def next_meeting_dates(class_ids: list[int], *, today: date) -> dict[int, date]:
    return dict(
        Meeting.objects.filter(klass_id__in=class_ids, date__gte=today)
        .values("klass_id")
        .annotate(first=Min("date"))
        .values_list("klass_id", "first")
    )


def next_meeting_seats(classes: list[Class], *, today: date, now: datetime) -> dict[int, SeatCount]:
    """Each class's seats on its next meeting (on or after ``today``); five queries."""
    days = next_meeting_dates([k.pk for k in classes], today=today)
    return seats_on(classes, days, now=now)


def meeting_seats(klass: Class, meetings: list[Meeting], *, now: datetime) -> list[tuple]:
    """(meeting, seats left) for a list of one class's meetings."""
    taken = capacity.class_taken(klass, [m.date for m in meetings], now=now)
    return [(m, max(0, klass.capacity - taken.get(m.date, 0))) for m in meetings]


def camp_day_seats(days: list[CampDay], *, now: datetime) -> list[tuple[CampDay, SeatCount]]:
    taken = capacity.camp_day_taken(days, now=now) if days else {}
    return [(d, SeatCount(d.date, taken.get(d.pk, 0), d.camp.day_capacity)) for d in days]


# ---------------------------------------------------------------- choosing who and what


def student_search(query: str, *, limit: int = 20) -> list[Student]:
    """Active students of this account whose first, last or family name contains every
    word of ``query``; at most ``limit`` + 1 (the page says "refine" when there are more)."""
    words = query.split()[:5]
    if not words:
        return []
    queryset = Student.objects.filter(is_active=True, family__merged_into__isnull=True)
    for word in words:
        queryset = queryset.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(family__name__icontains=word)
        )
    return list(
        queryset.select_related("family").order_by("last_name", "first_name", "pk")[: limit + 1]
    )


def active_student_ids(klass: Class, student_ids: list[int]) -> set[int]:
    return set(
        Enrollment.objects.filter(
            klass=klass, student_id__in=student_ids, status=Enrollment.Status.ACTIVE
        ).values_list("student_id", flat=True)
    )


# ---------------------------------------------------------------- eligibility preview


@dataclass(frozen=True)
class RuleCheck:
    label: str
    ok: bool
    detail: str
    blocking: bool = True  # False: shown as a warning, never refuses


@dataclass
class EnrollPreview:
    student: Student
    klass: Class
    start: date
    end: date | None
    first_meeting: Meeting | None
    meeting_count: int
    rules: list[RuleCheck]
    refusals: list[str]  # class_refusals: what enroll() would refuse for
    already: Enrollment | None
    waitlisted: WaitlistEntry | None
    clashes: list[Enrollment]
    seats_left: int
    full_on: list[FullOn]

    @property
    def full(self) -> bool:
        return bool(self.full_on)

    @property
    def can_enroll(self) -> bool:
        return not self.refusals and self.already is None and not self.full_on


def _clashes(student: Student, klass: Class, start: date, end: date | None) -> list[Enrollment]:
    """The student's other current classes meeting on a shared weekday at an overlapping
    time in overlapping dates (a warning only: families sometimes want back-to-back)."""
    others = (
        Enrollment.objects.filter(student=student, status=Enrollment.Status.ACTIVE)
        .exclude(klass=klass)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=start))
        .select_related("klass")
    )
    if end is not None:
        others = others.filter(start_date__lte=end)
    return [
        e
        for e in others
        if e.klass.weekdays & klass.weekdays
        and e.klass.start_time < klass.end_time
        and klass.start_time < e.klass.end_time
    ]


def enroll_preview(
    student: Student, klass: Class, *, start: date, end: date | None, now: datetime
) -> EnrollPreview:
    """Every rule of enrolling ``student`` in ``klass`` from ``start``, passed or failed
    with its reason, plus the first meeting and the seats left. ``refusals`` is exactly
    what ``services.enroll`` (without override) refuses for."""
    dates = capacity.meeting_dates(klass, start, end or klass.effective_end)
    first = (
        Meeting.objects.filter(klass=klass, date=dates[0]).first() if dates else None
    )  # one row, for its times
    term_start = klass.term.start_date if klass.term_id else klass.effective_start
    age_on = rules.age_reference_date(
        rule=klass.age_as_of,
        first_meeting=dates[0] if dates else None,
        term_start=term_start,
        fixed_date=klass.age_as_of_date,
    )
    checks: list[RuleCheck] = []
    checks.append(
        RuleCheck(
            "Meetings",
            bool(dates),
            f"{len(dates)} meeting{'s' if len(dates) != 1 else ''} from {dates[0]:%b %-d, %Y}"
            if dates
            else f"{klass} has no meetings on or after {start:%b %-d, %Y}.",
        )
    )
    ages = rules.format_age_range(klass.min_age_months, klass.max_age_months)
    age_problem = rules.check_age(
        birth_date=student.date_of_birth,
        on=age_on,
        min_months=klass.min_age_months,
        max_months=klass.max_age_months,
    )
    checks.append(
        RuleCheck(
            "Age",
            age_problem is None,
            age_problem
            or f"{age_label(student.date_of_birth, age_on)} on {age_on:%b %-d, %Y}; "
            f"the class takes {ages.lower() if ages == 'All ages' else ages}.",
        )
    )
    gender = "" if student.gender == Student.Gender.UNSPECIFIED else student.gender
    gender_problem = rules.check_gender(gender=gender, rule=klass.gender_rule)
    checks.append(
        RuleCheck(
            "Gender", gender_problem is None, gender_problem or klass.get_gender_rule_display()
        )
    )
    level_problem = rules.check_level(
        student_level=student.level, required_level=klass.required_level
    )
    checks.append(
        RuleCheck(
            "Level",
            level_problem is None,
            level_problem
            or (
                f"Needs {klass.required_level.name}; the student is at {student.level.name}."
                if klass.required_level_id
                else "No level required."
            ),
        )
    )
    window_problem = rules.check_registration_window(
        opens_at=klass.effective_registration_opens_at,
        closes_at=klass.effective_registration_closes_at,
        at=now,
        tz=klass.timezone,
    )
    checks.append(
        RuleCheck(
            "Registration window",
            window_problem is None,
            (window_problem + " The office may enroll outside the window.")
            if window_problem
            else "Open.",
            blocking=False,
        )
    )
    already = (
        Enrollment.objects.filter(student=student, klass=klass, status__in=SEATED)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=start))
        .filter(**({"start_date__lte": end} if end else {}))
        .first()
    )
    checks.append(
        RuleCheck(
            "Not enrolled yet",
            already is None,
            f"{student} is already enrolled in {klass} for those dates "
            f"(from {already.start_date:%b %-d, %Y})."
            if already
            else "No enrollment in this class for those dates.",
        )
    )
    clashes = _clashes(student, klass, start, end)
    checks.append(
        RuleCheck(
            "Schedule",
            not clashes,
            "Overlaps " + ", ".join(f"{c.klass} ({c.klass.weekday_names})" for c in clashes) + "."
            if clashes
            else "No clash with the student's other classes.",
            blocking=False,
        )
    )
    full_on = capacity.class_full_dates(klass, start=start, end=end or klass.effective_end, now=now)
    left = capacity.seats_left(klass, start=start, end=end, now=now)
    checks.append(
        RuleCheck(
            "Seats",
            not full_on,
            f"Full on {full_on[0].day:%b %-d, %Y} ({full_on[0].taken} of "
            f"{full_on[0].capacity} seats taken)."
            if full_on
            else f"{left} of {klass.capacity} free on every meeting of the enrollment.",
        )
    )
    waitlisted = WaitlistEntry.objects.filter(
        student=student, klass=klass, status__in=OPEN_WAITLIST
    ).first()
    return EnrollPreview(
        student=student,
        klass=klass,
        start=start,
        end=end,
        first_meeting=first,
        meeting_count=len(dates),
        rules=checks,
        refusals=class_refusals(student, klass, start=start, now=now, check_window=False),
        already=already,
        waitlisted=waitlisted,
        clashes=clashes,
        seats_left=left,
        full_on=full_on,
    )


# ---------------------------------------------------------------- roster


@dataclass
class RosterLine:
    student: Student
    kind: str  # enrolled, trial, makeup
    age: str
    enrollment: Enrollment | None = None
    visit: Visit | None = None
    starts: bool = False  # the enrollment's first meeting (introduce the new student)
    last_day: bool = False  # its last meeting


@dataclass
class Roster:
    klass: Class
    day: date | None
    meeting: Meeting | None
    lines: list[RosterLine]
    holds: int
    offers: int
    previous_date: date | None
    next_date: date | None
    waiting: int

    @property
    def enrolled(self) -> int:
        return sum(1 for line in self.lines if line.kind == "enrolled")

    @property
    def trials(self) -> int:
        return sum(1 for line in self.lines if line.kind == "trial")

    @property
    def makeups(self) -> int:
        return sum(1 for line in self.lines if line.kind == "makeup")

    @property
    def taken(self) -> int:
        return len(self.lines) + self.holds + self.offers

    @property
    def seats_left(self) -> int:
        return max(0, self.klass.capacity - self.taken)


def roster_default_date(klass: Class, *, today: date) -> date | None:
    """The next meeting on or after today, else the last one."""
    upcoming = Meeting.objects.filter(klass=klass, date__gte=today).order_by("date").first()
    if upcoming is not None:
        return upcoming.date
    last = Meeting.objects.filter(klass=klass).order_by("-date").first()
    return last.date if last else None


def roster(klass: Class, day: date | None, *, now: datetime) -> Roster:
    """Who is in ``klass`` on ``day``: enrolled students and visits, with the holds and
    open offers that also take seats that day. Nine queries, however many students."""
    if day is None:
        return Roster(klass, None, None, [], 0, 0, None, None, 0)
    meeting = Meeting.objects.filter(klass=klass, date=day).first()
    previous = Meeting.objects.filter(klass=klass, date__lt=day).order_by("-date").first()
    following = Meeting.objects.filter(klass=klass, date__gt=day).order_by("date").first()
    enrollments = (
        Enrollment.objects.filter(klass=klass, status__in=SEATED, start_date__lte=day)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=day))
        .select_related("student__family")
        .order_by("student__last_name", "student__first_name", "pk")
    )
    lines = [
        RosterLine(
            student=e.student,
            kind="enrolled",
            age=age_label(e.student.date_of_birth, day),
            enrollment=e,
            starts=previous is None or e.start_date > previous.date,
            last_day=e.end_date is not None and (following is None or e.end_date < following.date),
        )
        for e in enrollments
    ]
    if meeting is not None:
        visits = (
            Visit.objects.filter(meeting=meeting, status=Visit.Status.BOOKED)
            .select_related("student__family")
            .order_by("kind", "student__last_name", "student__first_name")
        )
        lines += [
            RosterLine(
                student=v.student,
                kind=v.kind,
                age=age_label(v.student.date_of_birth, day),
                visit=v,
            )
            for v in visits
        ]
    holds = Hold.objects.filter(klass=klass, expires_at__gt=now, start_date__lte=day).count()
    offers = WaitlistEntry.objects.filter(
        klass=klass,
        status=WaitlistEntry.Status.OFFERED,
        offer_expires_at__gt=now,
        start_date__lte=day,
    ).count()
    waiting = WaitlistEntry.objects.filter(klass=klass, status=WaitlistEntry.Status.WAITING).count()
    return Roster(
        klass=klass,
        day=day,
        meeting=meeting,
        lines=lines,
        holds=holds,
        offers=offers,
        previous_date=previous.date if previous else None,
        next_date=following.date if following else None,
        waiting=waiting,
    )


# ---------------------------------------------------------------- waitlists


def waitlist_open(*, klass: Class | None = None, camp_day: CampDay | None = None) -> QuerySet:
    """Open places in line (waiting or offered), in order."""
    queryset = WaitlistEntry.objects.filter(status__in=OPEN_WAITLIST).select_related(
        "student__family", "camp_option"
    )
    queryset = queryset.filter(klass=klass) if klass else queryset.filter(camp_day=camp_day)
    return queryset.order_by("joined_at", "id")


def waitlist_closed(
    *, klass: Class | None = None, camp_day: CampDay | None = None, limit: int = 20
) -> list[WaitlistEntry]:
    queryset = WaitlistEntry.objects.exclude(status__in=OPEN_WAITLIST).select_related(
        "student__family"
    )
    queryset = queryset.filter(klass=klass) if klass else queryset.filter(camp_day=camp_day)
    return list(queryset.order_by("-closed_at", "-id")[:limit])


def camp_day_overview(camp: Camp, *, now: datetime) -> list[tuple[CampDay, SeatCount, int, int]]:
    """(day, seats, waiting, offered) for every day of a camp; five queries."""
    days = list(CampDay.objects.filter(camp=camp).select_related("camp").order_by("date"))
    waiting: Counter = Counter()
    offered: Counter = Counter()
    for day_id, status in WaitlistEntry.objects.filter(
        camp_day__camp=camp, status__in=OPEN_WAITLIST
    ).values_list("camp_day_id", "status"):
        (waiting if status == WaitlistEntry.Status.WAITING else offered)[day_id] += 1
    return [
        (day, seats, waiting[day.pk], offered[day.pk])
        for day, seats in camp_day_seats(days, now=now)
    ]


def camp_day_bookings(day: CampDay) -> list[CampBooking]:
    return list(
        CampBooking.objects.filter(camp_day=day, status=CampBooking.Status.ACTIVE)
        .select_related("student__family", "option")
        .order_by("student__last_name", "student__first_name", "pk")
    )


# ---------------------------------------------------------------- requests


def request_queue(
    *, kind: str = "", status: str = "", allowed: set[int] | None = None
) -> QuerySet[EnrollmentRequest]:
    """Pending requests first (oldest first: first come, first served), then answered
    ones, newest first; with everything a row shows (no N+1)."""
    queryset = EnrollmentRequest.objects.select_related(
        "student__family",
        "enrollment__klass",
        "target_class",
        "meeting__klass",
        "decided_by",
    )
    if kind:
        queryset = queryset.filter(kind=kind)
    if status:
        queryset = queryset.filter(status=status)
    if allowed is not None:
        queryset = queryset.filter(
            Q(enrollment__klass__location_id__in=allowed)
            | Q(target_class__location_id__in=allowed)
            | Q(meeting__klass__location_id__in=allowed)
        )
    pending = Q(status=EnrollmentRequest.Status.PENDING)
    return queryset.annotate(
        _rank=Case(When(pending, then=Value(0)), default=Value(1), output_field=IntegerField()),
        _waiting_since=Case(When(pending, then="created_at"), default=None),
        _when=Coalesce("decided_at", "created_at"),
    ).order_by("_rank", "_waiting_since", "-_when", "-id")


def request_classes(request: EnrollmentRequest) -> list[Class]:
    """The classes a request touches (for location limits)."""
    found = [
        request.enrollment.klass if request.enrollment_id else None,
        request.target_class,
        request.meeting.klass if request.meeting_id else None,
    ]
    return [k for k in found if k is not None]


def request_outcome(request: EnrollmentRequest) -> str:
    """What approving the request did, in a sentence."""
    if request.status != EnrollmentRequest.Status.APPROVED:
        return ""
    student = request.student
    if request.kind == EnrollmentRequest.Kind.DROP and request.enrollment_id:
        e = Enrollment.objects.get(pk=request.enrollment_id)
        if e.status == Enrollment.Status.CANCELLED:
            return f"{student}'s enrollment in {e.klass} was cancelled before it started."
        return (
            f"{student} dropped from {e.klass}; the last day attending is {e.end_date:%b %-d, %Y}."
        )
    if request.kind == EnrollmentRequest.Kind.TRANSFER and request.enrollment_id:
        new = Enrollment.objects.filter(transferred_from_id=request.enrollment_id).first()
        if new is not None:
            return f"{student} moved to {new.klass} from {new.start_date:%b %-d, %Y}."
    if request.meeting_id:
        visit = Visit.objects.filter(
            student=student, meeting_id=request.meeting_id, status=Visit.Status.BOOKED
        ).first()
        if visit is not None:
            return f"{visit.get_kind_display()} booked: {student} on {visit.meeting}."
    return "Approved."


# ---------------------------------------------------------------- a student's history


@dataclass
class StudentHistory:
    enrollments: list[Enrollment]
    bookings: list[CampBooking]
    visits: list[Visit]
    tokens: list[MakeupToken]
    waitlist: list[WaitlistEntry]
    requests: list[EnrollmentRequest]


def student_history(student: Student) -> StudentHistory:
    """Everything the enrollment engine knows about one student; six queries."""
    return StudentHistory(
        enrollments=list(
            Enrollment.objects.filter(student=student)
            .select_related("klass__location", "transferred_from__klass", "transferred_to__klass")
            .order_by("-start_date", "-id")
        ),
        bookings=list(
            CampBooking.objects.filter(student=student)
            .select_related("camp_day__camp", "option")
            .order_by("-camp_day__date", "-id")
        ),
        visits=list(
            Visit.objects.filter(student=student)
            .select_related("meeting__klass")
            .order_by("-meeting__date", "-id")
        ),
        tokens=list(
            MakeupToken.objects.filter(student=student)
            .select_related("visit__meeting__klass")
            .order_by("status", "expires_on", "id")
        ),
        waitlist=list(
            WaitlistEntry.objects.filter(student=student)
            .select_related("klass", "camp_day__camp")
            .order_by("-joined_at", "-id")
        ),
        requests=list(
            EnrollmentRequest.objects.filter(student=student)
            .select_related("enrollment__klass", "target_class", "meeting__klass")
            .order_by("-created_at", "-id")
        ),
    )


# ---------------------------------------------------------------- summaries for other pages


@dataclass
class CampLine:
    camp: Camp
    option_label: str
    days: list[date] = field(default_factory=list)


@dataclass
class StudentSummary:
    student: Student
    enrollments: list[Enrollment]
    camps: list[CampLine]
    visits: list[Visit]
    waitlist: list[WaitlistEntry]


def family_enrollments(family: Family, *, today: date) -> list[StudentSummary]:
    """Each active student's current and upcoming enrollments, camp days, visits and open
    waitlist places: five queries for the whole family."""
    current = Q(end_date__isnull=True) | Q(end_date__gte=today)
    students = (
        Student.objects.filter(family=family, is_active=True)
        .order_by("date_of_birth", "first_name", "pk")
        .prefetch_related(
            Prefetch(
                "enrollments",
                queryset=Enrollment.objects.filter(current, status=Enrollment.Status.ACTIVE)
                .select_related("klass__location")
                .order_by("start_date", "pk"),
                to_attr="current_enrollments",
            ),
            Prefetch(
                "camp_bookings",
                queryset=CampBooking.objects.filter(
                    status=CampBooking.Status.ACTIVE, camp_day__date__gte=today
                )
                .select_related("camp_day__camp", "option")
                .order_by("camp_day__date", "pk"),
                to_attr="upcoming_bookings",
            ),
            Prefetch(
                "visits",
                queryset=Visit.objects.filter(status=Visit.Status.BOOKED, meeting__date__gte=today)
                .select_related("meeting__klass")
                .order_by("meeting__date"),
                to_attr="upcoming_visits",
            ),
            Prefetch(
                "waitlist_entries",
                queryset=WaitlistEntry.objects.filter(status__in=OPEN_WAITLIST)
                .select_related("klass", "camp_day__camp")
                .order_by("joined_at"),
                to_attr="open_waitlist",
            ),
        )
    )
    summaries = []
    for student in students:
        camps: dict[tuple[int, int], CampLine] = {}
        for booking in student.upcoming_bookings:
            key = (booking.camp_day.camp_id, booking.option_id)
            line = camps.setdefault(
                key, CampLine(booking.camp_day.camp, booking.option.get_kind_display())
            )
            line.days.append(booking.camp_day.date)
        summaries.append(
            StudentSummary(
                student=student,
                enrollments=student.current_enrollments,
                camps=list(camps.values()),
                visits=student.upcoming_visits,
                waitlist=student.open_waitlist,
            )
        )
    return summaries


@dataclass
class ClassSummary:
    klass: Class
    seats: SeatCount
    active: int
    waiting: int
    offered: int


def class_summary(klass: Class, *, today: date, now: datetime) -> ClassSummary:
    """Seats taken and left on the next meeting, current enrollments and the waitlist."""
    seats = next_meeting_seats([klass], today=today, now=now)[klass.pk]
    active = (
        Enrollment.objects.filter(klass=klass, status=Enrollment.Status.ACTIVE)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
        .count()
    )
    line: Counter = Counter(
        WaitlistEntry.objects.filter(klass=klass, status__in=OPEN_WAITLIST).values_list(
            "status", flat=True
        )
    )
    return ClassSummary(
        klass=klass,
        seats=seats,
        active=active,
        waiting=line[WaitlistEntry.Status.WAITING],
        offered=line[WaitlistEntry.Status.OFFERED],
    )


def upcoming_camps(*, allowed: set[int] | None, today: date) -> QuerySet[Camp]:
    return _limit(
        Camp.objects.filter(end_date__gte=today).select_related("location", "program"),
        allowed,
        "location_id",
    ).order_by("start_date", "name", "pk")
