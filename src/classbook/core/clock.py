"""The one place that says what time it is, so tests can move time (``freeze``)."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime

from django.utils import timezone

_frozen: ContextVar[datetime | None] = ContextVar("classbook_frozen_now", default=None)


def now() -> datetime:
    return _frozen.get() or timezone.now()


@contextmanager
def freeze(moment: datetime) -> Iterator[None]:
    if timezone.is_naive(moment):
        raise ValueError("freeze() needs an aware datetime")
    token = _frozen.set(moment)
    try:
        yield
    finally:
        _frozen.reset(token)


def account_today() -> date:
    """Today's date where the active account is (its time zone)."""
    import zoneinfo

    from classbook.core.tenancy import require_account

    return now().astimezone(zoneinfo.ZoneInfo(require_account().timezone)).date()
