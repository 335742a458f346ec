"""The finder's selectors: eligibility as the engine sees it, seats counted like
``enrollment.capacity``, and a query count that does not grow with the classes listed."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from classbook.catalog.models import Meeting
from classbook.core import clock
from classbook.enrollment import capacity
from classbook.enrollment import services as enrollment
from classbook.enrollment.services import HoldRequest
from classbook.families.models import Student
from classbook.portal import selectors
from classbook.portal.selectors import FinderFilter, Who
from tests.portal.helpers import (
    FIRST_TUESDAY,
    TERM_START,
    camp_days,
    level,
    make_camp,
    make_class,
    make_family,
    monthly_rule,
)

pytestmark = pytest.mark.usefixtures("in_a")


def _cards(**filters):
    return selectors.class_cards(FinderFilter(**filters), now=clock.now())


def test_cards_show_seats_price_start_and_instructor_free_text():
    monthly_rule()
    klass = make_class(capacity=3)
    family = make_family(
        children=[("Ana", date(2019, 3, 4), "female"), ("Leo", date(2019, 6, 1), "male")]
    )
    ana, leo = Student.objects.filter(family=family).order_by("first_name")
    enrollment.enroll(student=ana, klass=klass, start_date=FIRST_TUESDAY)
    enrollment.hold_seats(cart="c", requests=[HoldRequest(klass=klass, start_date=FIRST_TUESDAY)])
    (card,) = _cards()
    assert card.seats_left == 1 and card.seats_label == "1 left"
    assert card.price_label == "$80.00 a month"
    assert card.start_date == FIRST_TUESDAY
    enrollment.enroll(student=leo, klass=klass, start_date=FIRST_TUESDAY)
    (card,) = _cards()
    assert card.full and card.seats_label == "Full"


def test_seats_left_match_the_engine_for_every_class():
    """Future-dated enrollments, drops, holds, offers and visits, counted like capacity."""
    classes = [make_class(f"Class {i}", capacity=4, weekdays=(i % 5,)) for i in range(4)]
    family = make_family(children=[(f"Kid{i}", date(2019, 1, 1 + i), "female") for i in range(5)])
    kids = list(Student.objects.filter(family=family))
    enrollment.enroll(student=kids[0], klass=classes[0], start_date=TERM_START + timedelta(days=30))
    dropped = enrollment.enroll(student=kids[1], klass=classes[0], start_date=TERM_START)
    enrollment.drop(enrollment=dropped, effective_date=TERM_START + timedelta(days=20), reason="x")
    enrollment.enroll(student=kids[2], klass=classes[1], start_date=TERM_START)
    meeting = Meeting.objects.filter(klass=classes[2]).order_by("date").first()
    enrollment.trial_book(student=kids[3], meeting=meeting)
    enrollment.hold_seats(cart="h", requests=[HoldRequest(klass=classes[3], start_date=TERM_START)])
    now = clock.now()
    by_id = {c.id: c for c in _cards()}
    for klass in classes:
        start = by_id[klass.pk].start_date
        assert by_id[klass.pk].seats_left == capacity.seats_left(klass, start=start, now=now), klass


def test_eligibility_by_age_at_the_first_meeting_gender_and_level():
    girls = make_class("Girls Level 2", gender_rule="girls", required_level=level("Level 2", 2))
    tots = make_class("Tots", min_age_months=24, max_age_months=47, weekdays=(2,))
    cards = {c.name: c for c in _cards()}
    six = Who(birth_date=date(2020, 12, 1))  # 6 on Jan 5, 2027
    assert cards["Tots"].refusals(six)[0].startswith("Too old")
    refusals = cards["Girls Level 2"].refusals(six)
    assert any("girls only" in r for r in refusals) and any("Level 2" in r for r in refusals)
    girl_at_level = Who(
        birth_date=date(2020, 12, 1),
        gender="female",
        level=selectors.level_info(level("Level 3", 3)),
    )
    assert cards["Girls Level 2"].refusals(girl_at_level) == []
    # age is measured at the first meeting: 4 on Jan 5 2027, still 3 today
    turns_four = Who(birth_date=date(2023, 1, 4))
    assert any(r.startswith("Too old") for r in cards["Tots"].refusals(turns_four))
    del girls, tots


def _count(fn) -> int:
    with CaptureQueriesContext(connection) as queries:
        fn()
    return len(queries)


def test_finder_queries_do_not_grow_with_the_classes(django_assert_max_num_queries):
    monthly_rule()
    family = make_family(children=[(f"K{i}", date(2019, 1, 1 + i), "female") for i in range(6)])
    kids = list(Student.objects.filter(family=family))

    def classes(n, offset):
        made = []
        for i in range(n):
            klass = make_class(f"C{offset + i}", capacity=5, weekdays=((offset + i) % 6,))
            enrollment.enroll(student=kids[i % len(kids)], klass=klass, start_date=TERM_START)
            enrollment.hold_seats(
                cart=f"q{offset + i}", requests=[HoldRequest(klass=klass, start_date=TERM_START)]
            )
            made.append(klass)
        return made

    classes(3, 0)
    few = _count(lambda: _cards())
    classes(12, 3)
    many = _count(lambda: _cards())
    assert len(_cards()) == 15
    assert many == few
    with django_assert_max_num_queries(few):
        _cards()


def test_cached_cards_are_served_without_queries_for_a_few_seconds():
    make_class()
    selectors.class_cards(FinderFilter(), now=clock.now(), use_cache=True)
    assert (
        _count(lambda: selectors.class_cards(FinderFilter(), now=clock.now(), use_cache=True)) == 0
    )
    assert selectors.FINDER_CACHE_SECONDS <= 5


def test_filters_by_location_program_day_and_time():
    make_class("Tuesday", weekdays=(1,))
    make_class("Thursday", weekdays=(3,))
    assert [c.name for c in _cards(weekdays=(3,))] == ["Thursday"]
    assert [c.name for c in _cards(time_of_day="morning")] == []
    assert {c.name for c in _cards(time_of_day="afternoon")} == {"Tuesday", "Thursday"}


def test_camp_cards_count_seats_per_day():
    camp = make_camp(day_capacity=2)
    days = camp_days(camp)
    option = camp.options.get(kind="full")
    family = make_family()
    enrollment.camp_book(
        student=Student.objects.get(family=family), camp=camp, option=option, days=days[:1]
    )
    enrollment.hold_seats(cart="camp", requests=[HoldRequest(camp_day=days[0], camp_option=option)])
    (card,) = selectors.camp_cards(today=clock.account_today(), now=clock.now())
    assert [d.left for d in card.days] == [0, 2, 2, 2, 2]
    assert not card.full and card.options[0].price_label.endswith("a day")


def test_family_schedule_lists_meetings_visits_and_camp_days():
    klass = make_class()
    family = make_family()
    ana = Student.objects.get(family=family)
    enrollment.enroll(student=ana, klass=klass, start_date=FIRST_TUESDAY)
    items = selectors.family_schedule(family, start=TERM_START, end=TERM_START + timedelta(days=14))
    assert [i.starts_at.date() for i in items] == [FIRST_TUESDAY, FIRST_TUESDAY + timedelta(days=7)]
    assert items[0].student == "Ana" and items[0].title == klass.name
