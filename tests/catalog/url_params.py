"""How to fill the catalog's URL parameters with an object of account A (access tests).

Each maker gets the access-test context (``account``, ``location``, ``alice``, ...).
"""

from datetime import date, time

from classbook.core.tenancy import activate_account


def _in_account(make):
    def wrapper(ctx):
        with activate_account(ctx["account"]):
            return make(ctx).pk

    return wrapper


def _program(ctx):
    from classbook.catalog.models import Program

    return Program.objects.get_or_create(name="Access program")[0]


def _term(ctx):
    from classbook.catalog.models import Term

    return Term.objects.get_or_create(
        name="Access term",
        defaults={"start_date": date(2026, 9, 1), "end_date": date(2026, 12, 15)},
    )[0]


def _class(ctx):
    from classbook.catalog.models import Class

    return Class.objects.get_or_create(
        name="Access class",
        defaults={
            "program": _program(ctx),
            "location": ctx["location"],
            "term": _term(ctx),
            "weekdays": 0b10,
            "start_time": time(16),
            "end_time": time(17),
            "capacity": 8,
        },
    )[0]


def _level(ctx):
    from classbook.catalog.models import Level

    return Level.objects.get_or_create(program=_program(ctx), name="Access level")[0]


def _room(ctx):
    from classbook.catalog.models import Room

    return Room.objects.get_or_create(location=ctx["location"], name="Access room")[0]


def _closure(ctx):
    from classbook.catalog.models import Closure

    return Closure.objects.get_or_create(
        name="Access closure",
        defaults={"start_date": date(2026, 11, 26), "end_date": date(2026, 11, 27)},
    )[0]


def _camp(ctx):
    from classbook.catalog.models import Camp

    return Camp.objects.get_or_create(
        name="Access camp",
        defaults={
            "program": _program(ctx),
            "location": ctx["location"],
            "start_date": date(2027, 6, 14),
            "end_date": date(2027, 6, 18),
            "day_capacity": 20,
        },
    )[0]


PARAMS = {
    "class_id": _in_account(_class),
    "program_id": _in_account(_program),
    "level_id": _in_account(_level),
    "room_id": _in_account(_room),
    "term_id": _in_account(_term),
    "closure_id": _in_account(_closure),
    "camp_id": _in_account(_camp),
}
