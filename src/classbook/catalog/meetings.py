"""Materialising meetings (class occurrences) and camp days from their rules.

Called by the catalog services whenever a class, its session, a camp or a closure
changes, and daily by housekeeping to extend open-ended classes. Not a service itself:
derived rows, written in the caller's transaction, with no audit entry of their own.

Rules:

- Only dates from *today* (in the location's time zone) on are touched; past meetings are
  never created, moved or deleted.
- A sync is idempotent: the wanted set of dates is computed from the rule, then missing
  rows are created, rows whose times changed are updated in place (same id), and rows no
  longer wanted are deleted (after the removal handlers in ``catalog.hooks`` ran).
- Meetings are generated to the class's end or ``HORIZON_DAYS`` ahead, whichever is
  first; ``Class.meetings_until`` records how far, and housekeeping extends it.
- A meeting's instants are the class's local wall-clock times on that date in the
  location's time zone, so a 4:30 PM class stays at 4:30 PM across a DST change.
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q

from classbook.catalog import hooks, weekdays
from classbook.catalog.models import Camp, CampDay, Class, Closure, Meeting
from classbook.core import clock
from classbook.core.tenancy import require_account

HORIZON_DAYS = 400
# Housekeeping extends an open-ended class when fewer days than this remain generated.
EXTEND_MARGIN_DAYS = 30


@dataclass
class SyncResult:
    created: int = 0
    updated: int = 0
    deleted: int = 0

    def __iadd__(self, other: SyncResult) -> SyncResult:
        self.created += other.created
        self.updated += other.updated
        self.deleted += other.deleted
        return self


def local_today(tz: zoneinfo.ZoneInfo) -> date:
    return clock.now().astimezone(tz).date()


def meeting_instants(
    day: date, start: time, end: time, tz: zoneinfo.ZoneInfo
) -> tuple[datetime, datetime]:
    """Aware start and end of a meeting on ``day`` at local wall-clock times in ``tz``."""
    return datetime.combine(day, start, tzinfo=tz), datetime.combine(day, end, tzinfo=tz)


def closed_dates(closures: Iterable[Closure], location_id: int, *, camps: bool = False) -> set:
    days: set[date] = set()
    for closure in closures:
        if closure.location_id not in (None, location_id):
            continue
        if camps and not closure.closes_camps:
            continue
        days.update(weekdays.dates_between(closure.start_date, closure.end_date))
    return days


def planned_class_dates(
    klass: Class, *, start: date, end: date, closures: Iterable[Closure]
) -> list[date]:
    """The dates ``klass`` meets between ``start`` and ``end`` (inclusive) by its rule."""
    first = max(start, klass.effective_start)
    last = end if klass.effective_end is None else min(end, klass.effective_end)
    closed = closed_dates(closures, klass.location_id)
    return [d for d in weekdays.dates_between(first, last, klass.weekdays) if d not in closed]


def _future_closures(since: date) -> list[Closure]:
    return list(Closure.objects.filter(end_date__gte=since))


def sync_class_meetings(classes: Iterable[Class]) -> SyncResult:
    """Bring the future meetings of ``classes`` in line with their rules."""
    classes = [k for k in classes if k.pk]
    if not classes:
        return SyncResult()
    # Fresh rows with what the rule needs, whatever the caller passed.
    classes = list(
        Class.objects.select_related("location", "term").filter(pk__in=[k.pk for k in classes])
    )
    todays = {k.pk: local_today(k.timezone) for k in classes}
    earliest = min(todays.values())
    closures = _future_closures(earliest)
    existing: dict[int, dict[date, Meeting]] = defaultdict(dict)
    for meeting in Meeting.objects.filter(klass__in=classes, date__gte=earliest):
        if meeting.date >= todays[meeting.klass_id]:
            existing[meeting.klass_id][meeting.date] = meeting

    account = require_account()
    to_create: list[Meeting] = []
    to_update: list[Meeting] = []
    to_delete: list[Meeting] = []
    generated_until: dict[date | None, list[int]] = defaultdict(list)
    for klass in classes:
        today = todays[klass.pk]
        horizon = today + timedelta(days=HORIZON_DAYS)
        end = horizon if klass.effective_end is None else min(horizon, klass.effective_end)
        wanted = (
            planned_class_dates(klass, start=today, end=end, closures=closures)
            if klass.is_active
            else []
        )
        have = existing.get(klass.pk, {})
        tz = klass.timezone
        for day in wanted:
            starts_at, ends_at = meeting_instants(day, klass.start_time, klass.end_time, tz)
            meeting = have.pop(day, None)
            if meeting is None:
                to_create.append(
                    Meeting(
                        account=account,
                        klass=klass,
                        date=day,
                        starts_at=starts_at,
                        ends_at=ends_at,
                    )
                )
            elif meeting.starts_at != starts_at or meeting.ends_at != ends_at:
                meeting.starts_at, meeting.ends_at = starts_at, ends_at
                to_update.append(meeting)
        to_delete.extend(have.values())
        generated_until[end if klass.is_active else None].append(klass.pk)

    if to_delete:
        to_delete.sort(key=lambda m: (m.klass_id, m.date))
        for handler in hooks.MEETING_REMOVAL_HANDLERS:
            handler(to_delete)
        Meeting.objects.filter(pk__in=[m.pk for m in to_delete]).delete()
    if to_update:
        Meeting.objects.bulk_update(to_update, ["starts_at", "ends_at"], batch_size=500)
    if to_create:
        Meeting.objects.bulk_create(to_create, batch_size=500)
    for until, pks in generated_until.items():
        Class.objects.filter(pk__in=pks).update(meetings_until=until)
    return SyncResult(created=len(to_create), updated=len(to_update), deleted=len(to_delete))


def classes_needing_extension() -> list[Class]:
    """Active classes whose generated meetings end within ``EXTEND_MARGIN_DAYS`` of the
    horizon although the class goes on."""
    account = require_account()
    # A cheap pre-filter with the account's date (locations are at most a day apart).
    soon = local_today(zoneinfo.ZoneInfo(account.timezone)) + timedelta(
        days=HORIZON_DAYS - EXTEND_MARGIN_DAYS + 1
    )
    candidates = Class.objects.select_related("location", "term").filter(
        Q(meetings_until__isnull=True) | Q(meetings_until__lt=soon), is_active=True
    )
    due = []
    for klass in candidates:
        today = local_today(klass.timezone)
        if klass.meetings_until is None:
            due.append(klass)
            continue
        wanted_until = today + timedelta(days=HORIZON_DAYS - EXTEND_MARGIN_DAYS)
        end = klass.effective_end
        if klass.meetings_until < wanted_until and (end is None or klass.meetings_until < end):
            due.append(klass)
    return due


def planned_camp_dates(camp: Camp, *, start: date, closures: Iterable[Closure]) -> list[date]:
    closed = closed_dates(closures, camp.location_id, camps=True)
    first = max(start, camp.start_date)
    return [
        d for d in weekdays.dates_between(first, camp.end_date, camp.weekdays) if d not in closed
    ]


def sync_camp_days(camps: Iterable[Camp]) -> SyncResult:
    """Bring the future days of ``camps`` in line with their dates, weekdays and closures."""
    camps = list(Camp.objects.select_related("location").filter(pk__in=[c.pk for c in camps]))
    if not camps:
        return SyncResult()
    todays = {c.pk: local_today(zoneinfo.ZoneInfo(c.location.timezone)) for c in camps}
    closures = _future_closures(min(todays.values()))
    existing: dict[int, dict[date, CampDay]] = defaultdict(dict)
    for day in CampDay.objects.filter(camp__in=camps, date__gte=min(todays.values())):
        if day.date >= todays[day.camp_id]:
            existing[day.camp_id][day.date] = day
    account = require_account()
    to_create: list[CampDay] = []
    to_delete: list[CampDay] = []
    for camp in camps:
        have = existing.get(camp.pk, {})
        for day in planned_camp_dates(camp, start=todays[camp.pk], closures=closures):
            if have.pop(day, None) is None:
                to_create.append(CampDay(account=account, camp=camp, date=day))
        to_delete.extend(have.values())
    if to_delete:
        to_delete.sort(key=lambda d: (d.camp_id, d.date))
        for handler in hooks.CAMP_DAY_REMOVAL_HANDLERS:
            handler(to_delete)
        CampDay.objects.filter(pk__in=[d.pk for d in to_delete]).delete()
    if to_create:
        CampDay.objects.bulk_create(to_create, batch_size=500)
    return SyncResult(created=len(to_create), deleted=len(to_delete))


def _ranges_overlap(a_start: date, a_end: date | None, b_start: date, b_end: date) -> bool:
    return a_start <= b_end and (a_end is None or b_start <= a_end)


def sync_for_closure_change(spans: Iterable[tuple[int | None, date, date, bool]]) -> SyncResult:
    """Re-sync what a closure change touches: ``spans`` are (location_id or None, start,
    end, closes_camps) for the closure before and after the change."""
    spans = list(spans)
    result = SyncResult()
    location_ids = {loc for loc, *_ in spans}
    where = Q() if None in location_ids else Q(location_id__in=location_ids)
    classes = [
        k
        for k in Class.objects.select_related("term").filter(where, is_active=True)
        if any(
            loc in (None, k.location_id)
            and _ranges_overlap(k.effective_start, k.effective_end, s, e)
            for loc, s, e, _ in spans
        )
    ]
    result += sync_class_meetings(classes)
    camp_spans = [span for span in spans if span[3]]
    if camp_spans:
        camps = [
            c
            for c in Camp.objects.filter(where)
            if any(
                loc in (None, c.location_id) and _ranges_overlap(c.start_date, c.end_date, s, e)
                for loc, s, e, _ in camp_spans
            )
        ]
        result += sync_camp_days(camps)
    return result
