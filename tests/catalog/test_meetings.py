"""Meetings are materialised exactly: weekly across a session, minus closures, from today on."""

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta

import pytest

from classbook.accounts.services import location_save
from classbook.catalog import hooks, services, weekdays
from classbook.catalog.housekeeping import extend_meetings
from classbook.catalog.meetings import HORIZON_DAYS, sync_class_meetings
from classbook.catalog.models import CampDay, Meeting
from classbook.catalog.selectors import meeting_count, meetings_between, next_meeting
from classbook.core import clock
from classbook.core.errors import ValidationFailed
from tests.catalog import helpers

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
TUE, THU, SAT = 1, 3, 5


def dates(klass):
    return list(Meeting.objects.filter(klass=klass).order_by("date").values_list("date", flat=True))


def fall_days(*days):
    return list(
        weekdays.dates_between(date(2026, 9, 8), date(2026, 12, 19), weekdays.to_mask(days))
    )


THANKSGIVING = (date(2026, 11, 26), date(2026, 11, 27))
WINTER = (date(2026, 12, 19), date(2027, 1, 3))


@pytest.mark.parametrize(
    ("case", "days", "own_dates", "closures", "expected"),
    [
        ("Tuesdays, whole session", [TUE], None, [], fall_days(TUE)),
        ("Tue + Thu", [TUE, THU], None, [], fall_days(TUE, THU)),
        (
            "Thanksgiving removes a Thursday",
            [TUE, THU],
            None,
            [THANKSGIVING],
            [d for d in fall_days(TUE, THU) if d != date(2026, 11, 26)],
        ),
        (
            "winter break takes the last Saturday",
            [SAT],
            None,
            [WINTER],
            [d for d in fall_days(SAT) if d != date(2026, 12, 19)],
        ),
        (
            "class dates inside the session",
            [TUE],
            (date(2026, 10, 1), date(2026, 10, 31)),
            [],
            [date(2026, 10, 6), date(2026, 10, 13), date(2026, 10, 20), date(2026, 10, 27)],
        ),
    ],
)
def test_meetings_follow_the_rule(in_a, case, days, own_dates, closures, expected):
    for start, end in closures:
        services.closure_save(name="Closed", start_date=start, end_date=end)
    extra = {"start_date": own_dates[0], "end_date": own_dates[1]} if own_dates else {}
    klass = helpers.klass(weekdays=days, **extra)
    assert dates(klass) == expected, case


def test_fifteen_tuesdays_at_local_time(in_a):
    klass = helpers.klass()
    meetings = list(Meeting.objects.filter(klass=klass).order_by("date"))
    assert len(meetings) == 15
    assert (meetings[0].date, meetings[-1].date) == (date(2026, 9, 8), date(2026, 12, 15))
    for meeting in meetings:
        local = meeting.starts_at.astimezone(CHICAGO)
        assert (local.date(), local.time()) == (meeting.date, time(16, 30))
        assert meeting.ends_at - meeting.starts_at == timedelta(hours=1)


def test_dst_change_keeps_local_time(in_a):
    klass = helpers.klass()  # US DST ends Sunday Nov 1, 2026
    before = Meeting.objects.get(klass=klass, date=date(2026, 10, 27))
    after = Meeting.objects.get(klass=klass, date=date(2026, 11, 3))
    assert before.starts_at == datetime(2026, 10, 27, 21, 30, tzinfo=UTC)  # CDT, UTC-5
    assert after.starts_at == datetime(2026, 11, 3, 22, 30, tzinfo=UTC)  # CST, UTC-6
    assert before.starts_at.astimezone(CHICAGO).time() == time(16, 30)
    assert after.starts_at.astimezone(CHICAGO).time() == time(16, 30)


def test_meetings_use_the_location_time_zone(in_a):
    denver = location_save(name="Denver Annex", timezone="America/Denver")
    klass = helpers.klass(location=denver)
    first = Meeting.objects.filter(klass=klass).earliest("date")
    assert first.starts_at == datetime(2026, 9, 8, 22, 30, tzinfo=UTC)  # MDT, UTC-6


def test_a_closure_added_later_removes_only_future_meetings(in_a):
    klass = helpers.klass()
    with clock.freeze(datetime(2026, 10, 1, 17, 0, tzinfo=UTC)):
        services.closure_save(
            name="Gym repairs", start_date=date(2026, 9, 14), end_date=date(2026, 10, 7)
        )
    have = dates(klass)
    assert date(2026, 9, 15) in have and date(2026, 9, 29) in have  # past: kept
    assert date(2026, 10, 6) not in have  # future: removed
    assert len(have) == 14


def test_deleting_a_closure_brings_meetings_back(in_a):
    closure = services.closure_save(
        name="Thanksgiving", start_date=THANKSGIVING[0], end_date=THANKSGIVING[1]
    )
    klass = helpers.klass(weekdays=[THU])
    assert date(2026, 11, 26) not in dates(klass)
    services.closure_delete(closure=closure)
    assert date(2026, 11, 26) in dates(klass)


def test_moving_a_closure_updates_both_ranges(in_a):
    closure = services.closure_save(
        name="Break", start_date=date(2026, 10, 6), end_date=date(2026, 10, 6)
    )
    klass = helpers.klass()
    assert date(2026, 10, 6) not in dates(klass)
    services.closure_save(
        closure=closure, start_date=date(2026, 10, 13), end_date=date(2026, 10, 13)
    )
    assert date(2026, 10, 6) in dates(klass)
    assert date(2026, 10, 13) not in dates(klass)


def test_a_closure_at_another_location_does_not_touch_this_class(in_a):
    other = location_save(name="Northgate")
    services.closure_save(
        name="Northgate flood",
        start_date=date(2026, 10, 1),
        end_date=date(2026, 10, 31),
        location=other,
    )
    assert dates(helpers.klass()) == fall_days(TUE)


def test_schedule_change_keeps_the_past_and_moves_the_future(in_a):
    klass = helpers.klass()
    first = Meeting.objects.get(klass=klass, date=date(2026, 12, 1))
    with clock.freeze(datetime(2026, 10, 1, 17, 0, tzinfo=UTC)):
        services.class_save(klass=klass, start_time=time(17), end_time=time(18))
        moved = Meeting.objects.get(pk=first.pk)  # the same row, new times
        assert moved.starts_at.astimezone(CHICAGO).time() == time(17)
        past = Meeting.objects.get(klass=klass, date=date(2026, 9, 29))
        assert past.starts_at.astimezone(CHICAGO).time() == time(16, 30)
        services.class_save(klass=klass, weekdays=[THU])
    have = dates(klass)
    assert [d for d in have if d < date(2026, 10, 1)] == [
        date(2026, 9, 8),
        date(2026, 9, 15),
        date(2026, 9, 22),
        date(2026, 9, 29),
    ]
    assert all(d.weekday() == THU for d in have if d >= date(2026, 10, 1))


def test_sync_is_idempotent(in_a):
    klass = helpers.klass(weekdays=[TUE, THU])
    result = sync_class_meetings([klass])
    assert (result.created, result.updated, result.deleted) == (0, 0, 0)


def test_shorter_session_and_inactive_class_remove_future_meetings(in_a):
    klass = helpers.klass()
    services.term_save(term=klass.term, end_date=date(2026, 11, 30))
    assert dates(klass)[-1] == date(2026, 11, 24)
    services.class_save(klass=klass, is_active=False)
    assert dates(klass) == []


def test_open_ended_class_is_generated_to_the_horizon_and_extended(in_a):
    klass = helpers.klass(term=None, start_date=date(2026, 9, 7), weekdays=[0])
    today = date(2026, 8, 1)
    klass.refresh_from_db()
    assert klass.meetings_until == today + timedelta(days=HORIZON_DAYS)
    last = dates(klass)[-1]
    assert last <= klass.meetings_until and last + timedelta(days=7) > klass.meetings_until
    assert extend_meetings() == 0  # nothing due yet
    with clock.freeze(datetime(2026, 10, 15, 12, tzinfo=UTC)):
        added = extend_meetings()
    assert added == 11  # 75 days later: about eleven more Mondays
    klass.refresh_from_db()
    assert klass.meetings_until == date(2026, 10, 15) + timedelta(days=HORIZON_DAYS)


def test_selectors_count_and_find_meetings(in_a):
    services.closure_save(name="Thanksgiving", start_date=THANKSGIVING[0], end_date=THANKSGIVING[1])
    klass = helpers.klass(weekdays=[TUE, THU])
    november = list(meetings_between(klass, date(2026, 11, 1), date(2026, 11, 30)))
    assert [m.date.day for m in november] == [3, 5, 10, 12, 17, 19, 24]
    assert meeting_count(klass, date(2026, 11, 1), date(2026, 11, 30)) == 7  # not Nov 26
    assert next_meeting(klass, date(2026, 11, 25)).date == date(2026, 12, 1)
    assert next_meeting(klass, date(2026, 11, 24)).date == date(2026, 11, 24)
    assert next_meeting(klass, date(2026, 12, 18)) is None


def test_removal_handlers_see_removed_meetings_and_can_refuse(in_a, monkeypatch):
    klass = helpers.klass()
    seen = []

    def refuse(meetings):
        seen.extend(meetings)
        raise ValidationFailed({"start_date": ["2 trials are booked on Oct 6."]})

    monkeypatch.setattr(hooks, "MEETING_REMOVAL_HANDLERS", [refuse])
    with pytest.raises(ValidationFailed, match="trials are booked"):
        services.closure_save(
            name="Break", start_date=date(2026, 10, 6), end_date=date(2026, 10, 6)
        )
    assert [m.date for m in seen] == [date(2026, 10, 6)]
    assert date(2026, 10, 6) in dates(klass)


def _camp(**extra):
    values = {
        "program": helpers.program("Summer Camps"),
        "location": helpers.room().location,
        "name": "Ninja Warrior Week",
        "start_date": date(2027, 6, 28),
        "end_date": date(2027, 7, 2),
        "day_capacity": 20,
        "options": [
            {"kind": "full", "start_time": time(9), "end_time": time(16), "price_cents": 32500}
        ],
    }
    values.update(extra)
    return services.camp_save(**values)


def test_camp_days_one_per_weekday_and_closures_that_close_camps(in_a):
    camp = _camp()
    days = list(CampDay.objects.filter(camp=camp).values_list("date", flat=True))
    assert days == [date(2027, 6, 28) + timedelta(days=i) for i in range(5)]
    services.closure_save(
        name="Fourth of July (observed)", start_date=date(2027, 7, 2), end_date=date(2027, 7, 2)
    )
    assert CampDay.objects.filter(camp=camp).count() == 5  # classes only
    services.closure_save(
        name="Staff day", start_date=date(2027, 7, 1), end_date=date(2027, 7, 1), closes_camps=True
    )
    assert date(2027, 7, 1) not in set(
        CampDay.objects.filter(camp=camp).values_list("date", flat=True)
    )
    services.camp_save(camp=camp, weekdays=[0, 1, 2])
    assert CampDay.objects.filter(camp=camp).count() == 3
