"""Reads of the audit log: filtered, keyset-paginated (no COUNT over a million rows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet

from classbook.audit.models import LogEntry


@dataclass(frozen=True)
class LogFilter:
    actor_id: int | None = None
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True)
class LogPage:
    entries: list[LogEntry]
    next_cursor: str | None


def _cursor(entry: LogEntry) -> str:
    return f"{entry.created_at.isoformat()}_{entry.pk}"


def _parse_cursor(cursor: str) -> tuple[datetime, int] | None:
    try:
        stamp, pk = cursor.rsplit("_", 1)
        return datetime.fromisoformat(stamp), int(pk)
    except (ValueError, AttributeError):
        return None


def log_entries(filters: LogFilter, tz) -> QuerySet[LogEntry]:
    queryset = LogEntry.objects.select_related("actor", "impersonator")
    if filters.actor_id:
        queryset = queryset.filter(actor_id=filters.actor_id)
    if filters.action:
        # "payment." lists a whole area; a full code lists one action.
        queryset = (
            queryset.filter(action__startswith=filters.action)
            if filters.action.endswith(".")
            else queryset.filter(action=filters.action)
        )
    if filters.object_type:
        queryset = queryset.filter(object_type=filters.object_type)
    if filters.object_id:
        queryset = queryset.filter(object_id=filters.object_id)
    if filters.date_from:
        queryset = queryset.filter(
            created_at__gte=datetime.combine(filters.date_from, time(), tzinfo=tz)
        )
    if filters.date_to:
        end = datetime.combine(filters.date_to + timedelta(days=1), time(), tzinfo=tz)
        queryset = queryset.filter(created_at__lt=end)
    return queryset.order_by("-created_at", "-id")


def log_page(filters: LogFilter, *, tz, cursor: str = "", size: int = 50) -> LogPage:
    queryset = log_entries(filters, tz)
    position = _parse_cursor(cursor) if cursor else None
    if position:
        stamp, pk = position
        queryset = queryset.filter(Q(created_at__lt=stamp) | Q(created_at=stamp, id__lt=pk))
    rows = list(queryset[: size + 1])
    entries = rows[:size]
    return LogPage(entries=entries, next_cursor=_cursor(entries[-1]) if len(rows) > size else None)


def object_history(obj, *, limit: int = 20) -> list[LogEntry]:
    return list(
        LogEntry.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))
        .select_related("actor", "impersonator")
        .order_by("-created_at", "-id")[:limit]
    )
