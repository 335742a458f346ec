"""Office pages of the catalog: classes, sessions, closures, camps, schedules.

Staff limited to some locations see only those locations' classes, rooms, camps and
closures (account-wide closures are shown but only unlimited staff change them); any
other row answers 404.
"""

from __future__ import annotations

import zoneinfo
from datetime import date, timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render

from classbook.audit.selectors import object_history
from classbook.catalog import selectors, weekdays
from classbook.catalog.eligibility import format_age_range
from classbook.catalog.forms import (
    CAMP_ERROR_FIELDS,
    CLASS_ERROR_FIELDS,
    CampForm,
    ClassForm,
    ClosureForm,
    CopyTermForm,
    LevelForm,
    ProgramForm,
    RoomForm,
    TermForm,
)
from classbook.catalog.meetings import local_today
from classbook.catalog.models import Camp, Class, Closure, Level, Program, Term
from classbook.catalog.services import (
    ScheduleConflict,
    camp_save,
    class_save,
    closure_delete,
    closure_save,
    level_save,
    program_save,
    room_save,
    term_copy_classes,
    term_save,
)
from classbook.core.errors import ValidationFailed
from classbook.core.forms import add_service_errors
from classbook.core.money import Money
from classbook.core.urls import account_reverse
from classbook.office.location_context import current_location
from classbook.staff import permissions as perms
from classbook.staff.access import office_view
from classbook.staff.selectors import allowed_location_ids

PAGE_SIZE = 25


# ---------------------------------------------------------------- helpers


def _allowed(request) -> set[int] | None:
    if not hasattr(request, "_catalog_allowed"):
        request._catalog_allowed = allowed_location_ids(request.user)
    return request._catalog_allowed


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _today(request) -> date:
    return local_today(zoneinfo.ZoneInfo(request.account.timezone))


def _service_errors(form, error: ValidationFailed, mapping: dict[str, str] | None = None):
    mapping = mapping or {}
    remapped = ValidationFailed({})
    for field, messages_ in error.errors.items():
        remapped.errors.setdefault(mapping.get(field, field), []).extend(messages_)
    add_service_errors(form, remapped)


def _status(form, conflicts=None) -> int:
    if conflicts:
        return 409
    return 400 if form.is_bound and form.errors else 200


def _querystring(request, drop: tuple[str, ...] = ("page",)) -> str:
    params = request.GET.copy()
    for key in drop:
        params.pop(key, None)
    return params.urlencode()


# ---------------------------------------------------------------- classes


@office_view(perms.VIEW_CATALOG)
def class_list(request):
    allowed = _allowed(request)
    get = request.GET
    if "location" in get:
        location_id = _int(get.get("location"))
    else:
        chosen = current_location(request)
        location_id = chosen.pk if chosen else None
    weekday = _int(get.get("day"))
    filters = selectors.ClassFilter(
        location_id=location_id,
        program_id=_int(get.get("program")),
        term_id=_int(get.get("term")),
        weekday=weekday if weekday is not None and 0 <= weekday <= 6 else None,
        instructor_id=_int(get.get("instructor")),
        age_years=_int(get.get("age")),
        search=get.get("q", "").strip()[:100],
        status=get.get("status", "active"),
    )
    sort = get.get("sort", "day")
    queryset = selectors.class_list(filters, allowed=allowed, sort=sort)
    page = Paginator(queryset, PAGE_SIZE).get_page(get.get("page"))
    return render(
        request,
        "catalog/class_list.html",
        {
            "page": page,
            "filters": filters,
            "sort": sort if sort in selectors.CLASS_SORTS else "day",
            "sorts": [(key, label) for key, (label, _) in selectors.CLASS_SORTS.items()],
            "locations": list(selectors.visible_locations(allowed)),
            "programs": list(Program.objects.all()),
            "terms": list(selectors.term_list()),
            "instructors": list(selectors.instructors()),
            "weekday_choices": list(enumerate(weekdays.NAMES)),
            "querystring": _querystring(request),
        },
    )


@office_view(perms.VIEW_CATALOG)
def class_detail(request, class_id: int):
    klass = selectors.class_detail(class_id, allowed=_allowed(request))
    if klass is None:
        raise Http404("No such class")
    today = local_today(klass.timezone)
    return render(
        request,
        "catalog/class_detail.html",
        {
            "klass": klass,
            "instructors": selectors.class_instructors(klass),
            "upcoming": selectors.upcoming_meetings(klass, today=today, limit=10),
            "future_count": selectors.meeting_count(klass, today, date.max),
            "ages": format_age_range(klass.min_age_months, klass.max_age_months),
            "history": object_history(klass),
        },
    )


def _class_form_choices(request, klass: Class | None) -> dict:
    allowed = _allowed(request)
    keep = klass or Class()
    return {
        "programs": Program.objects.filter(Q(is_active=True) | Q(pk=keep.program_id)),
        "levels": selectors.levels().filter(Q(is_active=True) | Q(pk=keep.required_level_id)),
        "locations": selectors.visible_locations(allowed),
        "rooms": selectors.visible_rooms(allowed).filter(Q(is_active=True) | Q(pk=keep.room_id)),
        "terms": selectors.term_list(),
        "instructors": selectors.instructors(),
    }


def _class_initial(klass: Class) -> dict:
    initial = {
        name: getattr(klass, name)
        for name in (
            "name",
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
            "registration_opens_at",
            "registration_closes_at",
            "portal_visible",
            "color",
            "description",
            "is_active",
        )
    }
    initial["weekdays"] = klass.weekday_list
    initial["instructors"] = [link.instructor_id for link in klass.instructor_links.all()]
    initial.update(ClassForm.age_initial(klass.min_age_months, klass.max_age_months))
    return initial


@office_view(perms.EDIT_CATALOG)
def class_create(request):
    return _class_form(request, None)


@office_view(perms.EDIT_CATALOG)
def class_edit(request, class_id: int):
    klass = get_object_or_404(selectors.visible_classes(_allowed(request)), pk=class_id)
    return _class_form(request, klass)


def _class_form(request, klass: Class | None):
    choices = _class_form_choices(request, klass)
    if klass is not None:
        initial = _class_initial(klass)
    else:
        chosen = current_location(request)
        initial = {"location": chosen, "capacity": 8, "weekdays": []}
        if "term" in request.GET:
            initial["term"] = _int(request.GET["term"])
    form = ClassForm(request.POST or None, initial=initial, **choices)
    conflicts = []
    if request.method == "POST" and form.is_valid():
        try:
            saved = class_save(
                klass=klass,
                confirm_conflicts=request.POST.get("confirm_conflicts") == "1",
                **form.service_values(),
            )
        except ScheduleConflict as conflict:
            conflicts = conflict.conflicts
        except ValidationFailed as error:
            _service_errors(form, error, CLASS_ERROR_FIELDS)
        else:
            messages.success(request, f"Class “{saved.name}” saved.")
            return redirect(account_reverse("catalog:class_detail", class_id=saved.pk))
    return render(
        request,
        "catalog/class_form.html",
        {"form": form, "klass": klass, "conflicts": conflicts},
        status=_status(form, conflicts),
    )


# ---------------------------------------------------------------- programs, levels, rooms


@office_view(perms.VIEW_CATALOG)
def setup(request):
    allowed = _allowed(request)
    rooms = selectors.visible_rooms(allowed).annotate(class_count=Count("classes"))
    by_location: dict = {}
    for room in rooms.order_by("location__name", "name"):
        by_location.setdefault(room.location, []).append(room)
    return render(
        request,
        "catalog/setup.html",
        {
            "programs": list(
                selectors.programs_with_levels().annotate(class_count=Count("classes"))
            ),
            "rooms_by_location": list(by_location.items()),
            "locations": list(selectors.visible_locations(allowed)),
        },
    )


def _simple_form(request, form, *, title: str, back: str, save, done: str, mapping=None):
    """A small form page whose valid POST calls ``save(**cleaned_data)``."""
    if request.method == "POST" and form.is_valid():
        try:
            obj = save(**form.cleaned_data)
        except ValidationFailed as error:
            _service_errors(form, error, mapping)
        else:
            messages.success(request, done.format(obj=obj))
            return redirect(back)
    return render(
        request,
        "catalog/simple_form.html",
        {"form": form, "title": title, "back": back},
        status=_status(form),
    )


@office_view(perms.EDIT_CATALOG)
def program_create(request):
    return _simple_form(
        request,
        ProgramForm(request.POST or None),
        title="New program",
        back=account_reverse("catalog:setup"),
        save=lambda **data: program_save(**data),
        done="Program “{obj.name}” added.",
    )


@office_view(perms.EDIT_CATALOG)
def program_edit(request, program_id: int):
    program = get_object_or_404(Program, pk=program_id)
    initial = {"name": program.name, "description": program.description}
    initial["is_active"] = program.is_active
    return _simple_form(
        request,
        ProgramForm(request.POST or None, initial=initial),
        title=f"Edit {program.name}",
        back=account_reverse("catalog:setup"),
        save=lambda **data: program_save(program=program, **data),
        done="Program “{obj.name}” saved.",
    )


@office_view(perms.EDIT_CATALOG)
def level_create(request):
    program = Program.objects.filter(pk=_int(request.GET.get("program"))).first()
    return _simple_form(
        request,
        LevelForm(
            request.POST or None,
            programs=Program.objects.all(),
            initial={
                "program": program,
                "position": Level.objects.filter(program=program).count() if program else 0,
            },
        ),
        title="New level",
        back=account_reverse("catalog:setup"),
        save=lambda **data: level_save(**data),
        done="Level “{obj.name}” added.",
    )


@office_view(perms.EDIT_CATALOG)
def level_edit(request, level_id: int):
    level = get_object_or_404(Level.objects.select_related("program"), pk=level_id)
    initial = {
        "program": level.program,
        "name": level.name,
        "position": level.position,
        "is_active": level.is_active,
    }
    return _simple_form(
        request,
        LevelForm(request.POST or None, programs=Program.objects.all(), initial=initial),
        title=f"Edit {level}",
        back=account_reverse("catalog:setup"),
        save=lambda **data: level_save(level=level, **data),
        done="Level “{obj.name}” saved.",
    )


@office_view(perms.EDIT_CATALOG)
def room_create(request):
    allowed = _allowed(request)
    location = (
        selectors.visible_locations(allowed).filter(pk=_int(request.GET.get("location"))).first()
    )
    return _simple_form(
        request,
        RoomForm(
            request.POST or None,
            locations=selectors.visible_locations(allowed),
            initial={"location": location},
        ),
        title="New room",
        back=account_reverse("catalog:setup"),
        save=lambda **data: room_save(**data),
        done="Room “{obj.name}” added.",
    )


@office_view(perms.EDIT_CATALOG)
def room_edit(request, room_id: int):
    allowed = _allowed(request)
    room = get_object_or_404(selectors.visible_rooms(allowed), pk=room_id)
    initial = {
        "location": room.location,
        "name": room.name,
        "capacity": room.capacity,
        "is_active": room.is_active,
    }
    return _simple_form(
        request,
        RoomForm(
            request.POST or None, locations=selectors.visible_locations(allowed), initial=initial
        ),
        title=f"Edit {room.name}",
        back=account_reverse("catalog:setup"),
        save=lambda **data: room_save(room=room, **data),
        done="Room “{obj.name}” saved.",
    )


# ---------------------------------------------------------------- sessions


@office_view(perms.VIEW_CATALOG)
def term_list(request):
    allowed = _allowed(request)
    class_filter = Q(classes__is_active=True)
    if allowed is not None:
        class_filter &= Q(classes__location_id__in=allowed)
    terms = selectors.term_list().annotate(class_count=Count("classes", filter=class_filter))
    return render(
        request, "catalog/term_list.html", {"terms": list(terms), "today": _today(request)}
    )


@office_view(perms.VIEW_CATALOG)
def term_detail(request, term_id: int):
    term = get_object_or_404(Term, pk=term_id)
    classes = selectors.class_list(
        selectors.ClassFilter(term_id=term.pk, status="all"), allowed=_allowed(request)
    )
    return render(
        request,
        "catalog/term_detail.html",
        {"term": term, "classes": list(classes), "history": object_history(term)},
    )


def _term_form(request, term: Term | None):
    initial = None
    if term is not None:
        initial = {
            name: getattr(term, name)
            for name in (
                "name",
                "start_date",
                "end_date",
                "registration_opens_at",
                "registration_closes_at",
            )
        }
    back = (
        account_reverse("catalog:term_detail", term_id=term.pk)
        if term
        else account_reverse("catalog:term_list")
    )
    return _simple_form(
        request,
        TermForm(request.POST or None, initial=initial),
        title=f"Edit {term.name}" if term else "New session",
        back=back,
        save=lambda **data: term_save(term=term, **data),
        done="Session “{obj.name}” saved.",
    )


@office_view(perms.EDIT_CATALOG)
def term_create(request):
    return _term_form(request, None)


@office_view(perms.EDIT_CATALOG)
def term_edit(request, term_id: int):
    return _term_form(request, get_object_or_404(Term, pk=term_id))


@office_view(perms.EDIT_CATALOG)
def term_copy(request, term_id: int):
    """Preview (GET with ``target``) and confirm (POST) copying a session's classes."""
    source = get_object_or_404(Term, pk=term_id)
    allowed = _allowed(request)
    form = CopyTermForm(
        request.POST if request.method == "POST" else (request.GET or None),
        targets=Term.objects.exclude(pk=source.pk).order_by("-start_date"),
    )
    plan = None
    if form.is_bound and form.is_valid():
        target = form.cleaned_data["target"]
        if request.method == "POST":
            try:
                copies = term_copy_classes(source=source, target=target, location_ids=allowed)
            except ValidationFailed as error:
                _service_errors(form, error)
            else:
                messages.success(
                    request, f"{len(copies)} classes copied from {source.name} into {target.name}."
                )
                return redirect(account_reverse("catalog:term_detail", term_id=target.pk))
        plan = selectors.term_copy_plan(source, target, location_ids=allowed)
    return render(
        request,
        "catalog/term_copy.html",
        {
            "source": source,
            "form": form,
            "plan": plan,
            "to_create": [item for item in plan or [] if not item.skip_reason],
            "conflict_count": sum(1 for item in plan or [] if item.conflicts),
        },
        status=_status(form),
    )


# ---------------------------------------------------------------- closures


def _editable_closures(request):
    allowed = _allowed(request)
    if allowed is None:
        return Closure.objects.all()
    return Closure.objects.filter(location_id__in=allowed)


@office_view(perms.VIEW_CATALOG)
def closure_list(request):
    show = request.GET.get("show", "upcoming")
    closures = selectors.visible_closures(_allowed(request))
    if show != "all":
        closures = closures.filter(end_date__gte=_today(request))
    editable = set(_editable_closures(request).values_list("pk", flat=True))
    return render(
        request,
        "catalog/closure_list.html",
        {"closures": list(closures), "show": show, "editable": editable},
    )


def _closure_form(request, closure: Closure | None):
    allowed = _allowed(request)
    initial = None
    if closure is not None:
        initial = {
            name: getattr(closure, name)
            for name in ("name", "start_date", "end_date", "location", "closes_camps")
        }
    form = ClosureForm(
        request.POST or None,
        initial=initial,
        locations=selectors.visible_locations(allowed),
        all_locations_allowed=allowed is None,
    )
    return _simple_form(
        request,
        form,
        title=f"Edit {closure.name}" if closure else "New closure",
        back=account_reverse("catalog:closure_list"),
        save=lambda **data: closure_save(closure=closure, **data),
        done="Closure “{obj.name}” saved; meetings on those dates were updated.",
    )


@office_view(perms.EDIT_CATALOG)
def closure_create(request):
    return _closure_form(request, None)


@office_view(perms.EDIT_CATALOG)
def closure_edit(request, closure_id: int):
    return _closure_form(request, get_object_or_404(_editable_closures(request), pk=closure_id))


@office_view(perms.EDIT_CATALOG)
def closure_delete_view(request, closure_id: int):
    closure = get_object_or_404(
        _editable_closures(request).select_related("location"), pk=closure_id
    )
    error = None
    if request.method == "POST":
        try:
            closure_delete(closure=closure)
        except ValidationFailed as refused:
            error = refused
        else:
            messages.success(request, f"Closure “{closure.name}” deleted; its meetings are back.")
            return redirect(account_reverse("catalog:closure_list"))
    return render(
        request,
        "catalog/closure_confirm_delete.html",
        {"closure": closure, "error": error},
        status=400 if error else 200,
    )


# ---------------------------------------------------------------- camps


@office_view(perms.VIEW_CATALOG)
def camp_list(request):
    show = request.GET.get("show", "upcoming")
    camps = selectors.camp_list(
        allowed=_allowed(request), upcoming_from=None if show == "all" else _today(request)
    ).annotate(day_count=Count("days"))
    currency = request.account.currency
    rows = [
        (camp, [(o, Money(o.price_cents, currency)) for o in camp.options.all()]) for camp in camps
    ]
    return render(request, "catalog/camp_list.html", {"rows": rows, "show": show})


@office_view(perms.VIEW_CATALOG)
def camp_detail(request, camp_id: int):
    camp = get_object_or_404(
        selectors.visible_camps(_allowed(request)).select_related("program", "location"),
        pk=camp_id,
    )
    currency = request.account.currency
    return render(
        request,
        "catalog/camp_detail.html",
        {
            "camp": camp,
            "options": [(o, Money(o.price_cents, currency)) for o in camp.options.all()],
            "days": list(camp.days.all()),
            "ages": format_age_range(camp.min_age_months, camp.max_age_months),
            "history": object_history(camp),
        },
    )


def _camp_form(request, camp: Camp | None):
    allowed = _allowed(request)
    keep_program = camp.program_id if camp else None
    form = CampForm(
        request.POST or None,
        initial=CampForm.initial_for(camp) if camp else {"location": current_location(request)},
        programs=Program.objects.filter(Q(is_active=True) | Q(pk=keep_program)),
        locations=selectors.visible_locations(allowed),
        currency=request.account.currency,
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = camp_save(camp=camp, **form.service_values())
        except ValidationFailed as error:
            _service_errors(form, error, CAMP_ERROR_FIELDS)
        else:
            messages.success(request, f"Camp “{saved.name}” saved.")
            return redirect(account_reverse("catalog:camp_detail", camp_id=saved.pk))
    return render(
        request, "catalog/camp_form.html", {"form": form, "camp": camp}, status=_status(form)
    )


@office_view(perms.EDIT_CATALOG)
def camp_create(request):
    return _camp_form(request, None)


@office_view(perms.EDIT_CATALOG)
def camp_edit(request, camp_id: int):
    camp = get_object_or_404(selectors.visible_camps(_allowed(request)), pk=camp_id)
    return _camp_form(request, camp)


# ---------------------------------------------------------------- calendars


def _parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


CLASS_SLOT = "/2147483647/"  # stands for the class id in a link reversed once per page


def _class_links(week) -> dict[int, str]:
    """Class id → its page, for every class of the week: reversed once with a stand-in id
    that each class's id replaces (a big account's week has hundreds of meetings, and
    reversing a link for each took a third of the page's time)."""
    pattern = account_reverse("catalog:class_detail", class_id=int(CLASS_SLOT[1:-1]))
    head, _, tail = pattern.rpartition(CLASS_SLOT)
    ids = {event.klass.pk for day in week.days for event in day.events}
    return {pk: f"{head}/{pk}/{tail}" for pk in ids}


@office_view(perms.VIEW_CATALOG)
def schedule(request):
    """A week of meetings per location, room or instructor (?week=YYYY-MM-DD)."""
    allowed = _allowed(request)
    get = request.GET
    locations = list(selectors.visible_locations(allowed))
    rooms = list(selectors.visible_rooms(allowed).filter(is_active=True))
    room_id = _int(get.get("room"))
    instructor_id = _int(get.get("instructor"))
    if "location" in get:
        location_id = _int(get.get("location"))
    else:
        chosen = current_location(request)
        location_id = chosen.pk if chosen else None
    if room_id and room_id not in {r.pk for r in rooms}:
        raise Http404("No such room")
    if location_id and location_id not in {loc.pk for loc in locations}:
        raise Http404("No such location")
    start = weekdays.week_start(_parse_date(get.get("week")) or _today(request))
    week = selectors.week_schedule(
        week_start=start,
        allowed=allowed,
        location_id=location_id,
        room_id=room_id,
        instructor_id=instructor_id,
    )
    params = _querystring(request, drop=("week",))
    return render(
        request,
        "catalog/schedule.html",
        {
            "week": week,
            "class_links": _class_links(week),
            "locations": locations,
            "rooms": rooms,
            "instructors": list(selectors.instructors()),
            "location_id": location_id,
            "room_id": room_id,
            "instructor_id": instructor_id,
            "previous": start - timedelta(days=7),
            "next": start + timedelta(days=7),
            "today": _today(request),
            "params": params,
        },
    )


@office_view(perms.VIEW_CATALOG)
def camp_calendar(request):
    """A month of camp days (?month=YYYY-MM)."""
    allowed = _allowed(request)
    today = _today(request)
    try:
        year, month = (int(part) for part in request.GET.get("month", "").split("-"))
        first = date(year, month, 1)
    except ValueError:
        first = today.replace(day=1)
    location_id = _int(request.GET.get("location"))
    locations = list(selectors.visible_locations(allowed))
    if location_id and location_id not in {loc.pk for loc in locations}:
        raise Http404("No such location")
    weeks = selectors.camp_month(
        year=first.year, month=first.month, allowed=allowed, location_id=location_id
    )
    previous = (first - timedelta(days=1)).replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return render(
        request,
        "catalog/camp_calendar.html",
        {
            "weeks": weeks,
            "month": first,
            "previous": previous,
            "next": following,
            "locations": locations,
            "location_id": location_id,
            "today": today,
            "weekday_names": weekdays.SHORT,
            "has_any": any(cell.camp_days for week in weeks for cell in week),
        },
    )
