"""Building catalog rows for tests (inside an active account)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from classbook.accounts.models import Location
from classbook.catalog import services
from classbook.catalog.models import Class, Program, Room, Term

# Tests run "on" this instant unless they say otherwise (clock.freeze).
NOW = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)


def program(name: str = "Recreational Gymnastics") -> Program:
    return Program.objects.get_or_create(name=name)[0]


def room(name: str = "Gym A", location: Location | None = None) -> Room:
    location = location or Location.objects.order_by("pk").first()
    return Room.objects.get_or_create(location=location, name=name)[0]


def term(
    name: str = "Fall 2026", start: date = date(2026, 9, 8), end: date = date(2026, 12, 19)
) -> Term:
    existing = Term.objects.filter(name=name).first()
    return existing or services.term_save(name=name, start_date=start, end_date=end)


def klass(**overrides) -> Class:
    """A valid class (Tuesdays 4:30–5:30 PM in Fall 2026 unless overridden), via the service."""
    values = {
        "name": "Level 2 Girls",
        "program": program(),
        "location": Location.objects.order_by("pk").first(),
        "term": term(),
        "weekdays": [1],
        "start_time": time(16, 30),
        "end_time": time(17, 30),
        "capacity": 8,
    }
    values.update(overrides)
    return services.class_save(**values)
