"""Locking rules for claiming seats (read this before adding a claim).

1. A claim locks the rows it counts against: the ``Class`` row for a class, the
   ``CampDay`` rows for a camp. All of them at once, sorted by primary key (classes
   before camp days), once per transaction, at the start of the service.
2. The lock waits at most ``LOCK_TIMEOUT_MS``; after that the person gets "busy, try
   again" (``SeatsBusy``), never a 500.
3. Inside the lock the service re-computes availability (``enrollment.capacity``) and
   writes the claim. Nothing slow (no gateway, no email) happens while it is held; side
   effects run ``on_commit``.
4. Freeing a seat (drop, cancel, expiry) takes no lock: it can only make room.

On SQLite ``select_for_update`` is a no-op, but every write transaction starts with
BEGIN IMMEDIATE (see settings), so writers are serialized by the database anyway.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import OperationalError, connection

from classbook.catalog.models import CampDay, Class
from classbook.core.errors import ClassbookError

LOCK_TIMEOUT_MS = 3000


class SeatsBusy(ClassbookError):
    """The seat lock was not granted in time (registration-day rush)."""

    def __init__(self):
        super().__init__(
            "Many people are booking this right now. Please try again in a "
            "moment; nothing was saved."
        )


def _is_lock_timeout(exc: OperationalError) -> bool:
    cause = exc.__cause__
    sqlstate = getattr(cause, "sqlstate", None)
    return sqlstate == "55P03" or "database is locked" in str(exc)


def lock_seats(*, class_ids: Iterable[int] = (), camp_day_ids: Iterable[int] = ()) -> None:
    """Take the seat locks for one claim (rule 1); raises SeatsBusy on timeout (rule 2)."""
    if not connection.in_atomic_block:
        raise RuntimeError("lock_seats must run inside the claim's transaction")
    try:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_MS}ms'")
        if class_ids:
            list(
                Class.objects.select_for_update(of=("self",))
                .filter(pk__in=sorted(set(class_ids)))
                .order_by("pk")
                .values_list("pk")
            )
        if camp_day_ids:
            list(
                CampDay.objects.select_for_update(of=("self",))
                .filter(pk__in=sorted(set(camp_day_ids)))
                .order_by("pk")
                .values_list("pk")
            )
    except OperationalError as exc:
        if _is_lock_timeout(exc):
            raise SeatsBusy() from exc
        raise
