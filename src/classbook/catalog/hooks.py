"""Checks and reactions other apps plug into catalog changes (the enrollment issue does).

The catalog cannot know about enrollments, so it asks these registries inside the same
transaction as the change:

- ``CLASS_CAPACITY_CHECKS``: ``check(klass, new_capacity) -> str | None``. Called when a
  class's capacity goes down; a message refuses the change (shown next to "capacity"),
  e.g. "9 students are enrolled on Mar 3; capacity cannot go below 9."
- ``CAMP_CAPACITY_CHECKS``: ``check(camp, new_day_capacity) -> str | None``, the same for a
  camp's seats per day.
- ``MEETING_REMOVAL_HANDLERS``: ``handler(meetings: list[Meeting]) -> None``. Called with
  the future meetings about to be deleted (a schedule change, a closure, a shorter
  session) before they are deleted. A handler may release what hangs on them (trials,
  makeups) or raise ``ValidationFailed`` to refuse the whole change.
- ``CAMP_DAY_REMOVAL_HANDLERS``: ``handler(days: list[CampDay]) -> None``, the same for
  camp days.

Register at import time of your app's ``services`` module, e.g.
``hooks.CLASS_CAPACITY_CHECKS.append(_enrolled_within_capacity)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from classbook.catalog.models import Camp, CampDay, Class, Meeting

CLASS_CAPACITY_CHECKS: list[Callable[[Class, int], str | None]] = []
CAMP_CAPACITY_CHECKS: list[Callable[[Camp, int], str | None]] = []
MEETING_REMOVAL_HANDLERS: list[Callable[[list[Meeting]], None]] = []
CAMP_DAY_REMOVAL_HANDLERS: list[Callable[[list[CampDay]], None]] = []


def capacity_refusals(checks: list[Callable], obj, new_capacity: int) -> list[str]:
    return [message for check in checks if (message := check(obj, new_capacity))]
