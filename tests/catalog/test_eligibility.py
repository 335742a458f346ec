"""Eligibility rules as tables: each refusal says which rule failed and why."""

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from classbook.catalog.eligibility import (
    age_in_months,
    age_reference_date,
    check_age,
    check_gender,
    check_level,
    check_registration_window,
    format_age,
    format_age_range,
)


@pytest.mark.parametrize(
    ("born", "on", "months"),
    [
        (date(2020, 3, 15), date(2020, 3, 15), 0),
        (date(2020, 3, 15), date(2020, 4, 14), 0),
        (date(2020, 3, 15), date(2020, 4, 15), 1),
        (date(2020, 3, 15), date(2026, 3, 14), 71),
        (date(2020, 3, 15), date(2026, 3, 15), 72),
        (date(2020, 1, 31), date(2020, 2, 28), 0),  # 2020 is a leap year: Feb 29 exists
        (date(2020, 1, 31), date(2020, 2, 29), 1),  # month-end: the shorter month's last day
        (date(2021, 1, 31), date(2021, 2, 28), 1),
        (date(2020, 2, 29), date(2021, 2, 28), 12),  # leap-day birthday in a common year
        (date(2020, 2, 29), date(2024, 2, 28), 47),
        (date(2020, 2, 29), date(2024, 2, 29), 48),
        (date(2020, 3, 15), date(2020, 3, 1), -1),  # not born yet
    ],
)
def test_age_in_months(born, on, months):
    assert age_in_months(born, on) == months


@pytest.mark.parametrize(
    ("months", "long", "short"),
    [
        (0, "0 months", "0y"),
        (5, "5 months", "0y 5m"),
        (12, "1 year", "1y"),
        (72, "6 years", "6y"),
        (75, "6 years 3 months", "6y 3m"),
        (119, "9 years 11 months", "9y 11m"),
    ],
)
def test_format_age(months, long, short):
    assert format_age(months) == long
    assert format_age(months, short=True) == short


@pytest.mark.parametrize(
    ("low", "high", "text"),
    [
        (None, None, "All ages"),
        (36, None, "3y and up"),
        (None, 60, "Up to 5y"),
        (72, 119, "6y – 9y 11m"),
    ],
)
def test_format_age_range(low, high, text):
    assert format_age_range(low, high) == text


SEPT_1 = date(2026, 9, 1)


@pytest.mark.parametrize(
    ("born", "low", "high", "reason"),
    [
        (date(2020, 9, 1), 72, 119, None),  # 6 on the day
        (
            date(2020, 9, 2),
            72,
            119,
            "Too young: 5 years 11 months on Sep 1, 2026; the minimum age is 6 years.",
        ),
        (date(2016, 9, 2), 72, 119, None),  # 9y 11m: still in
        (
            date(2016, 9, 1),
            72,
            119,
            "Too old: 10 years on Sep 1, 2026; the maximum age is 9 years 11 months.",
        ),
        (date(2024, 1, 1), None, None, None),  # no range: anyone
        (None, 72, None, "The student's date of birth is missing; this class has an age range."),
        (None, None, None, None),
        (date(2026, 10, 1), 0, 24, "The student is not born yet on Sep 1, 2026."),
        (date(2025, 3, 1), 6, 35, None),  # a toddler class, 18 months
    ],
)
def test_check_age(born, low, high, reason):
    assert check_age(birth_date=born, on=SEPT_1, min_months=low, max_months=high) == reason


@pytest.mark.parametrize(
    ("gender", "rule", "reason"),
    [
        ("female", "any", None),
        ("", "any", None),
        ("female", "girls", None),
        ("F", "girls", None),
        ("male", "girls", "This class is for girls only."),
        ("male", "boys", None),
        ("female", "boys", "This class is for boys only."),
        ("other", "boys", "This class is for boys only."),
        ("", "girls", "This class is for girls only and the student's gender is not recorded."),
        (None, "boys", "This class is for boys only and the student's gender is not recorded."),
    ],
)
def test_check_gender(gender, rule, reason):
    assert check_gender(gender=gender, rule=rule) == reason


def test_check_gender_refuses_an_unknown_rule():
    with pytest.raises(ValueError, match="unknown gender rule"):
        check_gender(gender="female", rule="adults")


@dataclass
class FakeLevel:
    pk: int
    program_id: int
    position: int
    name: str


GYM_1 = FakeLevel(1, program_id=10, position=1, name="Level 1")
GYM_2 = FakeLevel(2, program_id=10, position=2, name="Level 2")
GYM_3 = FakeLevel(3, program_id=10, position=3, name="Level 3")
SWIM_2 = FakeLevel(4, program_id=20, position=2, name="Swim 2")


@pytest.mark.parametrize(
    ("student", "required", "reason"),
    [
        (None, None, None),
        (GYM_1, None, None),
        (GYM_2, GYM_2, None),
        (GYM_3, GYM_2, None),  # above the required level
        (GYM_1, GYM_2, "This class needs Level 2 or above; the student is at Level 1."),
        (None, GYM_2, "This class needs Level 2; the student has no level recorded."),
        (
            SWIM_2,
            GYM_2,
            "This class needs Level 2; the student's level (Swim 2) is in another program.",
        ),
    ],
)
def test_check_level(student, required, reason):
    assert check_level(student_level=student, required_level=required) == reason


OPENS = datetime(2026, 8, 1, 14, 0, tzinfo=UTC)  # 9:00 AM in Chicago (CDT)
CLOSES = datetime(2026, 9, 15, 5, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("at", "opens", "closes", "reason"),
    [
        (
            datetime(2026, 8, 1, 13, 59, tzinfo=UTC),
            OPENS,
            CLOSES,
            "Registration opens Aug 1, 2026 at 9:00 AM.",
        ),
        (OPENS, OPENS, CLOSES, None),
        (datetime(2026, 9, 15, 4, 59, tzinfo=UTC), OPENS, CLOSES, None),
        (CLOSES, OPENS, CLOSES, "Registration closed Sep 15, 2026 at 12:00 AM."),
        (CLOSES, None, None, None),
    ],
)
def test_check_registration_window(at, opens, closes, reason):
    import zoneinfo

    tz = zoneinfo.ZoneInfo("America/Chicago")
    assert check_registration_window(opens_at=opens, closes_at=closes, at=at, tz=tz) == reason


@pytest.mark.parametrize(
    ("rule", "first", "fixed", "expected"),
    [
        ("first_meeting", date(2026, 10, 6), None, date(2026, 10, 6)),
        ("first_meeting", None, None, date(2026, 9, 8)),
        ("term_start", date(2026, 10, 6), None, date(2026, 9, 8)),
        ("fixed_date", date(2026, 10, 6), date(2026, 9, 1), date(2026, 9, 1)),
        ("fixed_date", date(2026, 10, 6), None, date(2026, 9, 8)),
    ],
)
def test_age_reference_date(rule, first, fixed, expected):
    assert (
        age_reference_date(
            rule=rule, first_meeting=first, term_start=date(2026, 9, 8), fixed_date=fixed
        )
        == expected
    )
