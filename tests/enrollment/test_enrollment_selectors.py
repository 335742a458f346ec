"""The reads behind the office pages agree with the engine: the preview's failed rules are
exactly what ``enroll`` refuses for, and the bulk seat counts equal ``capacity``."""

from datetime import date, timedelta

import pytest

from classbook.catalog.models import Level, Meeting
from classbook.core import clock
from classbook.enrollment import capacity, selectors, services
from classbook.enrollment.services import EnrollmentRefused, HoldRequest
from tests.enrollment.helpers import TERM_START, make_class, make_student, program
from tests.enrollment.pages import FIRST, NOW


@pytest.fixture(autouse=True)
def fixed_now():
    with clock.freeze(NOW):
        yield


def _levels():
    beginner = Level.objects.create(program=program(), name="Beginner", position=1)
    advanced = Level.objects.create(program=program(), name="Advanced", position=3)
    return beginner, advanced


@pytest.mark.parametrize(
    "student_kwargs, class_kwargs, failed",
    [
        ({}, {}, []),
        ({"born": date(2023, 1, 1)}, {"min_age_months": 72}, ["Age"]),
        ({"gender": "male"}, {"gender_rule": "girls"}, ["Gender"]),
        (
            {"born": date(2010, 1, 1), "gender": "unspecified"},
            {"max_age_months": 120, "gender_rule": "boys"},
            ["Age", "Gender"],
        ),
        ({"level": "beginner"}, {"required_level": "advanced"}, ["Level"]),
        ({}, {"start": date(2026, 9, 1), "end": date(2026, 10, 1)}, ["Meetings"]),
    ],
)
def test_preview_fails_exactly_the_rules_enroll_refuses_for(
    in_a, student_kwargs, class_kwargs, failed
):
    beginner, advanced = _levels()
    levels = {"beginner": beginner, "advanced": advanced}
    level = levels.get(student_kwargs.pop("level", None))
    if "required_level" in class_kwargs:
        class_kwargs["required_level"] = levels[class_kwargs["required_level"]]
    student = make_student(**student_kwargs)
    if level is not None:
        student.level = level
        student.save(update_fields=["level"])
    klass = make_class(**class_kwargs)
    start = max(TERM_START, klass.effective_start)
    preview = selectors.enroll_preview(student, klass, start=start, end=None, now=NOW)
    blocking_failed = [r for r in preview.rules if r.blocking and not r.ok]
    assert [r.label for r in blocking_failed] == failed
    assert [r.detail for r in blocking_failed] == preview.refusals
    if failed:
        with pytest.raises(EnrollmentRefused) as refused:
            services.enroll(student=student, klass=klass, start_date=start)
        assert refused.value.reasons == preview.refusals
    else:
        assert preview.can_enroll
        services.enroll(student=student, klass=klass, start_date=start)


def test_preview_warns_about_clashes_and_the_window_without_refusing(in_a):
    student = make_student()
    services.enroll(student=student, klass=make_class(name="Same time"), start_date=TERM_START)
    klass = make_class(name="Other", registration_opens_at=NOW + timedelta(days=30))
    preview = selectors.enroll_preview(student, klass, start=TERM_START, end=None, now=NOW)
    warnings = {r.label: r for r in preview.rules if not r.blocking}
    assert not warnings["Schedule"].ok and "Same time" in warnings["Schedule"].detail
    assert not warnings["Registration window"].ok
    assert "office may enroll" in warnings["Registration window"].detail
    assert preview.can_enroll
    services.enroll(student=student, klass=klass, start_date=TERM_START)


def test_preview_of_a_full_class_and_a_duplicate(in_a):
    klass = make_class(capacity=1)
    seated = make_student("Seated")
    services.enroll(student=seated, klass=klass, start_date=TERM_START)
    full = selectors.enroll_preview(make_student(), klass, start=TERM_START, end=None, now=NOW)
    assert full.full and not full.can_enroll and full.seats_left == 0
    again = selectors.enroll_preview(seated, klass, start=TERM_START, end=None, now=NOW)
    assert again.already is not None and not again.can_enroll


def test_bulk_seat_counts_equal_the_engine(in_a):
    a = make_class(name="A", capacity=5)
    b = make_class(name="B", capacity=3, weekdays=(3,))
    c = make_class(name="C", capacity=4, weekdays=(4,))
    services.enroll(student=make_student("A1"), klass=a, start_date=TERM_START)
    services.enroll(student=make_student("A2"), klass=a, start_date=TERM_START, end_date=FIRST)
    services.enroll(student=make_student("A3"), klass=a, start_date=date(2027, 1, 12))
    services.enroll(student=make_student("B1"), klass=b, start_date=TERM_START)
    services.trial_book(
        student=make_student("BT"), meeting=Meeting.objects.filter(klass=b).order_by("date")[0]
    )
    services.hold_seats(cart="c", requests=[HoldRequest(klass=c, start_date=TERM_START)])
    services.waitlist_join(student=make_student("CW"), klass=c, start_date=TERM_START)
    services.waitlist_offer_seats(klass=c)
    classes = [a, b, c]
    for today in (date(2026, 11, 21), date(2027, 1, 6), date(2027, 1, 13)):
        bulk = selectors.next_meeting_seats(classes, today=today, now=NOW)
        for klass in classes:
            day = Meeting.objects.filter(klass=klass, date__gte=today).order_by("date")[0].date
            taken = capacity.class_taken(klass, [day], now=NOW)[day]
            assert (bulk[klass.pk].day, bulk[klass.pk].taken) == (day, taken), (klass, today)
            assert bulk[klass.pk].left == max(0, klass.capacity - taken)
    assert selectors.next_meeting_seats(classes, today=date(2030, 1, 1), now=NOW)[a.pk].day is None


def test_roster_equals_the_engine_on_every_meeting(in_a):
    klass = make_class(capacity=6)
    services.enroll(student=make_student("R1"), klass=klass, start_date=TERM_START)
    leaving = services.enroll(student=make_student("R2"), klass=klass, start_date=TERM_START)
    services.drop(enrollment=leaving, effective_date=date(2027, 2, 1), reason="x")
    services.enroll(student=make_student("R3"), klass=klass, start_date=date(2027, 2, 15))
    meetings = list(Meeting.objects.filter(klass=klass).order_by("date"))
    services.trial_book(student=make_student("RT"), meeting=meetings[3])
    taken = capacity.class_taken(klass, [m.date for m in meetings], now=NOW)
    for meeting in meetings:
        roster = selectors.roster(klass, meeting.date, now=NOW)
        assert roster.taken == taken[meeting.date], meeting.date
