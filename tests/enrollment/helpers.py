"""Classes, camps and students for enrollment tests, made through the real services."""

from datetime import date, time

from classbook.accounts.models import Location
from classbook.catalog import services as catalog
from classbook.catalog.models import CampDay, Program
from classbook.families.models import Student
from tests.ledger.helpers import make_family

TERM_START = date(2027, 1, 4)  # a Monday, after the "today" of the suite (Nov 2026)
TERM_END = date(2027, 3, 29)


def program() -> Program:
    return Program.objects.get_or_create(name="Recreational Gymnastics")[0]


def make_class(
    *,
    capacity: int = 10,
    name: str = "Level 2 Girls",
    weekdays=(1,),
    start: date | None = TERM_START,
    end: date | None = TERM_END,
    **extra,
):
    extra.setdefault("location", Location.objects.first())
    return catalog.class_save(
        program=program(),
        name=name,
        start_date=start,
        end_date=end,
        weekdays=list(weekdays),
        start_time=time(16, 30),
        end_time=time(17, 30),
        capacity=capacity,
        confirm_conflicts=True,
        **extra,
    )


def make_camp(*, day_capacity: int = 10, signup_mode: str = "per_day"):
    return catalog.camp_save(
        program=program(),
        location=Location.objects.first(),
        name="Summer Ninja Week",
        start_date=date(2027, 6, 14),
        end_date=date(2027, 6, 18),
        day_capacity=day_capacity,
        signup_mode=signup_mode,
        options=[
            {"kind": "full", "start_time": time(9), "end_time": time(16), "price_cents": 6500}
        ],
    )


def camp_days(camp) -> list[CampDay]:
    return list(CampDay.objects.filter(camp=camp).order_by("date"))


def make_student(
    first: str = "Maya", *, born: date = date(2019, 5, 1), gender: str = "female", family=None
) -> Student:
    family = family or make_family(f"{first} family")
    return Student.objects.create(
        family=family, first_name=first, last_name="Test", date_of_birth=born, gender=gender
    )
