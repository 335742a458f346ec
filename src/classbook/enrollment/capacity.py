"""Seats taken per meeting date (classes) and per camp day, computed from the rows.

Nothing here locks; callers that claim a seat hold the lock of ``enrollment.locking``
while they call ``check_*``. Reading availability for display needs no lock.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Q

from classbook.catalog.models import CampDay, Class, Meeting
from classbook.enrollment.models import CampBooking, Enrollment, Hold, Visit, WaitlistEntry

# Enrollment statuses that occupy a seat on the dates they cover.
SEATED = (Enrollment.Status.ACTIVE, Enrollment.Status.DROPPED, Enrollment.Status.TRANSFERRED)


@dataclass(frozen=True)
class Exclude:
    """Rows a claim replaces, so they are not counted twice (a hold being converted)."""

    hold_ids: frozenset[int] = frozenset()
    offer_ids: frozenset[int] = frozenset()
    enrollment_ids: frozenset[int] = frozenset()


NOTHING = Exclude()


def meeting_dates(klass: Class, start: date, end: date | None) -> list[date]:
    meetings = Meeting.objects.filter(klass=klass, date__gte=start)
    if end is not None:
        meetings = meetings.filter(date__lte=end)
    return list(meetings.order_by("date").values_list("date", flat=True))


def class_taken(
    klass: Class, dates: list[date], *, now: datetime, exclude: Exclude = NOTHING
) -> dict[date, int]:
    """Seats taken on each of ``dates`` (meeting dates of ``klass``)."""
    if not dates:
        return {}
    first, last = dates[0], dates[-1]
    taken: Counter = Counter(dict.fromkeys(dates, 0))
    spans = (
        Enrollment.objects.filter(klass=klass, status__in=SEATED, start_date__lte=last)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=first))
        .exclude(pk__in=exclude.enrollment_ids)
        .values_list("start_date", "end_date")
    )
    holds = (
        Hold.objects.filter(klass=klass, expires_at__gt=now, start_date__lte=last)
        .exclude(pk__in=exclude.hold_ids)
        .values_list("start_date", flat=True)
    )
    offers = (
        WaitlistEntry.objects.filter(
            klass=klass,
            status=WaitlistEntry.Status.OFFERED,
            offer_expires_at__gt=now,
            start_date__lte=last,
        )
        .exclude(pk__in=exclude.offer_ids)
        .values_list("start_date", flat=True)
    )
    intervals = [*spans, *((s, None) for s in holds), *((s, None) for s in offers)]
    for day in dates:
        taken[day] += sum(
            1 for start, end in intervals if start <= day and (end is None or day <= end)
        )
    visits = Visit.objects.filter(
        meeting__klass=klass, meeting__date__in=dates, status=Visit.Status.BOOKED
    ).values_list("meeting__date", flat=True)
    taken.update(visits)
    return dict(taken)


def seats_left(
    klass: Class, *, start: date, end: date | None = None, now: datetime, exclude: Exclude = NOTHING
) -> int:
    """The seats free on every meeting from ``start`` to ``end`` (the smallest)."""
    dates = meeting_dates(klass, start, end)
    if not dates:
        return 0
    taken = class_taken(klass, dates, now=now, exclude=exclude)
    return max(0, klass.capacity - max(taken.values()))


@dataclass(frozen=True)
class FullOn:
    day: date
    taken: int
    capacity: int


def class_full_dates(
    klass: Class,
    *,
    start: date,
    end: date | None,
    now: datetime,
    exclude: Exclude = NOTHING,
    seats: int = 1,
) -> list[FullOn]:
    """Dates on which ``seats`` more would exceed capacity (empty: the claim fits)."""
    dates = meeting_dates(klass, start, end)
    taken = class_taken(klass, dates, now=now, exclude=exclude)
    return [
        FullOn(day, count, klass.capacity)
        for day, count in taken.items()
        if count + seats > klass.capacity
    ]


def camp_day_taken(
    days: list[CampDay], *, now: datetime, exclude: Exclude = NOTHING
) -> dict[int, int]:
    ids = [d.pk for d in days]
    taken: Counter = Counter(dict.fromkeys(ids, 0))
    taken.update(
        CampBooking.objects.filter(
            camp_day_id__in=ids, status=CampBooking.Status.ACTIVE
        ).values_list("camp_day_id", flat=True)
    )
    taken.update(
        Hold.objects.filter(camp_day_id__in=ids, expires_at__gt=now)
        .exclude(pk__in=exclude.hold_ids)
        .values_list("camp_day_id", flat=True)
    )
    taken.update(
        WaitlistEntry.objects.filter(
            camp_day_id__in=ids, status=WaitlistEntry.Status.OFFERED, offer_expires_at__gt=now
        )
        .exclude(pk__in=exclude.offer_ids)
        .values_list("camp_day_id", flat=True)
    )
    return dict(taken)


def meeting_taken(meeting: Meeting, *, now: datetime) -> int:
    return class_taken(meeting.klass, [meeting.date], now=now)[meeting.date]
