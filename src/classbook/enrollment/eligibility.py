"""Which rules a student meets for a class or camp, each refusal saying which rule."""

from __future__ import annotations

from datetime import date, datetime

from classbook.catalog import eligibility as rules
from classbook.catalog.models import Camp, Class
from classbook.enrollment.capacity import meeting_dates
from classbook.families.models import Student


def _recorded_gender(student: Student) -> str:
    return "" if student.gender == Student.Gender.UNSPECIFIED else student.gender


def class_refusals(
    student: Student, klass: Class, *, start: date, now: datetime, check_window: bool
) -> list[str]:
    dates = meeting_dates(klass, start, klass.effective_end)
    reasons = []
    if not dates:
        reasons.append(f"{klass} has no meetings on or after {start:%b %-d, %Y}.")
    term_start = klass.term.start_date if klass.term_id else klass.effective_start
    on = rules.age_reference_date(
        rule=klass.age_as_of,
        first_meeting=dates[0] if dates else None,
        term_start=term_start,
        fixed_date=klass.age_as_of_date,
    )
    found = [
        rules.check_age(
            birth_date=student.date_of_birth,
            on=on,
            min_months=klass.min_age_months,
            max_months=klass.max_age_months,
        ),
        rules.check_gender(gender=_recorded_gender(student), rule=klass.gender_rule),
        rules.check_level(student_level=student.level, required_level=klass.required_level),
    ]
    if check_window:
        found.append(
            rules.check_registration_window(
                opens_at=klass.effective_registration_opens_at,
                closes_at=klass.effective_registration_closes_at,
                at=now,
                tz=klass.timezone,
            )
        )
    return reasons + [reason for reason in found if reason]


def camp_refusals(student: Student, camp: Camp, *, now: datetime, check_window: bool) -> list[str]:
    found = [
        rules.check_age(
            birth_date=student.date_of_birth,
            on=camp.start_date,
            min_months=camp.min_age_months,
            max_months=camp.max_age_months,
        )
    ]
    if check_window:
        found.append(
            rules.check_registration_window(
                opens_at=camp.registration_opens_at, closes_at=camp.registration_closes_at, at=now
            )
        )
    return [reason for reason in found if reason]
