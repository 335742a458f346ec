"""Merging a duplicate family into another: one hook per kind of thing that moves.

``classbook.families.services.family_merge`` locks both families, then runs every
registered hook in ``order``; each hook moves its rows from ``merge`` to ``keep`` and
returns a short description of what it moved, which goes into the merge's single audit
entry. The merge page shows each hook's ``preview`` before anything happens.

The families app registers its own hooks below (guardians, students, contacts, notes,
tags, accepted policies). Later apps add theirs from their ``AppConfig.ready()``, e.g.::

    from classbook.families.merge import register_merge_hook

    register_merge_hook(
        "ledger", label="Ledger entries", order=200,
        preview=lambda keep, merge: [...],   # read only
        apply=move_ledger_entries,           # runs inside family_merge's transaction
    )

Rules for a hook's ``apply``: it runs inside the merge transaction with both family rows
locked (lower id first); it must not call ``log_action`` (the merge writes one entry);
it raises ``ValidationFailed`` to refuse the whole merge (nothing is kept).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from classbook.families.models import (
    EmergencyContact,
    Family,
    FamilyTag,
    Guardian,
    PolicyAcceptance,
    StaffNote,
    Student,
)

HookFn = Callable[[Family, Family], list[str]]


@dataclass(frozen=True)
class MergeHook:
    name: str  # key in the audit entry's changes
    label: str  # heading on the preview page
    preview: HookFn  # what would move (read only)
    apply: HookFn  # move it; returns what moved
    order: int = 100


_HOOKS: dict[str, MergeHook] = {}


def register_merge_hook(
    name: str, *, label: str, preview: HookFn, apply: HookFn, order: int = 100
) -> MergeHook:
    if name in _HOOKS:
        raise ValueError(f"merge hook {name!r} registered twice")
    _HOOKS[name] = MergeHook(name=name, label=label, preview=preview, apply=apply, order=order)
    return _HOOKS[name]


def merge_hooks() -> list[MergeHook]:
    return sorted(_HOOKS.values(), key=lambda hook: (hook.order, hook.name))


def merge_preview(keep: Family, merge: Family) -> list[tuple[MergeHook, list[str]]]:
    return [(hook, hook.preview(keep, merge)) for hook in merge_hooks()]


def run_merge_hooks(keep: Family, merge: Family) -> dict[str, list[str]]:
    """Apply every hook; ``{hook name: what moved}`` for the hooks that moved something."""
    moved = {}
    for hook in merge_hooks():
        items = hook.apply(keep, merge)
        if items:
            moved[hook.name] = items
    return moved


# --- the families app's own hooks ------------------------------------------------------


def _guardian_label(guardian: Guardian) -> str:
    state = "" if guardian.is_active else " (removed)"
    return f"{guardian.full_name}{state}"


def _preview_guardians(keep: Family, merge: Family) -> list[str]:
    return [_guardian_label(g) for g in Guardian.objects.filter(family=merge)]


def _move_guardians(keep: Family, merge: Family) -> list[str]:
    moved = _preview_guardians(keep, merge)
    # The kept family's primary guardian stays primary.
    Guardian.objects.filter(family=merge, is_primary=True).update(is_primary=False)
    Guardian.objects.filter(family=merge).update(family=keep)
    return moved


def _preview_students(keep: Family, merge: Family) -> list[str]:
    return [
        f"{s.full_name}{'' if s.is_active else ' (removed)'}"
        for s in Student.objects.filter(family=merge)
    ]


def _move_students(keep: Family, merge: Family) -> list[str]:
    moved = _preview_students(keep, merge)
    Student.objects.filter(family=merge).update(family=keep)
    return moved


def _preview_contacts(keep: Family, merge: Family) -> list[str]:
    return [str(c) for c in EmergencyContact.objects.filter(family=merge)]


def _move_contacts(keep: Family, merge: Family) -> list[str]:
    moved = _preview_contacts(keep, merge)
    EmergencyContact.objects.filter(family=merge).update(family=keep)
    return moved


def _preview_notes(keep: Family, merge: Family) -> list[str]:
    count = StaffNote.objects.filter(family=merge).count()
    return [f"{count} staff note{'s' if count != 1 else ''}"] if count else []


def _move_notes(keep: Family, merge: Family) -> list[str]:
    moved = _preview_notes(keep, merge)
    StaffNote.objects.filter(family=merge).update(family=keep)
    return moved


def _preview_tags(keep: Family, merge: Family) -> list[str]:
    kept = set(FamilyTag.objects.filter(family=keep).values_list("tag_id", flat=True))
    return [
        ft.tag.name
        for ft in FamilyTag.objects.filter(family=merge).select_related("tag")
        if ft.tag_id not in kept
    ]


def _move_tags(keep: Family, merge: Family) -> list[str]:
    moved = _preview_tags(keep, merge)
    kept = FamilyTag.objects.filter(family=keep).values("tag_id")
    FamilyTag.objects.filter(family=merge, tag_id__in=kept).delete()
    FamilyTag.objects.filter(family=merge).update(family=keep)
    return moved


def _preview_acceptances(keep: Family, merge: Family) -> list[str]:
    return [
        f"{a.policy_version} — {a.guardian.full_name}"
        for a in PolicyAcceptance.objects.filter(family=merge).select_related(
            "guardian", "policy_version__policy"
        )
    ]


def _move_acceptances(keep: Family, merge: Family) -> list[str]:
    moved = _preview_acceptances(keep, merge)
    PolicyAcceptance.objects.filter(family=merge).update(family=keep)
    return moved


register_merge_hook(
    "guardians", label="Guardians", preview=_preview_guardians, apply=_move_guardians, order=10
)
register_merge_hook(
    "students", label="Students", preview=_preview_students, apply=_move_students, order=20
)
register_merge_hook(
    "emergency_contacts",
    label="Emergency contacts",
    preview=_preview_contacts,
    apply=_move_contacts,
    order=30,
)
register_merge_hook(
    "staff_notes", label="Staff notes", preview=_preview_notes, apply=_move_notes, order=40
)
register_merge_hook("tags", label="Tags", preview=_preview_tags, apply=_move_tags, order=50)
register_merge_hook(
    "policy_acceptances",
    label="Accepted policies",
    preview=_preview_acceptances,
    apply=_move_acceptances,
    order=60,
)
