"""Eligibility rules of classes and camps, as pure functions.

Each ``check_*`` returns ``None`` when the rule is met, or a sentence saying which rule
failed and why (shown to staff and parents as is). The enrollment engine calls them; they
read no database rows beyond the attributes of the objects passed in.

Ages are whole months. A month is complete on the same day-of-month as the birth date,
or on the month's last day when it is shorter (born Jan 31 → one month old on Feb 28/29;
born Feb 29 → one year old on Feb 28 of a common year). Both ends of an age range are
inclusive: "6y 0m – 9y 11m" takes a child from their 6th birthday until the day before
their 10th.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, tzinfo
from typing import Protocol


class LevelLike(Protocol):
    pk: int | None
    program_id: int
    position: int
    name: str


def _last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def age_in_months(birth_date: date, on: date) -> int:
    """Complete months from ``birth_date`` to ``on`` (negative before birth)."""
    if on < birth_date:
        return -age_in_months(on, birth_date) - 1
    months = (on.year - birth_date.year) * 12 + (on.month - birth_date.month)
    anniversary_day = min(birth_date.day, _last_day(on.year, on.month))
    if on.day < anniversary_day:
        months -= 1
    return months


def age_parts(months: int) -> tuple[int, int]:
    return divmod(months, 12)


def format_age(months: int | None, *, short: bool = False) -> str:
    """72 → "6 years", 75 → "6 years 3 months" (short: "6y", "6y 3m")."""
    if months is None:
        return ""
    years, rest = age_parts(months)
    if short:
        return f"{years}y" + (f" {rest}m" if rest else "")
    parts = []
    if years:
        parts.append(f"{years} year{'s' if years != 1 else ''}")
    if rest or not years:
        parts.append(f"{rest} month{'s' if rest != 1 else ''}")
    return " ".join(parts)


def format_age_range(min_months: int | None, max_months: int | None) -> str:
    if min_months is None and max_months is None:
        return "All ages"
    if max_months is None:
        return f"{format_age(min_months, short=True)} and up"
    if min_months is None:
        return f"Up to {format_age(max_months, short=True)}"
    return f"{format_age(min_months, short=True)} – {format_age(max_months, short=True)}"


def _day(d: date) -> str:
    return f"{d:%b} {d.day}, {d.year}"


def check_age(
    *, birth_date: date | None, on: date, min_months: int | None, max_months: int | None
) -> str | None:
    """Is a student born on ``birth_date`` inside the range on date ``on``?"""
    if min_months is None and max_months is None:
        return None
    if birth_date is None:
        return "The student's date of birth is missing; this class has an age range."
    age = age_in_months(birth_date, on)
    if age < 0:
        return f"The student is not born yet on {_day(on)}."
    if min_months is not None and age < min_months:
        return (
            f"Too young: {format_age(age)} on {_day(on)}; "
            f"the minimum age is {format_age(min_months)}."
        )
    if max_months is not None and age > max_months:
        return (
            f"Too old: {format_age(age)} on {_day(on)}; "
            f"the maximum age is {format_age(max_months)}."
        )
    return None


FEMALE = frozenset({"female", "f", "girl"})
MALE = frozenset({"male", "m", "boy"})


def check_gender(*, gender: str | None, rule: str) -> str | None:
    """``rule`` is a ``GenderRule`` value: "any", "girls" or "boys"."""
    if rule in ("any", "", None):
        return None
    value = (gender or "").strip().lower()
    wanted, label = (FEMALE, "girls") if rule == "girls" else (MALE, "boys")
    if rule not in ("girls", "boys"):
        raise ValueError(f"unknown gender rule {rule!r}")
    if not value:
        return f"This class is for {label} only and the student's gender is not recorded."
    if value not in wanted:
        return f"This class is for {label} only."
    return None


def check_level(*, student_level: LevelLike | None, required_level: LevelLike | None) -> str | None:
    """The student must be at the required level or above, in the same program."""
    if required_level is None:
        return None
    if student_level is None:
        return f"This class needs {required_level.name}; the student has no level recorded."
    if student_level.program_id != required_level.program_id:
        return (
            f"This class needs {required_level.name}; the student's level "
            f"({student_level.name}) is in another program."
        )
    if student_level.position < required_level.position:
        return (
            f"This class needs {required_level.name} or above; "
            f"the student is at {student_level.name}."
        )
    return None


def _moment(value: datetime, tz: tzinfo | None) -> str:
    local = value.astimezone(tz) if tz is not None else value
    clock = local.strftime("%I:%M %p").lstrip("0")
    return f"{local:%b} {local.day}, {local.year} at {clock}"


def check_registration_window(
    *,
    opens_at: datetime | None,
    closes_at: datetime | None,
    at: datetime,
    tz: tzinfo | None = None,
) -> str | None:
    """Registration is open from ``opens_at`` (inclusive) to ``closes_at`` (exclusive);
    ``tz`` is where the times are shown."""
    if opens_at is not None and at < opens_at:
        return f"Registration opens {_moment(opens_at, tz)}."
    if closes_at is not None and at >= closes_at:
        return f"Registration closed {_moment(closes_at, tz)}."
    return None


def age_reference_date(
    *,
    rule: str,
    first_meeting: date | None,
    term_start: date,
    fixed_date: date | None,
) -> date:
    """The date a class's ``age_as_of`` rule measures age at (an ``AgeAsOf`` value).

    ``first_meeting`` is the enrollment's first meeting (None when there is none, then the
    class or session start is used).
    """
    if rule == "fixed_date" and fixed_date is not None:
        return fixed_date
    if rule == "first_meeting" and first_meeting is not None:
        return first_meeting
    return term_start
