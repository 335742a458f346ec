"""The demo catalog generator: realistic, deterministic, scalable."""

from datetime import UTC, datetime, time

import pytest

from classbook.accounts.services import location_save
from classbook.catalog.models import Camp, CampDay, CampOption, Class, Closure, Meeting, Room, Term
from classbook.core import clock
from classbook.core.tenancy import activate_account
from classbook.demo.catalog import generate_catalog
from classbook.staff.models import UserGroup
from tests.conftest import make_account

NOW = datetime(2026, 11, 21, 15, tzinfo=UTC)


def _signature():
    return [
        (
            c.name,
            c.location.name,
            c.room.name,
            c.weekdays,
            c.start_time,
            c.capacity,
            c.term.name if c.term else None,
            sorted(u.username for u in c.instructors.all()),
        )
        for c in Class.objects.select_related("location", "room", "term").order_by("pk")
    ]


def _build(slug, **options):
    account = make_account(slug, f"Demo {slug}")
    with activate_account(account), clock.freeze(NOW):
        location_save(name="Northgate")
        summary = generate_catalog(**options)
        return account, summary, _signature()


def test_generates_a_realistic_catalog(db):
    account, summary, _ = _build("demo-a")
    with activate_account(account):
        assert summary.classes == Class.objects.count() == 60
        assert summary.camps == Camp.objects.count() == 4
        assert summary.instructors >= 5
        assert sorted(Term.objects.values_list("name", flat=True)) == ["Fall 2026", "Spring 2027"]
        assert {"Thanksgiving", "Winter break"} <= set(
            Closure.objects.values_list("name", flat=True)
        )
        classes = list(Class.objects.select_related("room", "location"))
        assert {c.location.name for c in classes} == {"Demo demo-a Main", "Northgate"}
        assert all(c.room.location_id == c.location_id for c in classes)
        assert all(6 <= c.capacity <= 12 for c in classes)
        for c in classes:
            assert time(9) <= c.start_time and c.end_time <= time(20, 30), c.name
            if c.start_time >= time(13):
                assert c.start_time >= time(15, 30), c.name
        assert any(c.weekdays == 0b100000 for c in classes)  # Saturdays
        assert any(c.term_id is None for c in classes)  # open-ended ones too
        assert all(c.instructors.exists() for c in classes)
        # Set up "as of" Aug 1: the fall session has its past meetings as well.
        assert Meeting.objects.filter(date__lt=NOW.date()).exists()
        assert not Meeting.objects.filter(date__month=11, date__day=26).exists()  # Thanksgiving
        assert CampDay.objects.count() == 4 * 5
        assert CampOption.objects.filter(kind="am").count() >= 3
        assert summary.room_conflicts == 0
        instructor_group = UserGroup.objects.get(name="Instructor")
        assert instructor_group.memberships.count() >= 5


def test_same_seed_same_catalog_and_another_seed_differs(db):
    _, _, first = _build("demo-b", seed=7, classes=25)
    _, _, second = _build("demo-c", seed=7, classes=25)
    _, _, third = _build("demo-d", seed=8, classes=25)
    strip = [row[:1] + row[2:-1] for row in first]  # location names differ by account
    assert strip == [row[:1] + row[2:-1] for row in second]
    assert strip != [row[:1] + row[2:-1] for row in third]


def test_needs_two_locations(account_a):
    with activate_account(account_a), pytest.raises(ValueError, match="two locations"):
        generate_catalog()


def test_scales_to_400_classes(db):
    account, summary, _ = _build("demo-e", classes=400)
    with activate_account(account):
        assert Class.objects.count() == 400
        assert Room.objects.count() > 10  # more gym floors for a big catalog
        assert summary.room_conflicts < 20
