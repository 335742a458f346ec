"""A realistic, deterministic class and camp catalog for the demo and the benchmarks.

``generate_catalog(seed=2026, classes=60)`` runs inside an active account that has at
least two locations. It builds programs and levels, rooms, a fall and a spring session
of the current school year, ``classes`` weekly classes (3:30–8 PM on weekdays, Saturday
mornings, a few preschool mornings) that avoid double-booking rooms and instructors while
there is space, four summer camps and the usual holiday closures. Everything goes through
the catalog services, so meetings, camp days and audit entries are the real thing.

The same seed gives the same catalog. The catalog is set up "as of" August 1 of the
school year (``clock.freeze``), so the fall session has its past meetings too.
"""

from __future__ import annotations

import calendar
import math
import random
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction

from classbook.accounts.models import Location, User
from classbook.catalog import services
from classbook.catalog.models import PALETTE, Camp, Class, Level, Meeting, Program, Room
from classbook.core import clock
from classbook.core.tenancy import require_account
from classbook.staff.models import UserGroup
from classbook.staff.selectors import allowed_location_ids
from classbook.staff.services import staff_create

INSTRUCTOR_GROUP = "Instructor"
MIN_INSTRUCTORS = 5

# Extra instructor logins, used in order when the account has fewer than five.
EXTRA_INSTRUCTORS = [
    ("coach.jordan", "Jordan", "Blake"),
    ("coach.avery", "Avery", "Chen"),
    ("coach.riley", "Riley", "Patel"),
    ("coach.morgan", "Morgan", "Diaz"),
    ("coach.casey", "Casey", "Nguyen"),
    ("coach.taylor", "Taylor", "Brooks"),
]

EXTRA_FIRST_NAMES = ["Alex", "Jamie", "Quinn", "Drew", "Reese", "Skyler", "Parker", "Emerson"]
EXTRA_LAST_NAMES = ["Lopez", "Kim", "Walker", "Singh", "Foster", "Reyes", "Hughes", "Okafor"]

# name: (description, levels)
PROGRAMS: dict[str, tuple[str, list[str]]] = {
    "Recreational Gymnastics": (
        "Progressive classes on floor, beam, bars and vault.",
        ["Level 1", "Level 2", "Level 3", "Level 4"],
    ),
    "Competitive Team": (
        "Xcel team training and meets.",
        ["Xcel Bronze", "Xcel Silver", "Xcel Gold"],
    ),
    "Tumbling": (
        "Cartwheels to back tucks on the tumble track.",
        ["Beginner", "Intermediate", "Advanced"],
    ),
    "Ninja": ("Obstacle courses, climbing and parkour.", ["Warrior 1", "Warrior 2"]),
    "Preschool": ("Movement, balance and fun for little ones.", []),
    "Swim Lessons": (
        "Small-group lessons from first splash to strokes.",
        ["Guppy", "Minnow", "Shark"],
    ),
}

# Room name → kind. Every location gets these; big catalogs get extra gym floors.
ROOMS = [
    ("Main Gym", "gym", 40),
    ("Training Floor", "gym", 30),
    ("Ninja Zone", "ninja", 25),
    ("Preschool Room", "preschool", 15),
    ("Pool", "pool", 20),
]

# Big catalogs get more rooms, in this order (gym floors are in most demand).
EXTRA_ROOMS = [
    ("Gym Floor", "gym", 30),
    ("Pool", "pool", 20),
    ("Gym Floor B", "gym", 30),
    ("Ninja Zone", "ninja", 25),
    ("Preschool Room", "preschool", 15),
]

AFTERNOON = [time(15, 30), time(16, 30), time(17, 30), time(18, 30)]
SATURDAY = [time(9), time(10), time(11), time(12)]
MORNING = [time(9, 30), time(10, 30)]


@dataclass(frozen=True)
class Kind:
    """A kind of class the generator can make."""

    program: str
    name: str
    level: str | None
    ages: tuple[int | None, int | None]  # months, inclusive
    minutes: int
    capacity: tuple[int, int]
    rooms: tuple[str, ...]  # room kinds, preferred first
    gender: str = "any"
    days_per_week: int = 1
    starts: tuple[str, ...] = ("afternoon", "saturday")
    weight: int = 3


def _y(years: int, months: int = 0) -> int:
    return years * 12 + months


KINDS = [
    Kind(
        "Recreational Gymnastics",
        "Girls Level 1",
        "Level 1",
        (_y(5), _y(8, 11)),
        60,
        (8, 10),
        ("gym",),
        gender="girls",
        weight=6,
    ),
    Kind(
        "Recreational Gymnastics",
        "Girls Level 2",
        "Level 2",
        (_y(6), _y(10, 11)),
        60,
        (8, 10),
        ("gym",),
        gender="girls",
        weight=5,
    ),
    Kind(
        "Recreational Gymnastics",
        "Girls Level 3",
        "Level 3",
        (_y(7), _y(12, 11)),
        90,
        (8, 10),
        ("gym",),
        gender="girls",
        weight=3,
    ),
    Kind(
        "Recreational Gymnastics",
        "Girls Level 4",
        "Level 4",
        (_y(8), _y(14, 11)),
        90,
        (8, 10),
        ("gym",),
        gender="girls",
        weight=2,
    ),
    Kind(
        "Recreational Gymnastics",
        "Boys Level 1",
        "Level 1",
        (_y(5), _y(9, 11)),
        60,
        (8, 10),
        ("gym",),
        gender="boys",
        weight=3,
    ),
    Kind(
        "Recreational Gymnastics",
        "Boys Level 2",
        "Level 2",
        (_y(7), _y(12, 11)),
        60,
        (8, 10),
        ("gym",),
        gender="boys",
        weight=2,
    ),
    Kind(
        "Recreational Gymnastics",
        "Coed Beginner Gymnastics",
        None,
        (_y(5), _y(8, 11)),
        60,
        (8, 12),
        ("gym",),
        weight=3,
    ),
    Kind(
        "Recreational Gymnastics",
        "Teen Gymnastics",
        None,
        (_y(12), _y(17, 11)),
        90,
        (8, 12),
        ("gym",),
        starts=("evening",),
        weight=2,
    ),
    Kind(
        "Competitive Team",
        "Xcel Bronze Team",
        "Xcel Bronze",
        (_y(6), _y(12, 11)),
        150,
        (10, 12),
        ("gym",),
        days_per_week=2,
        starts=("team",),
        weight=2,
    ),
    Kind(
        "Competitive Team",
        "Xcel Silver Team",
        "Xcel Silver",
        (_y(7), _y(14, 11)),
        180,
        (10, 12),
        ("gym",),
        days_per_week=3,
        starts=("team",),
        weight=1,
    ),
    Kind(
        "Competitive Team",
        "Xcel Gold Team",
        "Xcel Gold",
        (_y(8), _y(17, 11)),
        180,
        (10, 12),
        ("gym",),
        days_per_week=3,
        starts=("team",),
        weight=1,
    ),
    Kind(
        "Tumbling",
        "Tumbling Beginner",
        "Beginner",
        (_y(6), _y(12, 11)),
        60,
        (8, 10),
        ("gym",),
        weight=3,
    ),
    Kind(
        "Tumbling",
        "Tumbling Intermediate",
        "Intermediate",
        (_y(7), _y(15, 11)),
        60,
        (8, 10),
        ("gym",),
        weight=2,
    ),
    Kind(
        "Tumbling",
        "Tumbling Advanced",
        "Advanced",
        (_y(9), _y(17, 11)),
        90,
        (6, 10),
        ("gym",),
        starts=("evening",),
        weight=1,
    ),
    Kind("Ninja", "Ninja Cubs", None, (_y(4), _y(6, 11)), 45, (8, 10), ("ninja", "gym"), weight=3),
    Kind(
        "Ninja",
        "Ninja Warriors",
        "Warrior 1",
        (_y(7), _y(12, 11)),
        60,
        (10, 12),
        ("ninja", "gym"),
        weight=4,
    ),
    Kind(
        "Ninja",
        "Teen Ninja",
        "Warrior 2",
        (_y(12), _y(17, 11)),
        75,
        (10, 12),
        ("ninja", "gym"),
        starts=("evening",),
        weight=2,
    ),
    Kind(
        "Preschool",
        "Parent & Tot",
        None,
        (_y(1, 6), _y(2, 11)),
        45,
        (6, 8),
        ("preschool", "gym"),
        starts=("morning", "saturday"),
        weight=3,
    ),
    Kind(
        "Preschool",
        "Mini Movers",
        None,
        (_y(3), _y(4, 5)),
        45,
        (6, 8),
        ("preschool", "gym"),
        starts=("morning", "afternoon", "saturday"),
        weight=4,
    ),
    Kind(
        "Preschool",
        "Pre-K Gym",
        None,
        (_y(4), _y(5, 11)),
        45,
        (6, 8),
        ("preschool", "gym"),
        starts=("morning", "afternoon", "saturday"),
        weight=3,
    ),
    Kind(
        "Swim Lessons", "Swim: Guppy", "Guppy", (_y(3), _y(5, 11)), 30, (6, 6), ("pool",), weight=3
    ),
    Kind(
        "Swim Lessons",
        "Swim: Minnow",
        "Minnow",
        (_y(5), _y(9, 11)),
        30,
        (6, 6),
        ("pool",),
        weight=3,
    ),
    Kind(
        "Swim Lessons", "Swim: Shark", "Shark", (_y(7), _y(13, 11)), 45, (6, 8), ("pool",), weight=2
    ),
]


@dataclass(frozen=True)
class CatalogSummary:
    programs: int
    levels: int
    rooms: int
    terms: int
    classes: int
    camps: int
    closures: int
    meetings: int
    instructors: int
    room_conflicts: int  # classes that had to share a room (only when the rooms ran out)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    last = date(year, month, calendar.monthrange(year, month)[1])
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _on_or_after(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def _on_or_before(day: date, weekday: int) -> date:
    return day - timedelta(days=(day.weekday() - weekday) % 7)


def _observed(holiday: date) -> date:
    """A Saturday holiday is observed on Friday, a Sunday one on Monday."""
    return holiday + timedelta(days={5: -1, 6: 1}.get(holiday.weekday(), 0))


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def _plus(value: time, minutes: int) -> time:
    total = _minutes(value) + minutes
    return time(total // 60, total % 60)


class _Calendar:
    """Who or what is busy when: (key, weekday, period) → [(start, end) minutes]."""

    def __init__(self):
        self.busy: dict[tuple, list[tuple[int, int]]] = {}

    def free(self, key, days, periods, start: int, end: int) -> bool:
        return not any(
            s < end and start < e
            for day in days
            for period in periods
            for s, e in self.busy.get((key, day, period), [])
        )

    def take(self, key, days, periods, start: int, end: int) -> None:
        for day in days:
            for period in periods:
                self.busy.setdefault((key, day, period), []).append((start, end))


def _extra_instructor_names():
    yield from EXTRA_INSTRUCTORS
    for n, (first, last) in enumerate(
        (f, last) for last in EXTRA_LAST_NAMES for f in EXTRA_FIRST_NAMES
    ):
        yield f"coach{n + 1:03d}", first, last


def _instructors(password: str | None, wanted: int) -> list[User]:
    group = UserGroup.objects.filter(name=INSTRUCTOR_GROUP).first()
    if group is None:
        raise RuntimeError("The account has no “Instructor” User Group.")
    people = list(
        User.objects.filter(
            kind=User.Kind.STAFF, is_active=True, group_memberships__group=group
        ).order_by("pk")
    )
    account = require_account()
    for username, first, last in _extra_instructor_names():
        if len(people) >= wanted:
            break
        if User.objects.filter(username=username).exists():
            continue
        people.append(
            staff_create(
                username=username,
                email=f"{username}@{account.slug}.example",
                first_name=first,
                last_name=last,
                title="Instructor",
                password=password,
                group_ids=[group.pk],
            )
        )
    return people


def _school_year(today: date) -> int:
    return today.year if today.month >= 7 else today.year - 1


@transaction.atomic
def generate_catalog(
    *, seed: int = 2026, classes: int = 60, instructor_password: str | None = None
) -> CatalogSummary:
    """Build the catalog in the active account (see the module docstring).

    ``instructor_password`` is given to the instructor logins created when the account
    has fewer than five instructors (None: they are invitations without a password).
    """
    account = require_account()
    locations = list(Location.objects.filter(is_active=True).order_by("pk"))
    if len(locations) < 2:
        raise ValueError("generate_catalog needs an account with at least two locations")
    if classes < 0:
        raise ValueError("classes must be zero or more")
    rng = random.Random(seed)
    tz = zoneinfo.ZoneInfo(account.timezone)
    real_now = clock.now()
    year = _school_year(real_now.astimezone(tz).date())
    setup_moment = min(real_now, datetime(year, 8, 1, 12, tzinfo=tz))
    with clock.freeze(setup_moment):
        return _generate(rng, account, locations, year, tz, classes, instructor_password)


def _generate(rng, account, locations, year, tz, class_count, password) -> CatalogSummary:
    # At least five, and about one per 15 classes (so a big catalog is teachable).
    instructors = _instructors(password, max(MIN_INSTRUCTORS, math.ceil(class_count / 15)))
    limits = {person.pk: allowed_location_ids(person) for person in instructors}

    programs: dict[str, Program] = {}
    levels: dict[tuple[str, str], Level] = {}
    for name, (description, level_names) in PROGRAMS.items():
        programs[name] = services.program_save(name=name, description=description)
        for position, level_name in enumerate(level_names, start=1):
            levels[(name, level_name)] = services.level_save(
                program=programs[name], name=level_name, position=position
            )
    colors = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(PROGRAMS)}

    # Gym floors carry about 55% of the classes, 12 or so per floor and session; other
    # rooms get a second one per 150 classes.
    gym_floors = max(2, math.ceil(class_count * 0.6 * 0.55 / len(locations) / 12))
    extra_rooms = [("Gym Floor", "gym", 30)] * (gym_floors - 2) + [
        ("Pool", "pool", 20),
        ("Ninja Zone", "ninja", 25),
        ("Preschool Room", "preschool", 15),
    ] * (class_count // 150)
    rooms: dict[int, list[tuple[Room, str]]] = {}
    for location in locations:
        made = []
        for name, kind, fits in ROOMS:
            made.append((services.room_save(location=location, name=name, capacity=fits), kind))
        numbers: dict[str, int] = {}
        for name, kind, fits in extra_rooms:
            numbers[name] = numbers.get(name, 1) + 1
            room = services.room_save(
                location=location, name=f"{name} {numbers[name]}", capacity=fits
            )
            made.append((room, kind))
        rooms[location.pk] = made

    labor_day = _nth_weekday(year, 9, 0, 1)
    fall = services.term_save(
        name=f"Fall {year}",
        start_date=labor_day + timedelta(days=1),
        end_date=_on_or_before(date(year, 12, 20), 5),
        registration_opens_at=datetime(year, 8, 1, 9, tzinfo=tz),
    )
    spring = services.term_save(
        name=f"Spring {year + 1}",
        start_date=_on_or_after(date(year + 1, 1, 6), 0),
        end_date=_on_or_before(date(year + 1, 5, 31), 5),
        registration_opens_at=datetime(year, 12, 1, 9, tzinfo=tz),
    )

    thanksgiving = _nth_weekday(year, 11, 3, 4)
    closures = [
        services.closure_save(
            name="Thanksgiving", start_date=thanksgiving, end_date=thanksgiving + timedelta(2)
        ),
        services.closure_save(
            name="Winter break",
            start_date=date(year, 12, 21),
            end_date=date(year + 1, 1, 3),
            closes_camps=False,
        ),
        services.closure_save(
            name="Spring break",
            start_date=_nth_weekday(year + 1, 3, 0, 2),
            end_date=_nth_weekday(year + 1, 3, 0, 2) + timedelta(days=5),
            location=locations[1],
        ),
        services.closure_save(
            name="Memorial Day",
            start_date=_last_weekday(year + 1, 5, 0),
            end_date=_last_weekday(year + 1, 5, 0),
        ),
        services.closure_save(
            name="Independence Day",
            start_date=_observed(date(year + 1, 7, 4)),
            end_date=_observed(date(year + 1, 7, 4)),
            closes_camps=True,
        ),
    ]

    conflicts = 0
    schedule = _Calendar()
    kinds_by_weight = [k for k in KINDS for _ in range(k.weight)]
    picked = [rng.choice(kinds_by_weight) for _ in range(class_count)]
    # The hardest to fit (team practices: several long evenings) are placed first.
    picked.sort(key=lambda k: -k.days_per_week * k.minutes)
    for index, kind in enumerate(picked):
        roll = rng.random()
        periods, term = (
            (("fall", "spring"), None)
            if roll < 0.15
            else ((("fall",), fall) if roll < 0.6 else (("spring",), spring))
        )
        location = (
            locations[index % len(locations)] if rng.random() < 0.8 else rng.choice(locations)
        )
        placed = _place(
            rng, kind, location, rooms[location.pk], periods, schedule, instructors, limits
        )
        room, days, start, teachers, clash = placed
        conflicts += clash
        end = _plus(start, kind.minutes)
        services.class_save(
            program=programs[kind.program],
            name=kind.name,
            description=PROGRAMS[kind.program][0],
            required_level=levels.get((kind.program, kind.level)) if kind.level else None,
            location=location,
            room=room,
            term=term,
            start_date=fall.start_date if term is None else None,
            weekdays=days,
            start_time=start,
            end_time=end,
            capacity=rng.randint(*kind.capacity),
            min_age_months=kind.ages[0],
            max_age_months=kind.ages[1],
            gender_rule=kind.gender,
            color=colors[kind.program],
            instructor_ids=[t.pk for t in teachers],
            confirm_conflicts=True,
        )

    camps = _camps(rng, programs, locations, year, tz)
    return CatalogSummary(
        programs=len(programs),
        levels=len(levels),
        rooms=sum(len(r) for r in rooms.values()),
        terms=2,
        classes=Class.objects.count(),
        camps=len(camps),
        closures=len(closures),
        meetings=Meeting.objects.count(),
        instructors=len(instructors),
        room_conflicts=conflicts,
    )


def _slots(rng: random.Random, kind: Kind) -> tuple[list[int], time]:
    """Weekdays (0 = Monday) and a start time for one class of ``kind``."""
    style = rng.choice(kind.starts)
    if style == "team":  # Mon/Wed(/Fri) or Tue/Thu
        days = [0, 2, 4] if kind.days_per_week == 3 else rng.choice([[0, 2], [1, 3]])
        return days, rng.choice([time(16), time(16, 30), time(17)])
    if style == "saturday":
        return [5], rng.choice(SATURDAY)
    if style == "morning":
        return [rng.randrange(5)], rng.choice(MORNING)
    if style == "evening":
        return [rng.randrange(5)], rng.choice([time(18), time(18, 30)])
    return [rng.randrange(5)], rng.choice(AFTERNOON)


def _place(rng, kind, location, location_rooms, periods, schedule, instructors, limits):
    """A room, days, start and instructors that are free, if any try finds them."""
    teachers_here = [
        p for p in instructors if limits[p.pk] is None or location.pk in limits[p.pk]
    ] or instructors
    wanted = 2 if kind.capacity[1] >= 12 and rng.random() < 0.5 else 1
    candidates = [r for r, k in location_rooms if k in kind.rooms] or [r for r, _ in location_rooms]
    for attempt in range(60):
        days, start = _slots(rng, kind)
        begin, end = _minutes(start), _minutes(start) + kind.minutes
        room = rng.choice(candidates)
        if not schedule.free(("room", room.pk), days, periods, begin, end):
            continue
        free_teachers = [
            t for t in teachers_here if schedule.free(("who", t.pk), days, periods, begin, end)
        ]
        if len(free_teachers) < wanted and attempt < 45:
            continue
        chosen = rng.sample(
            free_teachers or teachers_here, min(wanted, len(free_teachers or teachers_here))
        )
        schedule.take(("room", room.pk), days, periods, begin, end)
        for teacher in chosen:
            schedule.take(("who", teacher.pk), days, periods, begin, end)
        return room, days, start, chosen, 0
    days, start = _slots(rng, kind)
    return rng.choice(candidates), days, start, rng.sample(teachers_here, 1), 1


def _camps(rng, programs, locations, year, tz) -> list[Camp]:
    summer = year + 1
    week_1 = _on_or_after(date(summer, 6, 15), 0)
    opens = datetime(summer, 3, 1, 9, tzinfo=tz)
    full = {"kind": "full", "start_time": time(9), "end_time": time(16)}
    am = {"kind": "am", "start_time": time(9), "end_time": time(12)}
    pm = {"kind": "pm", "start_time": time(13), "end_time": time(16)}
    specs = [
        (
            "Ninja Warrior Camp",
            "Ninja",
            locations[0],
            week_1,
            "per_day",
            24,
            (_y(6), _y(12, 11)),
            [
                {**full, "price_cents": 7500},
                {**am, "price_cents": 4500},
                {**pm, "price_cents": 4500},
            ],
        ),
        (
            "Gymnastics Fun Camp",
            "Recreational Gymnastics",
            locations[1],
            week_1 + timedelta(days=7),
            "whole",
            30,
            (_y(5), _y(12, 11)),
            [{**full, "price_cents": 32500}, {**am, "price_cents": 19500}],
        ),
        (
            "Tumble & Trampoline Camp",
            "Tumbling",
            locations[0],
            week_1 + timedelta(days=21),
            "whole",
            20,
            (_y(8), _y(14, 11)),
            [{**full, "price_cents": 30000}],
        ),
        (
            "Mini Movers Preschool Camp",
            "Preschool",
            locations[1],
            week_1 + timedelta(days=35),
            "per_day",
            12,
            (_y(3), _y(5, 11)),
            [{**am, "price_cents": 4500}],
        ),
    ]
    camps = []
    for name, program, location, monday, mode, capacity, ages, options in specs:
        camps.append(
            services.camp_save(
                program=programs[program],
                location=location,
                name=name,
                description=f"A week of {program.lower()} fun, games and new skills.",
                start_date=monday,
                end_date=monday + timedelta(days=4),
                signup_mode=mode,
                day_capacity=capacity,
                min_age_months=ages[0],
                max_age_months=ages[1],
                registration_opens_at=opens,
                options=options,
            )
        )
    return camps
