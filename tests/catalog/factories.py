"""Row-makers for catalog models (merged into tests/tenant_factories.py)."""

from datetime import UTC, date, datetime, time

from classbook.accounts.models import Location, User
from classbook.catalog.models import (
    Camp,
    CampDay,
    CampOption,
    Class,
    ClassInstructor,
    Closure,
    Level,
    Meeting,
    Program,
    Room,
    Term,
)


def _program(n):
    return Program.objects.create(name=f"Isolation program {n}")


def _class(n):
    return Class.objects.create(
        program=_program(f"C{n}"),
        name=f"Isolation class {n}",
        location=Location.objects.first(),
        start_date=date(2026, 9, 1),
        weekdays=0b1,
        start_time=time(16, 30),
        end_time=time(17, 30),
        capacity=8,
    )


def _camp(n):
    return Camp.objects.create(
        program=_program(f"K{n}"),
        location=Location.objects.first(),
        name=f"Isolation camp {n}",
        start_date=date(2027, 6, 14),
        end_date=date(2027, 6, 18),
        day_capacity=20,
    )


def _meeting(n):
    return Meeting.objects.create(
        klass=_class(f"M{n}"),
        date=date(2026, 9, 7),
        starts_at=datetime(2026, 9, 7, 21, 30, tzinfo=UTC),
        ends_at=datetime(2026, 9, 7, 22, 30, tzinfo=UTC),
    )


FACTORIES = {
    Program: _program,
    Level: lambda n: Level.objects.create(program=_program(f"L{n}"), name=f"Level {n}"),
    Room: lambda n: Room.objects.create(location=Location.objects.first(), name=f"Room {n}"),
    Term: lambda n: Term.objects.create(
        name=f"Isolation term {n}", start_date=date(2026, 9, 1), end_date=date(2026, 12, 15)
    ),
    Class: _class,
    ClassInstructor: lambda n: ClassInstructor.objects.create(
        klass=_class(f"I{n}"), instructor=User.objects.filter(kind=User.Kind.STAFF).first()
    ),
    Meeting: _meeting,
    Closure: lambda n: Closure.objects.create(
        name=f"Isolation closure {n}", start_date=date(2026, 11, 26), end_date=date(2026, 11, 27)
    ),
    Camp: _camp,
    CampOption: lambda n: CampOption.objects.create(
        camp=_camp(f"O{n}"),
        kind=CampOption.Kind.FULL_DAY,
        start_time=time(9),
        end_time=time(16),
        price_cents=32500,
    ),
    CampDay: lambda n: CampDay.objects.create(camp=_camp(f"D{n}"), date=date(2027, 6, 14)),
}
