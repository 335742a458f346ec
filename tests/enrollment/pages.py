"""Shared set-up of the enrollment page tests (not a test module)."""

from datetime import UTC, date, datetime, time

from django.urls import reverse

from classbook.accounts.models import Location
from classbook.catalog import services as catalog
from tests.enrollment.helpers import TERM_END, TERM_START, program

NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)  # 9 AM in Austin, a Saturday
HTMX = {"HTTP_HX_REQUEST": "true"}
FIRST = date(2027, 1, 5)  # first meeting of the default test class (Tuesdays)


def url(name: str, query: str = "", **kwargs) -> str:
    path = reverse(f"enrollment:{name}", kwargs={"account_slug": "alpha", **kwargs})
    return f"{path}?{query}" if query else path


def class_at(location: Location, *, name: str, capacity: int = 10, **extra):
    return catalog.class_save(
        program=program(),
        name=name,
        location=location,
        start_date=TERM_START,
        end_date=TERM_END,
        weekdays=[1],
        start_time=time(16, 30),
        end_time=time(17, 30),
        capacity=capacity,
        confirm_conflicts=True,
        **extra,
    )
