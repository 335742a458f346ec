"""Weekdays as a 7-bit mask (Monday = bit 0 … Sunday = bit 6), and date ranges."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, timedelta

NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SHORT = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
CHOICES = [(str(i), name) for i, name in enumerate(NAMES)]
ALL_DAYS = 0b1111111
MON_TO_FRI = 0b0011111


def to_mask(days: Iterable[int | str]) -> int:
    mask = 0
    for day in days:
        index = int(day)
        if not 0 <= index <= 6:
            raise ValueError(f"weekday {day!r} is not 0 (Monday) to 6 (Sunday)")
        mask |= 1 << index
    return mask


def from_mask(mask: int) -> list[int]:
    return [i for i in range(7) if mask & (1 << i)]


def includes(mask: int, day: date) -> bool:
    return bool(mask & (1 << day.weekday()))


def short_names(mask: int) -> str:
    return ", ".join(SHORT[i] for i in from_mask(mask))


def first_day(mask: int) -> int:
    days = from_mask(mask)
    return days[0] if days else 7


def dates_between(start: date, end: date, mask: int = ALL_DAYS) -> Iterator[date]:
    """Every date from ``start`` to ``end`` inclusive whose weekday is in ``mask``."""
    day = start
    while day <= end:
        if mask & (1 << day.weekday()):
            yield day
        day += timedelta(days=1)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())
