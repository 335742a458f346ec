"""Who is acting right now: set per request (middleware) or per task, read by log_action."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from classbook.accounts.models import User


@dataclass(frozen=True)
class Actor:
    kind: str  # one of LogEntry.ActorKind
    user: User | None = None
    label: str = ""
    impersonator: User | None = None  # the platform operator on a support visit
    ip: str | None = None
    user_agent: str = ""


SYSTEM = Actor(kind="system", label="Classbook (automatic)")

_actor: ContextVar[Actor] = ContextVar("classbook_actor", default=SYSTEM)


def current_actor() -> Actor:
    return _actor.get()


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    token = _actor.set(actor)
    try:
        yield actor
    finally:
        _actor.reset(token)


def actor_for_user(user: User, *, impersonator: User | None = None, request=None) -> Actor:
    ip = user_agent = None
    if request is not None:
        ip = request.META.get("REMOTE_ADDR")
        user_agent = request.META.get("HTTP_USER_AGENT", "")[:300]
    return Actor(
        kind=user.kind,
        user=user,
        label=str(user),
        impersonator=impersonator,
        ip=ip,
        user_agent=user_agent or "",
    )
