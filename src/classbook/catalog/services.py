"""Writes for the catalog: programs, levels, rooms, sessions, classes, closures, camps.

Every public function here is one transaction that writes exactly one audit entry.
Meetings and camp days are re-derived inside the same transaction (``catalog.meetings``),
so a class and its meetings never disagree.

Locking: a class's capacity can only go down while its row is locked
(``select_for_update``), the same lock the enrollment engine takes to claim a seat, so
the checks registered in ``catalog.hooks`` see a stable enrollment count. A camp locks
its camp days (keys sorted) for the same reason.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Any, TypedDict

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError

from classbook.accounts.models import User
from classbook.audit.actions import register_action
from classbook.audit.services import changes_between, created_fields, log_action, snapshot
from classbook.catalog import hooks, weekdays
from classbook.catalog.eligibility import format_age
from classbook.catalog.meetings import sync_camp_days, sync_class_meetings, sync_for_closure_change
from classbook.catalog.models import (
    PALETTE,
    AgeAsOf,
    Camp,
    CampDay,
    CampOption,
    Class,
    ClassInstructor,
    Closure,
    Level,
    Program,
    Room,
    Term,
)
from classbook.catalog.selectors import room_conflicts, term_copy_plan
from classbook.core.errors import TenancyError, ValidationFailed
from classbook.core.tenancy import require_account

PROGRAM_CREATED = register_action("program.created", "Program added")
PROGRAM_UPDATED = register_action("program.updated", "Program changed")
LEVEL_CREATED = register_action("level.created", "Level added")
LEVEL_UPDATED = register_action("level.updated", "Level changed")
ROOM_CREATED = register_action("room.created", "Room added")
ROOM_UPDATED = register_action("room.updated", "Room changed")
TERM_CREATED = register_action("term.created", "Session added")
TERM_UPDATED = register_action("term.updated", "Session changed")
TERM_CLASSES_COPIED = register_action("term.classes_copied", "Classes copied into a session")
CLASS_CREATED = register_action("class.created", "Class added")
CLASS_UPDATED = register_action("class.updated", "Class changed")
CLOSURE_CREATED = register_action("closure.created", "Closure added")
CLOSURE_UPDATED = register_action("closure.updated", "Closure changed")
CLOSURE_DELETED = register_action("closure.deleted", "Closure deleted")
CAMP_CREATED = register_action("camp.created", "Camp added")
CAMP_UPDATED = register_action("camp.updated", "Camp changed")


class ScheduleConflict(ValidationFailed):
    """Another class uses the room at an overlapping time; saved only when confirmed."""

    def __init__(self, conflicts: list[Class], room: Room):
        self.conflicts = conflicts
        names = ", ".join(
            f"{c.name} ({c.weekday_names} {_clock(c.start_time)}–{_clock(c.end_time)})"
            for c in conflicts
        )
        super().__init__({"room": [f"{room.name} is already in use then: {names}."]})


class Errors(defaultdict):
    """Field → messages, collected so the person sees every problem at once."""

    def __init__(self):
        super().__init__(list)

    def add(self, field: str, message: str) -> None:
        self[field].append(message)

    def merge_model_errors(self, instance, exclude: list[str]) -> None:
        try:
            instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                if field not in self:  # our own clearer message wins
                    self[field].extend(messages)

    def raise_if_any(self) -> None:
        if self:
            raise ValidationFailed(dict(self))


def _clock(value: time) -> str:
    return value.strftime("%I:%M %p").lstrip("0")


def _own(*objects) -> None:
    """Refuse rows of another account passed in by mistake (FK checks ignore RLS)."""
    account = require_account()
    for obj in objects:
        if obj is not None and getattr(obj, "account_id", account.pk) != account.pk:
            raise TenancyError(f"{type(obj).__name__} {obj.pk} belongs to another account.")


def _related(instance, *names: str) -> list:
    """The set foreign-key objects among ``names`` (unset ones are skipped)."""
    return [getattr(instance, name) for name in names if getattr(instance, f"{name}_id")]


def _apply(instance, fields: dict[str, Any], allowed: Iterable[str], kind: str) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"unknown {kind} fields: {sorted(unknown)}")
    for key, value in fields.items():
        setattr(instance, key, value.strip() if isinstance(value, str) else value)


def _check_dates(errors: Errors, start: date | None, end: date | None) -> None:
    if start and end and end < start:
        errors.add("end_date", "The end date is before the start date.")


def _check_registration(errors: Errors, opens: datetime | None, closes: datetime | None) -> None:
    if opens and closes and closes <= opens:
        errors.add("registration_closes_at", "Registration closes before it opens.")


def _check_ages(errors: Errors, min_months: int | None, max_months: int | None) -> None:
    for field, value in (("min_age_months", min_months), ("max_age_months", max_months)):
        if value is not None and value < 0:
            errors.add(field, "An age cannot be below zero.")
    if min_months is not None and max_months is not None and min_months > max_months:
        errors.add(
            "max_age_months",
            f"The maximum age ({format_age(max_months)}) is below the minimum age "
            f"({format_age(min_months)}).",
        )


def _check_capacity(errors: Errors, field: str, value: int | None) -> None:
    if value is None:
        errors.add(field, "Enter a capacity.")
    elif value < 0:
        errors.add(field, "Capacity cannot be below zero.")


def _weekday_mask(errors: Errors, value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    try:
        return weekdays.to_mask(value)
    except (TypeError, ValueError):
        errors.add("weekdays", "Choose weekdays from Monday to Sunday.")
        return 0


# ---------------------------------------------------------------- programs, levels, rooms

PROGRAM_FIELDS = ("name", "description", "is_active")


@transaction.atomic
def program_save(*, program: Program | None = None, **fields: Any) -> Program:
    """Create (``program=None``) or change a program."""
    creating = program is None
    program = program or Program(account=require_account())
    before = snapshot(program, PROGRAM_FIELDS)
    _apply(program, fields, PROGRAM_FIELDS, "program")
    errors = Errors()
    errors.merge_model_errors(program, exclude=["account"])
    errors.raise_if_any()
    if Program.objects.filter(name__iexact=program.name).exclude(pk=program.pk).exists():
        raise ValidationFailed({"name": [f"There is already a program named “{program.name}”."]})
    program.save()
    after = snapshot(program, PROGRAM_FIELDS)
    log_action(
        action=PROGRAM_CREATED if creating else PROGRAM_UPDATED,
        obj=program,
        changes=created_fields(after) if creating else changes_between(before, after),
    )
    return program


LEVEL_FIELDS = ("program", "name", "position", "is_active")


@transaction.atomic
def level_save(*, level: Level | None = None, **fields: Any) -> Level:
    """Create or change a level of a program (lower ``position`` comes first)."""
    creating = level is None
    level = level or Level(account=require_account())
    before = snapshot(level, LEVEL_FIELDS) if not creating else {}
    _apply(level, fields, LEVEL_FIELDS, "level")
    errors = Errors()
    if level.program_id is None:
        errors.add("program", "Choose a program.")
    else:
        _own(level.program)
    errors.merge_model_errors(level, exclude=["account", "program"])
    errors.raise_if_any()
    clash = Level.objects.filter(program=level.program, name__iexact=level.name)
    if clash.exclude(pk=level.pk).exists():
        raise ValidationFailed(
            {"name": [f"{level.program.name} already has a level named “{level.name}”."]}
        )
    level.save()
    after = snapshot(level, LEVEL_FIELDS)
    log_action(
        action=LEVEL_CREATED if creating else LEVEL_UPDATED,
        obj=level,
        changes=created_fields(after) if creating else changes_between(before, after),
    )
    return level


ROOM_FIELDS = ("location", "name", "capacity", "is_active")


@transaction.atomic
def room_save(*, room: Room | None = None, **fields: Any) -> Room:
    """Create or change a room at a location."""
    creating = room is None
    room = room or Room(account=require_account())
    before = snapshot(room, ROOM_FIELDS) if not creating else {}
    old_location_id = room.location_id
    _apply(room, fields, ROOM_FIELDS, "room")
    errors = Errors()
    if room.location_id is None:
        errors.add("location", "Choose a location.")
    else:
        _own(room.location)
    if room.capacity is not None and room.capacity < 0:
        errors.add("capacity", "Capacity cannot be below zero.")
    errors.merge_model_errors(room, exclude=["account", "location"])
    if (
        not creating
        and old_location_id != room.location_id
        and Class.objects.filter(room=room).exists()
    ):
        errors.add("location", "Classes use this room; it cannot move to another location.")
    errors.raise_if_any()
    if (
        Room.objects.filter(location=room.location, name__iexact=room.name)
        .exclude(pk=room.pk)
        .exists()
    ):
        raise ValidationFailed(
            {"name": [f"{room.location.name} already has a room named “{room.name}”."]}
        )
    room.save()
    after = snapshot(room, ROOM_FIELDS)
    log_action(
        action=ROOM_CREATED if creating else ROOM_UPDATED,
        obj=room,
        changes=created_fields(after) if creating else changes_between(before, after),
    )
    return room


# ---------------------------------------------------------------- sessions

TERM_FIELDS = (
    "name",
    "start_date",
    "end_date",
    "registration_opens_at",
    "registration_closes_at",
)


@transaction.atomic
def term_save(*, term: Term | None = None, **fields: Any) -> Term:
    """Create or change a session; its classes' meetings follow new dates."""
    creating = term is None
    term = term or Term(account=require_account())
    before = snapshot(term, TERM_FIELDS)
    _apply(term, fields, TERM_FIELDS, "session")
    errors = Errors()
    _check_dates(errors, term.start_date, term.end_date)
    _check_registration(errors, term.registration_opens_at, term.registration_closes_at)
    errors.merge_model_errors(term, exclude=["account"])
    if not creating and term.start_date and term.end_date:
        outside = Class.objects.filter(term=term).exclude(
            start_date__isnull=True, end_date__isnull=True
        )
        for klass in outside:
            if (klass.start_date and klass.start_date < term.start_date) or (
                klass.end_date and klass.end_date > term.end_date
            ):
                errors.add(
                    "start_date"
                    if klass.start_date and klass.start_date < term.start_date
                    else "end_date",
                    f"The class “{klass.name}” has its own dates outside these; change it first.",
                )
    errors.raise_if_any()
    if Term.objects.filter(name__iexact=term.name).exclude(pk=term.pk).exists():
        raise ValidationFailed({"name": [f"There is already a session named “{term.name}”."]})
    term.save()
    after = snapshot(term, TERM_FIELDS)
    if not creating and (before["start_date"], before["end_date"]) != (
        after["start_date"],
        after["end_date"],
    ):
        sync_class_meetings(Class.objects.filter(term=term))
    log_action(
        action=TERM_CREATED if creating else TERM_UPDATED,
        obj=term,
        changes=created_fields(after) if creating else changes_between(before, after),
    )
    return term


# ---------------------------------------------------------------- classes

CLASS_FIELDS = (
    "program",
    "name",
    "description",
    "required_level",
    "location",
    "room",
    "term",
    "start_date",
    "end_date",
    "weekdays",
    "start_time",
    "end_time",
    "capacity",
    "min_age_months",
    "max_age_months",
    "age_as_of",
    "age_as_of_date",
    "gender_rule",
    "portal_visible",
    "registration_opens_at",
    "registration_closes_at",
    "color",
    "is_active",
)
_CLASS_SNAPSHOT = (
    "name",
    "description",
    "program",
    "required_level",
    "location",
    "room",
    "term",
    "start_date",
    "end_date",
    "start_time",
    "end_time",
    "capacity",
    "age_as_of",
    "age_as_of_date",
    "gender_rule",
    "portal_visible",
    "registration_opens_at",
    "registration_closes_at",
    "color",
    "is_active",
)


def _class_snapshot(klass: Class, instructors: list[User]) -> dict[str, Any]:
    values = snapshot(klass, _CLASS_SNAPSHOT)
    values["weekdays"] = klass.weekday_names
    values["min_age"] = format_age(klass.min_age_months, short=True) or None
    values["max_age"] = format_age(klass.max_age_months, short=True) or None
    values["instructors"] = sorted(str(u) for u in instructors)
    return values


def _current_instructors(klass: Class) -> list[User]:
    return [link.instructor for link in klass.instructor_links.select_related("instructor")]


def _set_instructors(klass: Class, people: list[User]) -> None:
    wanted = {u.pk for u in people}
    ClassInstructor.objects.filter(klass=klass).exclude(instructor_id__in=wanted).delete()
    have = set(ClassInstructor.objects.filter(klass=klass).values_list("instructor_id", flat=True))
    account = require_account()
    ClassInstructor.objects.bulk_create(
        [
            ClassInstructor(account=account, klass=klass, instructor_id=pk)
            for pk in sorted(wanted - have)
        ]
    )


def _validate_class(klass: Class, errors: Errors, people: list[User] | None) -> None:
    if klass.program_id is None:
        errors.add("program", "Choose a program.")
    if klass.location_id is None:
        errors.add("location", "Choose a location.")
    _own(*_related(klass, "program", "location", "room", "term", "required_level"))
    term = klass.term if klass.term_id else None
    if term is None and klass.start_date is None:
        errors.add("start_date", "A class without a session needs a start date.")
    start = klass.start_date or (term.start_date if term else None)
    end = klass.end_date or (term.end_date if term else None)
    _check_dates(errors, start, end)
    if term is not None:
        if klass.start_date and klass.start_date < term.start_date:
            errors.add("start_date", f"The session “{term.name}” starts later than this.")
        if klass.end_date and klass.end_date > term.end_date:
            errors.add("end_date", f"The session “{term.name}” ends before this.")
    if not klass.weekdays:
        errors.add("weekdays", "Choose at least one weekday.")
    if klass.start_time is None:
        errors.add("start_time", "Enter a start time.")
    if klass.end_time is None:
        errors.add("end_time", "Enter an end time.")
    if klass.start_time and klass.end_time and klass.end_time <= klass.start_time:
        errors.add("end_time", "The class ends before it starts.")
    _check_capacity(errors, "capacity", klass.capacity)
    _check_ages(errors, klass.min_age_months, klass.max_age_months)
    if klass.age_as_of == AgeAsOf.FIXED_DATE and klass.age_as_of_date is None:
        errors.add("age_as_of_date", "Enter the date ages are measured at.")
    _check_registration(errors, klass.registration_opens_at, klass.registration_closes_at)
    if klass.room_id and klass.location_id and klass.room.location_id != klass.location_id:
        errors.add(
            "room",
            f"{klass.room.name} is at {klass.room.location.name}, not {klass.location.name}.",
        )
    if klass.required_level_id and klass.program_id:
        level = klass.required_level
        if level.program_id != klass.program_id:
            errors.add(
                "required_level",
                f"{level.name} is a level of {level.program.name}, not of {klass.program.name}.",
            )
    if people is not None:
        for person in people:
            if person.kind != User.Kind.STAFF or not person.is_active:
                errors.add("instructors", f"{person} is not an active staff member.")
    errors.merge_model_errors(
        klass,
        exclude=[
            "account",
            "program",
            "required_level",
            "location",
            "room",
            "term",
            "copied_from",
            "weekdays",
            "capacity",
            "min_age_months",
            "max_age_months",
        ],
    )


@transaction.atomic
def class_save(
    *,
    klass: Class | None = None,
    instructor_ids: Iterable[int] | None = None,
    confirm_conflicts: bool = False,
    **fields: Any,
) -> Class:
    """Create (``klass=None``) or change a class, then re-derive its future meetings.

    ``weekdays`` is a list of day numbers (0 = Monday) or a mask. A room shared at an
    overlapping time raises ``ScheduleConflict`` (naming the other classes) unless
    ``confirm_conflicts``. ``instructor_ids=None`` keeps the instructors as they are.
    """
    account = require_account()
    creating = klass is None
    if creating:
        klass = Class(account=account, color=PALETTE[Class.objects.count() % len(PALETTE)])
        before: dict[str, Any] = {}
        old_capacity = None
        current = []
    else:
        klass = Class.objects.select_for_update(of=("self",)).get(pk=klass.pk)
        current = _current_instructors(klass)
        before = _class_snapshot(klass, current)
        old_capacity = klass.capacity
    errors = Errors()
    if "weekdays" in fields:
        fields["weekdays"] = _weekday_mask(errors, fields["weekdays"])
    _apply(klass, fields, CLASS_FIELDS, "class")
    klass.first_weekday = weekdays.first_day(klass.weekdays or 0)
    people = None
    if instructor_ids is not None:
        ids = set(instructor_ids)
        people = list(User.objects.filter(pk__in=ids))
        if len(people) != len(ids):
            errors.add("instructors", "Choose instructors among this business's staff.")
    _validate_class(klass, errors, people)
    errors.raise_if_any()
    if old_capacity is not None and klass.capacity < old_capacity:
        refusals = hooks.capacity_refusals(hooks.CLASS_CAPACITY_CHECKS, klass, klass.capacity)
        if refusals:
            raise ValidationFailed({"capacity": refusals})
    if klass.room_id and klass.is_active and not confirm_conflicts:
        conflicts = room_conflicts(
            room_id=klass.room_id,
            weekday_mask=klass.weekdays,
            start_time=klass.start_time,
            end_time=klass.end_time,
            start_date=klass.effective_start,
            end_date=klass.effective_end,
            exclude_ids=(klass.pk,) if klass.pk else (),
        )
        if conflicts:
            raise ScheduleConflict(conflicts, klass.room)
    klass.save()
    if people is not None:
        _set_instructors(klass, people)
    sync_class_meetings([klass])
    klass.refresh_from_db(fields=["meetings_until"])
    after = _class_snapshot(klass, people if people is not None else current)
    log_action(
        action=CLASS_CREATED if creating else CLASS_UPDATED,
        obj=klass,
        changes=created_fields(after) if creating else changes_between(before, after),
    )
    return klass


_COPIED_FIELDS = (
    "program_id",
    "name",
    "description",
    "required_level_id",
    "location_id",
    "room_id",
    "weekdays",
    "first_weekday",
    "start_time",
    "end_time",
    "capacity",
    "min_age_months",
    "max_age_months",
    "age_as_of",
    "gender_rule",
    "portal_visible",
    "color",
)


@transaction.atomic
def term_copy_classes(
    *, source: Term, target: Term, location_ids: set[int] | None = None
) -> list[Class]:
    """Copy every active class of ``source`` into ``target`` (one audit entry); only those
    at ``location_ids`` when given (a location-limited person copies their own).

    Copies follow the target session's dates and registration window; instructors come
    along; classes already copied into ``target`` are skipped. Room conflicts were shown
    in the preview (``selectors.term_copy_plan``) and do not stop the copy.
    """
    _own(source, target)
    if source.pk == target.pk:
        raise ValidationFailed({"target": ["Choose another session to copy into."]})
    plan = [
        item
        for item in term_copy_plan(source, target, location_ids=location_ids)
        if not item.skip_reason
    ]
    if not plan:
        raise ValidationFailed(
            {"target": [f"Nothing to copy: every class of {source.name} is already there."]}
        )
    account = require_account()
    copies = []
    for item in plan:
        copy = Class(account=account, term=target, copied_from=item.source)
        for name in _COPIED_FIELDS:
            setattr(copy, name, getattr(item.source, name))
        if item.source.age_as_of == AgeAsOf.FIXED_DATE:
            copy.age_as_of = AgeAsOf.TERM_START  # last session's cut-off date means nothing now
        copy.save()
        copies.append(copy)
    ClassInstructor.objects.bulk_create(
        [
            ClassInstructor(account=account, klass=copy, instructor_id=link.instructor_id)
            for item, copy in zip(plan, copies, strict=True)
            for link in item.source.instructor_links.all()
        ]
    )
    sync_class_meetings(copies)
    log_action(
        action=TERM_CLASSES_COPIED,
        obj=target,
        changes={
            "copied_from": [None, source.name],
            "classes": [None, [c.name for c in copies]],
        },
    )
    return copies


# ---------------------------------------------------------------- closures

CLOSURE_FIELDS = ("name", "start_date", "end_date", "location", "closes_camps")


def _closure_span(closure: Closure) -> tuple[int | None, date, date, bool]:
    return (closure.location_id, closure.start_date, closure.end_date, closure.closes_camps)


@transaction.atomic
def closure_save(*, closure: Closure | None = None, **fields: Any) -> Closure:
    """Create or change a closure; meetings (and camp days) in it are removed, and
    those it no longer covers come back."""
    creating = closure is None
    closure = closure or Closure(account=require_account())
    before = snapshot(closure, CLOSURE_FIELDS)
    old_span = None if creating else _closure_span(closure)
    _apply(closure, fields, CLOSURE_FIELDS, "closure")
    errors = Errors()
    _own(closure.location if closure.location_id else None)
    _check_dates(errors, closure.start_date, closure.end_date)
    errors.merge_model_errors(closure, exclude=["account", "location"])
    errors.raise_if_any()
    closure.save()
    sync_for_closure_change([s for s in (old_span, _closure_span(closure)) if s])
    after = snapshot(closure, CLOSURE_FIELDS)
    log_action(
        action=CLOSURE_CREATED if creating else CLOSURE_UPDATED,
        obj=closure,
        changes=created_fields(after) if creating else changes_between(before, after),
    )
    return closure


@transaction.atomic
def closure_delete(*, closure: Closure) -> None:
    """Delete a closure; the future meetings it removed come back."""
    _own(closure)
    span = _closure_span(closure)
    log_action(
        action=CLOSURE_DELETED,
        obj=closure,
        changes={
            field: [value, None] for field, value in snapshot(closure, CLOSURE_FIELDS).items()
        },
    )
    closure.delete()
    sync_for_closure_change([span])


# ---------------------------------------------------------------- camps


class CampOptionInput(TypedDict):
    kind: str  # CampOption.Kind
    start_time: time | None
    end_time: time | None
    price_cents: int | None


CAMP_FIELDS = (
    "program",
    "location",
    "name",
    "description",
    "start_date",
    "end_date",
    "weekdays",
    "signup_mode",
    "day_capacity",
    "min_age_months",
    "max_age_months",
    "portal_visible",
    "registration_opens_at",
    "registration_closes_at",
)


def _options_snapshot(options: Iterable[CampOption | CampOptionInput]) -> list[str]:
    rows = []
    for option in options:
        get = option.get if isinstance(option, dict) else lambda k, o=option: getattr(o, k)
        rows.append(
            f"{CampOption.Kind(get('kind')).label} {_clock(get('start_time'))}–"
            f"{_clock(get('end_time'))} {get('price_cents')}¢"
        )
    return sorted(rows)


def _camp_snapshot(camp: Camp, options: list) -> dict[str, Any]:
    values = snapshot(camp, [f for f in CAMP_FIELDS if f != "weekdays"])
    values["weekdays"] = camp.weekday_names
    values["options"] = _options_snapshot(options)
    return values


def _validate_options(errors: Errors, options: list[CampOptionInput]) -> None:
    if not options:
        errors.add("options", "Offer at least one option (full day or a half day).")
    seen = set()
    for option in options:
        kind = option["kind"]
        if kind not in CampOption.Kind.values:
            errors.add("options", f"Unknown option {kind!r}.")
            continue
        label = CampOption.Kind(kind).label
        if kind in seen:
            errors.add("options", f"{label} is offered twice.")
        seen.add(kind)
        start, end = option.get("start_time"), option.get("end_time")
        if start is None:
            errors.add(f"{kind}_start_time", f"Enter when the {label.lower()} starts.")
        if end is None:
            errors.add(f"{kind}_end_time", f"Enter when the {label.lower()} ends.")
        if start and end and end <= start:
            errors.add(f"{kind}_end_time", f"The {label.lower()} ends before it starts.")
        price = option.get("price_cents")
        if price is None:
            errors.add(f"{kind}_price", f"Enter the {label.lower()} price.")
        elif price < 0:
            errors.add(f"{kind}_price", "A price cannot be below zero.")


@transaction.atomic
def camp_save(
    *,
    camp: Camp | None = None,
    options: list[CampOptionInput] | None = None,
    **fields: Any,
) -> Camp:
    """Create or change a camp with its options; its camp days follow its dates.

    ``options=None`` keeps the options as they are; a list replaces them (matched by kind).
    """
    account = require_account()
    creating = camp is None
    if creating:
        camp = Camp(account=account)
        before: dict[str, Any] = {}
        old_capacity = None
        current_options: list[CampOption] = []
    else:
        camp = Camp.objects.select_for_update(of=("self",)).get(pk=camp.pk)
        current_options = list(camp.options.all())
        before = _camp_snapshot(camp, current_options)
        old_capacity = camp.day_capacity
    errors = Errors()
    if "weekdays" in fields:
        fields["weekdays"] = _weekday_mask(errors, fields["weekdays"])
    _apply(camp, fields, CAMP_FIELDS, "camp")
    if camp.program_id is None:
        errors.add("program", "Choose a program.")
    if camp.location_id is None:
        errors.add("location", "Choose a location.")
    _own(*_related(camp, "program", "location"))
    _check_dates(errors, camp.start_date, camp.end_date)
    if not camp.weekdays:
        errors.add("weekdays", "Choose at least one weekday.")
    _check_capacity(errors, "day_capacity", camp.day_capacity)
    _check_ages(errors, camp.min_age_months, camp.max_age_months)
    _check_registration(errors, camp.registration_opens_at, camp.registration_closes_at)
    if options is not None or creating:
        _validate_options(errors, options or [])
    errors.merge_model_errors(
        camp,
        exclude=[
            "account",
            "program",
            "location",
            "weekdays",
            "day_capacity",
            "min_age_months",
            "max_age_months",
        ],
    )
    errors.raise_if_any()
    if old_capacity is not None and camp.day_capacity < old_capacity:
        list(CampDay.objects.select_for_update().filter(camp=camp).order_by("pk"))
        refusals = hooks.capacity_refusals(hooks.CAMP_CAPACITY_CHECKS, camp, camp.day_capacity)
        if refusals:
            raise ValidationFailed({"day_capacity": refusals})
    camp.save()
    if options is not None:
        _replace_options(camp, current_options, options)
    sync_camp_days([camp])
    after = _camp_snapshot(camp, list(camp.options.all()))
    log_action(
        action=CAMP_CREATED if creating else CAMP_UPDATED,
        obj=camp,
        changes=created_fields(after) if creating else changes_between(before, after),
    )
    return camp


def _replace_options(camp: Camp, current: list[CampOption], wanted: list[CampOptionInput]):
    by_kind = {o.kind: o for o in current}
    account = require_account()
    for option in wanted:
        row = by_kind.pop(option["kind"], None) or CampOption(
            account=account, camp=camp, kind=option["kind"]
        )
        row.start_time = option["start_time"]
        row.end_time = option["end_time"]
        row.price_cents = option["price_cents"]
        row.save()
    for row in by_kind.values():
        try:
            with transaction.atomic():
                row.delete()
        except ProtectedError:
            raise ValidationFailed(
                {"options": [f"{row.get_kind_display()} has sign-ups; it cannot be removed."]}
            ) from None
