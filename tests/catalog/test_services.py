"""Catalog services: valid input saves and audits; bad input names the field, saves nothing."""

from datetime import date, time

import pytest

from classbook.accounts.models import Location
from classbook.accounts.services import location_save
from classbook.audit.models import LogEntry
from classbook.catalog import hooks, services
from classbook.catalog.models import Camp, CampOption, Class, ClassInstructor, Level, Meeting, Term
from classbook.catalog.selectors import term_copy_plan
from classbook.core.errors import ValidationFailed
from tests.catalog import helpers
from tests.conftest import make_staff


def test_class_save_creates_the_class_its_instructors_meetings_and_one_entry(in_a, bob):
    before = LogEntry.objects.count()
    level = services.level_save(program=helpers.program(), name="Level 2", position=2)
    klass = helpers.klass(
        room=helpers.room(),
        instructor_ids=[bob.pk],
        min_age_months=72,
        max_age_months=119,
        gender_rule="girls",
        required_level=level,
    )
    assert list(klass.instructors.all()) == [bob]
    assert Meeting.objects.filter(klass=klass).count() == 15
    entries = list(LogEntry.objects.order_by("id")[before:])
    assert [e.action for e in entries] == ["level.created", "term.created", "class.created"]
    created = entries[-1].changes
    assert created["weekdays"] == [None, "Tue"]
    assert created["min_age"] == [None, "6y"] and created["max_age"] == [None, "9y 11m"]
    assert created["instructors"] == [None, ["Bob"]]


def test_class_update_audits_what_changed(in_a, alice, bob):
    klass = helpers.klass(instructor_ids=[alice.pk])
    services.class_save(klass=klass, capacity=10, instructor_ids=[alice.pk, bob.pk])
    entry = LogEntry.objects.filter(action="class.updated").get()
    assert entry.changes == {
        "capacity": [8, 10],
        "instructors": [["Alice"], ["Alice", "Bob"]],
    }
    assert entry.object_id == str(klass.pk)


def _other_location():
    return location_save(name="Northgate")


BAD_CLASSES = [
    (
        "end before start",
        {"term": None, "start_date": date(2026, 10, 1), "end_date": date(2026, 9, 1)},
        "end_date",
        "The end date is before the start date.",
    ),
    (
        "no session, no start",
        {"term": None},
        "start_date",
        "A class without a session needs a start date.",
    ),
    (
        "dates outside the session",
        {"start_date": date(2026, 9, 1)},
        "start_date",
        "The session “Fall 2026” starts later than this.",
    ),
    (
        "min age above max age",
        {"min_age_months": 96, "max_age_months": 72},
        "max_age_months",
        "The maximum age (6 years) is below the minimum age (8 years).",
    ),
    ("capacity below zero", {"capacity": -1}, "capacity", "Capacity cannot be below zero."),
    (
        "end time before start",
        {"start_time": time(17), "end_time": time(16, 30)},
        "end_time",
        "The class ends before it starts.",
    ),
    (
        "same start and end",
        {"end_time": time(16, 30)},
        "end_time",
        "The class ends before it starts.",
    ),
    ("no weekday", {"weekdays": []}, "weekdays", "Choose at least one weekday."),
    (
        "fixed age date missing",
        {"age_as_of": "fixed_date"},
        "age_as_of_date",
        "Enter the date ages are measured at.",
    ),
    (
        "registration closes before it opens",
        {"registration_opens_at": helpers.NOW, "registration_closes_at": helpers.NOW},
        "registration_closes_at",
        "Registration closes before it opens.",
    ),
    ("no program", {"program": None}, "program", "Choose a program."),
    ("blank name", {"name": "  "}, "name", "This field cannot be blank."),
    ("bad colour", {"color": "red"}, "color", "Use a colour like #1e88e5."),
]


@pytest.mark.parametrize(
    ("case", "values", "field", "message"), BAD_CLASSES, ids=[c[0] for c in BAD_CLASSES]
)
def test_bad_class_input_is_refused_with_a_field_message(in_a, case, values, field, message):
    helpers.term()
    before = (Class.objects.count(), LogEntry.objects.count())
    with pytest.raises(ValidationFailed) as refused:
        helpers.klass(**values)
    assert message in refused.value.errors[field], refused.value.errors
    assert (Class.objects.count(), LogEntry.objects.count()) == before


def test_room_from_another_location_is_refused(in_a):
    elsewhere = helpers.room("Pool", location=_other_location())
    with pytest.raises(ValidationFailed) as refused:
        helpers.klass(room=elsewhere)
    assert refused.value.errors["room"] == ["Pool is at Northgate, not Alpha Gym Main."]


def test_level_of_another_program_is_refused(in_a):
    swim = services.level_save(program=helpers.program("Swim Lessons"), name="Guppy")
    with pytest.raises(ValidationFailed) as refused:
        helpers.klass(required_level=swim)
    assert "Guppy is a level of Swim Lessons" in refused.value.errors["required_level"][0]


def test_inactive_staff_cannot_teach(in_a, account_a):
    gone = make_staff(account_a, "gone")
    gone.is_active = False
    gone.save()
    with pytest.raises(ValidationFailed) as refused:
        helpers.klass(instructor_ids=[gone.pk])
    assert refused.value.errors["instructors"] == ["Gone is not an active staff member."]


def test_many_errors_are_reported_together(in_a):
    with pytest.raises(ValidationFailed) as refused:
        helpers.klass(weekdays=[], capacity=-2, end_time=time(9))
    assert {"weekdays", "capacity", "end_time"} <= set(refused.value.errors)


# ---------------------------------------------------------------- room conflicts


def test_same_room_same_time_is_a_warning_that_can_be_confirmed(in_a):
    gym = helpers.room()
    first = helpers.klass(name="Level 1", room=gym)
    with pytest.raises(services.ScheduleConflict) as conflict:
        helpers.klass(name="Level 3", room=gym, start_time=time(17), end_time=time(18))
    assert conflict.value.conflicts == [first]
    assert (
        "Gym A is already in use then: Level 1 (Tue 4:30 PM–5:30 PM)."
        in (conflict.value.errors["room"])
    )
    assert not Class.objects.filter(name="Level 3").exists()
    saved = helpers.klass(
        name="Level 3", room=gym, start_time=time(17), end_time=time(18), confirm_conflicts=True
    )
    assert saved.pk


@pytest.mark.parametrize(
    ("case", "values"),
    [
        ("another weekday", {"weekdays": [3]}),
        ("right after", {"start_time": time(17, 30), "end_time": time(18, 30)}),
        ("another room", {"room": "Gym B"}),
        ("another session", {"term": "Spring 2027"}),
        ("open-ended after the session", {"term": None, "start_date": date(2027, 1, 4)}),
        ("no room", {"room": None}),
    ],
)
def test_no_conflict_when_something_differs(in_a, case, values):
    helpers.klass(name="Level 1", room=helpers.room())
    helpers.term("Spring 2027", date(2027, 1, 11), date(2027, 5, 22))
    if isinstance(values.get("room"), str):
        values["room"] = helpers.room(values["room"])
    if isinstance(values.get("term"), str):
        values["term"] = Term.objects.get(name=values["term"])
    values.setdefault("room", helpers.room())
    assert helpers.klass(name="Other", **values).pk, case


def test_an_open_ended_class_conflicts_with_a_later_session(in_a):
    gym = helpers.room()
    helpers.klass(name="Preschool", room=gym, term=None, start_date=date(2026, 9, 1))
    spring = helpers.term("Spring 2027", date(2027, 1, 11), date(2027, 5, 22))
    with pytest.raises(services.ScheduleConflict):
        helpers.klass(name="Level 1", room=gym, term=spring)


def test_editing_a_class_does_not_conflict_with_itself(in_a):
    klass = helpers.klass(room=helpers.room())
    assert services.class_save(klass=klass, capacity=9).capacity == 9


# ---------------------------------------------------------------- capacity hook


def test_capacity_checks_registered_by_enrollment_can_refuse(in_a, monkeypatch):
    klass = helpers.klass(capacity=10)
    calls = []

    def enrolled_six(k, new):
        calls.append((k.pk, new))
        return "6 students are enrolled on Sep 8; capacity cannot go below 6." if new < 6 else None

    monkeypatch.setattr(hooks, "CLASS_CAPACITY_CHECKS", [enrolled_six])
    with pytest.raises(ValidationFailed) as refused:
        services.class_save(klass=klass, capacity=5)
    assert refused.value.errors == {
        "capacity": ["6 students are enrolled on Sep 8; capacity cannot go below 6."]
    }
    assert services.class_save(klass=klass, capacity=6).capacity == 6
    services.class_save(klass=klass, capacity=12)  # raising capacity asks nobody
    assert calls == [(klass.pk, 5), (klass.pk, 6)]


# ---------------------------------------------------------------- copying a session


def test_copying_a_session_copies_active_classes_with_instructors_in_one_entry(in_a, bob):
    gym = helpers.room()
    level_1 = helpers.klass(
        name="Level 1",
        room=gym,
        instructor_ids=[bob.pk],
        age_as_of="fixed_date",
        age_as_of_date=date(2026, 9, 1),
    )
    helpers.klass(name="Old class", weekdays=[3], is_active=False)
    fall = level_1.term
    spring = helpers.term("Spring 2027", date(2027, 1, 11), date(2027, 5, 22))
    before = LogEntry.objects.count()

    copies = services.term_copy_classes(source=fall, target=spring)

    assert [c.name for c in copies] == ["Level 1"]
    copy = copies[0]
    assert (copy.term, copy.copied_from, copy.room) == (spring, level_1, gym)
    assert copy.start_date is None and copy.age_as_of == "term_start"
    assert list(
        ClassInstructor.objects.filter(klass=copy).values_list("instructor", flat=True)
    ) == [bob.pk]
    first = Meeting.objects.filter(klass=copy).earliest("date")
    assert first.date == date(2027, 1, 12)
    assert Meeting.objects.filter(klass=copy).count() == 19
    entry = LogEntry.objects.get(pk__gt=LogEntry.objects.order_by("pk")[before - 1].pk)
    assert entry.action == "term.classes_copied" and entry.object_id == str(spring.pk)
    assert entry.changes["classes"] == [None, ["Level 1"]]

    plan = term_copy_plan(fall, spring)
    assert {i.source.name: i.skip_reason for i in plan} == {
        "Level 1": "Already copied into this session.",
        "Old class": "Inactive class.",
    }
    with pytest.raises(ValidationFailed, match="Nothing to copy"):
        services.term_copy_classes(source=fall, target=spring)


def test_copy_plan_shows_room_conflicts_in_the_target_session(in_a):
    gym = helpers.room()
    source = helpers.klass(name="Level 1", room=gym)
    spring = helpers.term("Spring 2027", date(2027, 1, 11), date(2027, 5, 22))
    squatter = helpers.klass(name="Spring Tumbling", room=gym, term=spring)
    [item] = term_copy_plan(source.term, spring)
    assert item.conflicts == [squatter]
    assert len(services.term_copy_classes(source=source.term, target=spring)) == 1


def test_copy_can_be_limited_to_locations(in_a):
    north = _other_location()
    helpers.klass(name="Main class")
    helpers.klass(name="North class", location=north)
    spring = helpers.term("Spring 2027", date(2027, 1, 11), date(2027, 5, 22))
    copies = services.term_copy_classes(
        source=Term.objects.get(name="Fall 2026"), target=spring, location_ids={north.pk}
    )
    assert [c.name for c in copies] == ["North class"]


def test_copy_into_the_same_session_is_refused(in_a):
    fall = helpers.klass().term
    with pytest.raises(ValidationFailed, match="another session"):
        services.term_copy_classes(source=fall, target=fall)


# ---------------------------------------------------------------- sessions, closures, setup


def test_term_validation(in_a):
    with pytest.raises(ValidationFailed) as refused:
        services.term_save(
            name="Backwards", start_date=date(2026, 12, 1), end_date=date(2026, 9, 1)
        )
    assert refused.value.errors == {"end_date": ["The end date is before the start date."]}
    helpers.term()
    with pytest.raises(ValidationFailed, match="already a session named"):
        services.term_save(
            name="fall 2026", start_date=date(2026, 9, 1), end_date=date(2026, 12, 1)
        )
    assert Term.objects.count() == 1


def test_term_cannot_shrink_under_a_class_with_its_own_dates(in_a):
    klass = helpers.klass(end_date=date(2026, 12, 15))
    with pytest.raises(ValidationFailed) as refused:
        services.term_save(term=klass.term, end_date=date(2026, 12, 1))
    assert "“Level 2 Girls” has its own dates" in refused.value.errors["end_date"][0]


def test_closure_validation(in_a):
    with pytest.raises(ValidationFailed) as refused:
        services.closure_save(name="Oops", start_date=date(2026, 12, 2), end_date=date(2026, 12, 1))
    assert refused.value.errors == {"end_date": ["The end date is before the start date."]}


def test_program_level_room_names_are_unique(in_a):
    services.program_save(name="Ninja")
    with pytest.raises(ValidationFailed, match="already a program named “ninja”"):
        services.program_save(name="ninja")
    ninja = helpers.program("Ninja")
    services.level_save(program=ninja, name="Warrior 1")
    with pytest.raises(ValidationFailed, match="Ninja already has a level"):
        services.level_save(program=ninja, name="WARRIOR 1")
    main = Location.objects.get()
    services.room_save(location=main, name="Gym A")
    with pytest.raises(ValidationFailed, match="already has a room named"):
        services.room_save(location=main, name="gym a")
    with pytest.raises(ValidationFailed) as refused:
        services.room_save(location=main, name="Tiny", capacity=-3)
    assert refused.value.errors == {"capacity": ["Capacity cannot be below zero."]}
    assert Level.objects.count() == 1


def test_a_room_with_classes_cannot_move(in_a):
    gym = helpers.room()
    helpers.klass(room=gym)
    with pytest.raises(ValidationFailed, match="cannot move"):
        services.room_save(room=gym, location=_other_location())


# ---------------------------------------------------------------- camps


def _camp_values(**extra):
    values = {
        "program": helpers.program("Summer Camps"),
        "location": Location.objects.get(),
        "name": "Gymnastics Fun Week",
        "start_date": date(2027, 6, 14),
        "end_date": date(2027, 6, 18),
        "signup_mode": "per_day",
        "day_capacity": 24,
        "min_age_months": 60,
        "max_age_months": 143,
        "options": [
            {"kind": "full", "start_time": time(9), "end_time": time(16), "price_cents": 6500},
            {"kind": "am", "start_time": time(9), "end_time": time(12), "price_cents": 4000},
        ],
    }
    values.update(extra)
    return values


def test_camp_save_with_options_days_and_one_entry(in_a):
    before = LogEntry.objects.count()
    camp = services.camp_save(**_camp_values())
    assert camp.days.count() == 5
    assert sorted(camp.options.values_list("kind", "price_cents")) == [("am", 4000), ("full", 6500)]
    assert LogEntry.objects.count() == before + 1
    services.camp_save(
        camp=camp,
        options=[{"kind": "pm", "start_time": time(13), "end_time": time(16), "price_cents": 4000}],
    )
    assert list(camp.options.values_list("kind", flat=True)) == ["pm"]
    entry = LogEntry.objects.filter(action="camp.updated").get()
    assert entry.changes["options"][1] == ["Half day (PM) 1:00 PM–4:00 PM 4000¢"]


BAD_CAMPS = [
    (
        "end before start",
        {"end_date": date(2027, 6, 1)},
        "end_date",
        "The end date is before the start date.",
    ),
    ("capacity below zero", {"day_capacity": -1}, "day_capacity", "Capacity cannot be below zero."),
    (
        "ages",
        {"min_age_months": 100, "max_age_months": 60},
        "max_age_months",
        "The maximum age (5 years) is below the minimum age (8 years 4 months).",
    ),
    (
        "no options",
        {"options": []},
        "options",
        "Offer at least one option (full day or a half day).",
    ),
    (
        "option ends before it starts",
        {
            "options": [
                {"kind": "am", "start_time": time(12), "end_time": time(9), "price_cents": 1}
            ]
        },
        "am_end_time",
        "The half day (am) ends before it starts.",
    ),
    (
        "negative price",
        {
            "options": [
                {"kind": "full", "start_time": time(9), "end_time": time(16), "price_cents": -5}
            ]
        },
        "full_price",
        "A price cannot be below zero.",
    ),
    ("no weekday", {"weekdays": []}, "weekdays", "Choose at least one weekday."),
]


@pytest.mark.parametrize(
    ("case", "values", "field", "message"), BAD_CAMPS, ids=[c[0] for c in BAD_CAMPS]
)
def test_bad_camp_input_is_refused(in_a, case, values, field, message):
    with pytest.raises(ValidationFailed) as refused:
        services.camp_save(**_camp_values(**values))
    assert message in refused.value.errors[field], refused.value.errors
    assert not Camp.objects.exists() and not CampOption.objects.exists()


def test_camp_capacity_checks_can_refuse(in_a, monkeypatch):
    camp = services.camp_save(**_camp_values())
    monkeypatch.setattr(
        hooks,
        "CAMP_CAPACITY_CHECKS",
        [lambda c, new: "20 campers on Jun 14." if new < 20 else None],
    )
    with pytest.raises(ValidationFailed) as refused:
        services.camp_save(camp=camp, day_capacity=10)
    assert refused.value.errors == {"day_capacity": ["20 campers on Jun 14."]}


def test_rows_of_another_account_are_refused(in_a, account_b):
    from classbook.core.errors import TenancyError
    from classbook.core.tenancy import activate_account

    with activate_account(account_b):
        theirs = helpers.program("Their program")
    with pytest.raises(TenancyError):
        helpers.klass(program=theirs)
