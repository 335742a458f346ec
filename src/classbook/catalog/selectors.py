"""Reads about the catalog that pages, the API and other apps share.

``allowed`` parameters take ``staff.selectors.allowed_location_ids(user)``: None means
every location, a set limits the rows to those locations.
"""

from __future__ import annotations

import calendar
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from classbook.accounts.models import Location, User
from classbook.catalog.models import (
    Camp,
    CampDay,
    Class,
    ClassInstructor,
    Closure,
    Level,
    Meeting,
    Program,
    Room,
    Term,
)

# ---------------------------------------------------------------- location limits


def _limit(queryset: QuerySet, allowed: set[int] | None, path: str = "location_id") -> QuerySet:
    return queryset if allowed is None else queryset.filter(**{f"{path}__in": allowed})


def visible_locations(allowed: set[int] | None) -> QuerySet[Location]:
    return _limit(Location.objects.filter(is_active=True), allowed, "pk")


def visible_rooms(allowed: set[int] | None) -> QuerySet[Room]:
    return _limit(Room.objects.select_related("location"), allowed)


def visible_classes(allowed: set[int] | None) -> QuerySet[Class]:
    return _limit(Class.objects.all(), allowed)


def visible_camps(allowed: set[int] | None) -> QuerySet[Camp]:
    return _limit(Camp.objects.all(), allowed)


def visible_closures(allowed: set[int] | None) -> QuerySet[Closure]:
    queryset = Closure.objects.select_related("location")
    if allowed is None:
        return queryset
    return queryset.filter(Q(location__isnull=True) | Q(location_id__in=allowed))


def instructors() -> QuerySet[User]:
    """Active staff who can be chosen as instructors."""
    return User.objects.filter(kind=User.Kind.STAFF, is_active=True).order_by(
        "first_name", "last_name", "username"
    )


def programs_with_levels() -> QuerySet[Program]:
    return Program.objects.prefetch_related(
        Prefetch("levels", queryset=Level.objects.order_by("position", "name"))
    )


def levels() -> QuerySet[Level]:
    return Level.objects.select_related("program").order_by("program__name", "position", "name")


# ---------------------------------------------------------------- class list


@dataclass(frozen=True)
class ClassFilter:
    location_id: int | None = None
    program_id: int | None = None
    term_id: int | None = None
    weekday: int | None = None  # 0 = Monday
    instructor_id: int | None = None
    age_years: int | None = None  # a child of this age (any month of the year) fits
    search: str = ""
    status: str = "active"  # active / inactive / all


CLASS_SORTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "day": ("Day and time", ("first_weekday", "start_time", "name", "pk")),
    "name": ("Name", ("name", "pk")),
    "program": ("Program", ("program__name", "name", "pk")),
    "location": ("Location", ("location__name", "first_weekday", "start_time", "pk")),
    "capacity": ("Capacity", ("-capacity", "name", "pk")),
    "age": ("Youngest first", ("min_age_months", "max_age_months", "name", "pk")),
}


def class_list(
    filters: ClassFilter, *, allowed: set[int] | None, sort: str = "day"
) -> QuerySet[Class]:
    """Classes for the office list: filtered, sorted, with what a row shows (no N+1)."""
    queryset = visible_classes(allowed).select_related(
        "program", "location", "room", "term", "required_level"
    )
    if filters.status == "active":
        queryset = queryset.filter(is_active=True)
    elif filters.status == "inactive":
        queryset = queryset.filter(is_active=False)
    if filters.location_id:
        queryset = queryset.filter(location_id=filters.location_id)
    if filters.program_id:
        queryset = queryset.filter(program_id=filters.program_id)
    if filters.term_id:
        queryset = queryset.filter(term_id=filters.term_id)
    if filters.weekday is not None:
        queryset = queryset.annotate(_on_day=F("weekdays").bitand(1 << filters.weekday)).filter(
            _on_day__gt=0
        )
    if filters.instructor_id:
        queryset = queryset.filter(
            Exists(
                ClassInstructor.objects.filter(
                    klass=OuterRef("pk"), instructor_id=filters.instructor_id
                )
            )
        )
    if filters.age_years is not None:
        youngest, oldest = filters.age_years * 12, filters.age_years * 12 + 11
        queryset = queryset.filter(
            Q(min_age_months__isnull=True) | Q(min_age_months__lte=oldest),
            Q(max_age_months__isnull=True) | Q(max_age_months__gte=youngest),
        )
    if filters.search:
        queryset = queryset.filter(
            Q(name__icontains=filters.search) | Q(program__name__icontains=filters.search)
        )
    order = CLASS_SORTS.get(sort, CLASS_SORTS["day"])[1]
    return queryset.order_by(*order).prefetch_related(
        Prefetch(
            "instructor_links",
            queryset=ClassInstructor.objects.select_related("instructor").order_by(
                "instructor__first_name", "instructor__last_name"
            ),
        )
    )


def class_detail(class_id: int, *, allowed: set[int] | None) -> Class | None:
    return (
        visible_classes(allowed)
        .select_related("program", "location", "room", "term", "required_level__program")
        .select_related("copied_from")
        .filter(pk=class_id)
        .first()
    )


def class_instructors(klass: Class) -> list[User]:
    return [
        link.instructor
        for link in ClassInstructor.objects.filter(klass=klass)
        .select_related("instructor")
        .order_by("instructor__first_name", "instructor__last_name")
    ]


# ---------------------------------------------------------------- meetings


def meetings_between(klass: Class | int, start: date, end: date) -> QuerySet[Meeting]:
    """A class's meetings from ``start`` to ``end`` inclusive, in order."""
    return Meeting.objects.filter(klass=klass, date__gte=start, date__lte=end).order_by("date")


def next_meeting(klass: Class | int, on_or_after: date) -> Meeting | None:
    return Meeting.objects.filter(klass=klass, date__gte=on_or_after).order_by("date").first()


def meeting_count(klass: Class | int, start: date, end: date) -> int:
    """How many times the class meets from ``start`` to ``end`` inclusive; closures and
    schedule changes are already reflected in the rows (billing prorates with this)."""
    return Meeting.objects.filter(klass=klass, date__gte=start, date__lte=end).count()


def upcoming_meetings(klass: Class, *, today: date, limit: int = 10) -> list[Meeting]:
    return list(meetings_between(klass, today, date.max)[:limit])


# ---------------------------------------------------------------- conflicts


def ranges_overlap(a_start: date, a_end: date | None, b_start: date, b_end: date | None) -> bool:
    return (b_end is None or a_start <= b_end) and (a_end is None or b_start <= a_end)


def room_conflicts(
    *,
    room_id: int | None,
    weekday_mask: int,
    start_time,
    end_time,
    start_date: date,
    end_date: date | None,
    exclude_ids: tuple[int, ...] = (),
) -> list[Class]:
    """Active classes in the same room on a shared weekday, overlapping in time and dates."""
    if not room_id or not weekday_mask:
        return []
    candidates = (
        Class.objects.filter(
            room_id=room_id, is_active=True, start_time__lt=end_time, end_time__gt=start_time
        )
        .annotate(_shared_days=F("weekdays").bitand(weekday_mask))
        .filter(_shared_days__gt=0)
        .exclude(pk__in=exclude_ids)
        .select_related("term", "room", "location")
        .order_by("first_weekday", "start_time", "name")
    )
    return [
        c
        for c in candidates
        if ranges_overlap(c.effective_start, c.effective_end, start_date, end_date)
    ]


# ---------------------------------------------------------------- copying a session


@dataclass
class CopyPlanItem:
    source: Class
    skip_reason: str = ""
    conflicts: list[Class] = field(default_factory=list)


def term_copy_plan(
    source: Term, target: Term, *, location_ids: set[int] | None = None
) -> list[CopyPlanItem]:
    """What copying ``source``'s classes into ``target`` would do, class by class
    (only classes at ``location_ids`` when given: a location-limited person's copy)."""
    already = set(
        Class.objects.filter(term=target, copied_from__term=source).values_list(
            "copied_from_id", flat=True
        )
    )
    plan = []
    classes = (
        _limit(Class.objects.filter(term=source), location_ids)
        .select_related("program", "location", "room")
        .prefetch_related(
            Prefetch(
                "instructor_links", queryset=ClassInstructor.objects.select_related("instructor")
            )
        )
        .order_by("location__name", "first_weekday", "start_time", "name")
    )
    for klass in classes:
        item = CopyPlanItem(source=klass)
        if klass.pk in already:
            item.skip_reason = "Already copied into this session."
        elif not klass.is_active:
            item.skip_reason = "Inactive class."
        else:
            item.conflicts = room_conflicts(
                room_id=klass.room_id,
                weekday_mask=klass.weekdays,
                start_time=klass.start_time,
                end_time=klass.end_time,
                start_date=target.start_date,
                end_date=target.end_date,
            )
        plan.append(item)
    return plan


# ---------------------------------------------------------------- calendars


@dataclass
class CalendarEvent:
    meeting: Meeting
    klass: Class
    start_minutes: int
    end_minutes: int
    lane: int = 0
    lanes: int = 1
    top: float = 0.0
    height: float = 0.0

    @property
    def left(self) -> float:
        return 100 * self.lane / self.lanes

    @property
    def width(self) -> float:
        return 100 / self.lanes


@dataclass
class CalendarDay:
    date: date
    events: list[CalendarEvent] = field(default_factory=list)
    closures: list[Closure] = field(default_factory=list)
    camp_days: list[CampDay] = field(default_factory=list)


@dataclass
class WeekSchedule:
    start: date
    days: list[CalendarDay]
    first_hour: int
    last_hour: int

    @property
    def hours(self) -> list[int]:
        return list(range(self.first_hour, self.last_hour))

    @property
    def event_count(self) -> int:
        return sum(len(d.events) for d in self.days)


def _assign_lanes(events: list[CalendarEvent]) -> None:
    """Side by side when they overlap: greedy lanes per cluster of overlapping events."""
    events.sort(key=lambda e: (e.start_minutes, e.end_minutes))
    cluster: list[CalendarEvent] = []
    cluster_end = -1
    lane_ends: list[int] = []

    def close():
        for event in cluster:
            event.lanes = len(lane_ends)

    for event in events:
        if cluster and event.start_minutes >= cluster_end:
            close()
            cluster, lane_ends = [], []
        for index, end in enumerate(lane_ends):
            if end <= event.start_minutes:
                event.lane, lane_ends[index] = index, event.end_minutes
                break
        else:
            event.lane = len(lane_ends)
            lane_ends.append(event.end_minutes)
        cluster.append(event)
        cluster_end = max(cluster_end, event.end_minutes)
    if cluster:
        close()


def week_schedule(
    *,
    week_start: date,
    allowed: set[int] | None,
    location_id: int | None = None,
    room_id: int | None = None,
    instructor_id: int | None = None,
) -> WeekSchedule:
    """The meetings of one week (Monday first), laid out for a time grid."""
    week_end = week_start + timedelta(days=6)
    meetings = (
        Meeting.objects.filter(date__gte=week_start, date__lte=week_end)
        .select_related("klass__room", "klass__location")
        .only(  # what the calendar shows: a big account's week has hundreds of meetings
            *("account_id", "klass_id", "date", "starts_at", "ends_at"),
            *(f"klass__{f}" for f in ("account_id", "name", "color", "start_time", "end_time")),
            *("klass__location__name", "klass__location__timezone", "klass__room__name"),
        )
        .order_by("starts_at")
    )
    meetings = _limit(meetings, allowed, "klass__location_id")
    if location_id:
        meetings = meetings.filter(klass__location_id=location_id)
    if room_id:
        meetings = meetings.filter(klass__room_id=room_id)
    if instructor_id:
        meetings = meetings.filter(
            Exists(
                ClassInstructor.objects.filter(klass=OuterRef("klass"), instructor_id=instructor_id)
            )
        )
    days = {
        week_start + timedelta(days=i): CalendarDay(week_start + timedelta(days=i))
        for i in range(7)
    }
    events = []
    for meeting in meetings:
        tz = zoneinfo.ZoneInfo(meeting.klass.location.timezone)
        start = timezone.localtime(meeting.starts_at, tz)
        end = timezone.localtime(meeting.ends_at, tz)
        event = CalendarEvent(
            meeting=meeting,
            klass=meeting.klass,
            start_minutes=start.hour * 60 + start.minute,
            end_minutes=max(end.hour * 60 + end.minute, start.hour * 60 + start.minute + 15),
        )
        days[meeting.date].events.append(event)
        events.append(event)
    first_hour = min([e.start_minutes // 60 for e in events], default=15)
    last_hour = max([-(-e.end_minutes // 60) for e in events], default=20)
    first_hour, last_hour = min(first_hour, 15), max(last_hour, 20, first_hour + 1)
    span = (last_hour - first_hour) * 60
    for day in days.values():
        _assign_lanes(day.events)
        for event in day.events:
            event.top = 100 * (event.start_minutes - first_hour * 60) / span
            event.height = 100 * (event.end_minutes - event.start_minutes) / span
    closures = visible_closures(allowed).filter(start_date__lte=week_end, end_date__gte=week_start)
    if location_id:
        closures = closures.filter(Q(location__isnull=True) | Q(location_id=location_id))
    for closure in closures:
        for day in days.values():
            if closure.start_date <= day.date <= closure.end_date:
                day.closures.append(closure)
    if not room_id and not instructor_id:
        camp_days = _limit(
            CampDay.objects.filter(date__gte=week_start, date__lte=week_end).select_related("camp"),
            allowed,
            "camp__location_id",
        )
        if location_id:
            camp_days = camp_days.filter(camp__location_id=location_id)
        for camp_day in camp_days:
            days[camp_day.date].camp_days.append(camp_day)
    return WeekSchedule(
        start=week_start, days=list(days.values()), first_hour=first_hour, last_hour=last_hour
    )


@dataclass
class MonthCell:
    date: date
    in_month: bool
    camp_days: list[CampDay] = field(default_factory=list)
    closures: list[Closure] = field(default_factory=list)


def camp_month(
    *, year: int, month: int, allowed: set[int] | None, location_id: int | None = None
) -> list[list[MonthCell]]:
    """Weeks (Monday first) of the month with the camp days and closures on each date."""
    weeks_raw = calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    first, last = weeks_raw[0][0], weeks_raw[-1][-1]
    by_date: dict[date, list[CampDay]] = defaultdict(list)
    camp_days = _limit(
        CampDay.objects.filter(date__gte=first, date__lte=last).select_related(
            "camp__location", "camp__program"
        ),
        allowed,
        "camp__location_id",
    )
    if location_id:
        camp_days = camp_days.filter(camp__location_id=location_id)
    for camp_day in camp_days.order_by("date", "camp__name"):
        by_date[camp_day.date].append(camp_day)
    closures = visible_closures(allowed).filter(start_date__lte=last, end_date__gte=first)
    if location_id:
        closures = closures.filter(Q(location__isnull=True) | Q(location_id=location_id))
    closures = list(closures)
    return [
        [
            MonthCell(
                date=day,
                in_month=day.month == month,
                camp_days=by_date.get(day, []),
                closures=[c for c in closures if c.start_date <= day <= c.end_date],
            )
            for day in week
        ]
        for week in weeks_raw
    ]


def camp_list(*, allowed: set[int] | None, upcoming_from: date | None = None) -> QuerySet[Camp]:
    queryset = visible_camps(allowed).select_related("program", "location")
    if upcoming_from:
        queryset = queryset.filter(end_date__gte=upcoming_from)
    return queryset.prefetch_related("options").order_by("start_date", "name")


def term_list() -> QuerySet[Term]:
    return Term.objects.order_by("-start_date", "name")
