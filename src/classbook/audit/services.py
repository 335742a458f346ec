"""``log_action``: the one way to write the audit log."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models, transaction

from classbook.audit.actions import ACTIONS
from classbook.audit.context import current_actor
from classbook.audit.models import LogEntry

MASK = "••••••"
_SECRET_WORDS = ("password", "token", "secret", "card_number", "cvc", "cvv", "key")


def _masked(field: str, value: Any) -> Any:
    return MASK if any(word in field.lower() for word in _SECRET_WORDS) else value


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The current values of ``fields``, ready to compare with ``changes_between``."""
    return {field: _plain(getattr(instance, field)) for field in fields}


def changes_between(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list]:
    """``{field: [before, after]}`` for the fields whose value changed, secrets masked."""
    changed = {}
    for field in after:
        old, new = before.get(field), after[field]
        if old != new:
            changed[field] = [_masked(field, old), _masked(field, new)]
    return changed


def created_fields(values: dict[str, Any]) -> dict[str, list]:
    return {field: [None, _masked(field, _plain(value))] for field, value in values.items()}


def log_action(
    *,
    action: str,
    obj: models.Model | None = None,
    changes: dict | None = None,
    label: str | None = None,
) -> LogEntry:
    """Record one change by the current actor (see ``audit.context``), in this transaction.

    Must be called inside the service's transaction, so the entry exists exactly when the
    change does.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("log_action must run inside the service's transaction")
    if action not in ACTIONS:
        raise ValueError(f"unregistered audit action {action!r} (see audit.actions)")
    actor = current_actor()
    entry = LogEntry(
        actor_kind=actor.kind,
        actor=actor.user,
        actor_label=actor.label[:200],
        impersonator=actor.impersonator,
        impersonator_label=str(actor.impersonator)[:200] if actor.impersonator else "",
        action=action,
        changes={
            k: [_masked(k, _plain(v[0])), _masked(k, _plain(v[1]))]
            for k, v in (changes or {}).items()
        },
        ip=actor.ip,
        user_agent=actor.user_agent,
    )
    if obj is not None:
        entry.object_type = obj._meta.label_lower
        entry.object_id = str(obj.pk)
        entry.object_label = (label or str(obj))[:300]
    elif label:
        entry.object_label = label[:300]
    entry.save()
    return entry
