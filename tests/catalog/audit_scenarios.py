"""One valid call per audited catalog service (see tests/audit): ``ctx -> call``."""

from datetime import date, time

from classbook.catalog import services as catalog
from classbook.catalog.models import Camp, CampOption, Class, Closure, Program, Term


def _program():
    return Program.objects.get_or_create(name="Audit program")[0]


def _term(name="Audit term", start=date(2026, 9, 1), end=date(2026, 12, 15)):
    return Term.objects.get_or_create(name=name, defaults={"start_date": start, "end_date": end})[0]


def _class(ctx):
    return Class.objects.create(
        program=_program(),
        name="Audit class",
        location=ctx["location"],
        term=_term(),
        weekdays=0b10,
        start_time=time(16),
        end_time=time(17),
        capacity=8,
    )


def _camp(ctx):
    camp = Camp.objects.create(
        program=_program(),
        location=ctx["location"],
        name="Audit camp",
        start_date=date(2027, 6, 14),
        end_date=date(2027, 6, 18),
        day_capacity=20,
    )
    CampOption.objects.create(
        camp=camp, kind="full", start_time=time(9), end_time=time(16), price_cents=30000
    )
    return camp


def _closure():
    return Closure.objects.create(
        name="Audit closure", start_date=date(2026, 11, 26), end_date=date(2026, 11, 27)
    )


def _term_copy(ctx):
    _class(ctx)
    source = _term()
    target = _term("Audit target", date(2027, 1, 11), date(2027, 5, 22))
    return lambda: catalog.term_copy_classes(source=source, target=target)


def _class_save(ctx):
    klass = _class(ctx)
    return lambda: catalog.class_save(klass=klass, capacity=10, instructor_ids=[ctx["bob"].pk])


def _closure_save(ctx):
    closure = _closure()
    return lambda: catalog.closure_save(closure=closure, end_date=date(2026, 11, 29))


def _closure_delete(ctx):
    closure = _closure()
    return lambda: catalog.closure_delete(closure=closure)


def _camp_save(ctx):
    camp = _camp(ctx)
    return lambda: catalog.camp_save(camp=camp, day_capacity=24)


def _level_save(ctx):
    program = _program()
    return lambda: catalog.level_save(program=program, name="Level 1", position=1)


SCENARIOS = {
    "classbook.catalog.services.program_save": lambda ctx: (
        lambda: catalog.program_save(name="Ninja")
    ),
    "classbook.catalog.services.level_save": _level_save,
    "classbook.catalog.services.room_save": lambda ctx: (
        lambda: catalog.room_save(location=ctx["location"], name="Gym B", capacity=30)
    ),
    "classbook.catalog.services.term_save": lambda ctx: (
        lambda: catalog.term_save(
            name="Spring 2027", start_date=date(2027, 1, 11), end_date=date(2027, 5, 22)
        )
    ),
    "classbook.catalog.services.class_save": _class_save,
    "classbook.catalog.services.term_copy_classes": _term_copy,
    "classbook.catalog.services.closure_save": _closure_save,
    "classbook.catalog.services.closure_delete": _closure_delete,
    "classbook.catalog.services.camp_save": _camp_save,
}

EXEMPT: dict[str, str] = {}
