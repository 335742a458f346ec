"""Office pages of the enrollment engine: enroll, camp bookings, rosters, waitlists, the
requests queue, a student's enrollment history and the enrollment timers.

Views only parse, call a service or a selector, and render. A service's refusal is shown
next to the form (400); a seat lock that was not granted in time (``SeatsBusy``) is a
"busy, try again" with status 409. Classes and camps of locations the person may not work
at answer 404, as do the enrollments, visits and waitlist places in them.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from classbook.catalog import selectors as catalog
from classbook.catalog.eligibility import format_age_range
from classbook.catalog.models import Camp, CampDay, Class, Meeting, Program
from classbook.core import clock
from classbook.core.errors import ValidationFailed
from classbook.core.forms import add_service_errors
from classbook.core.urls import account_reverse
from classbook.enrollment import selectors, services
from classbook.enrollment.forms import (
    CampBookForm,
    ClassPickerForm,
    DropForm,
    EnrollForm,
    MakeupIssueForm,
    MeetingForm,
    RequestDecideForm,
    RequestFilterForm,
    SettingsForm,
    TransferForm,
    forged_override,
    seats_left_label,
)
from classbook.enrollment.locking import SeatsBusy
from classbook.enrollment.models import (
    CampBooking,
    Enrollment,
    EnrollmentRequest,
    MakeupToken,
    Visit,
    WaitlistEntry,
)
from classbook.enrollment.services import EnrollmentRefused
from classbook.families.models import Student
from classbook.office.location_context import current_location
from classbook.staff import permissions as perms
from classbook.staff.access import office_view
from classbook.staff.selectors import allowed_location_ids, has_permission

PAGE_SIZE = 25
WAITLIST_PAGE_SIZE = 50
MEETING_CHOICES = 12
OVERRIDE_DENIED = (
    f"Enrolling over capacity or outside the rules needs the “{perms.OVERRIDE_ENROLLMENT.label}” "
    "permission, which your login does not have. Nothing was saved."
)


# ---------------------------------------------------------------- helpers


def _allowed(request) -> set[int] | None:
    if not hasattr(request, "_enrollment_allowed"):
        request._enrollment_allowed = allowed_location_ids(request.user)
    return request._enrollment_allowed


def _check_location(request, location_id: int) -> None:
    allowed = _allowed(request)
    if allowed is not None and location_id not in allowed:
        raise Http404("Not found")


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _date(value) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def _classes(request):
    return catalog.visible_classes(_allowed(request)).select_related(
        "program", "location", "term", "room", "required_level__program"
    )


def _class_or_404(request, class_id) -> Class:
    return get_object_or_404(_classes(request), pk=class_id)


def _camp_or_404(request, camp_id) -> Camp:
    return get_object_or_404(
        catalog.visible_camps(_allowed(request)).select_related("location", "program"),
        pk=camp_id,
    )


def _student_or_404(student_id) -> Student:
    return get_object_or_404(
        Student.objects.select_related("family", "level__program").filter(
            family__merged_into__isnull=True
        ),
        pk=student_id,
    )


def _enrollment_or_404(request, enrollment_id) -> Enrollment:
    enrollment = get_object_or_404(
        Enrollment.objects.select_related(
            "student__family", "student__level", "klass__location", "klass__term"
        ),
        pk=enrollment_id,
    )
    _check_location(request, enrollment.klass.location_id)
    return enrollment


def _entry_or_404(request, entry_id) -> WaitlistEntry:
    entry = get_object_or_404(
        WaitlistEntry.objects.select_related(
            "student", "klass__location", "camp_day__camp__location", "camp_option"
        ),
        pk=entry_id,
    )
    where = entry.klass if entry.klass_id else entry.camp_day.camp
    _check_location(request, where.location_id)
    return entry


def _can(request, permission) -> bool:
    return has_permission(request.user, permission)


def _next_or(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    prefix = f"/{request.account.slug}/office/"
    if target.startswith(prefix) and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        return target
    return default


def _attempt(form, call):
    """Run a service; a refusal goes on the form. Returns (result, status, refusal)."""
    try:
        return call(), 200, None
    except SeatsBusy as busy:
        form.add_error(None, str(busy))
        return None, 409, None
    except EnrollmentRefused as refused:
        add_service_errors(form, refused)
        return None, 400, refused
    except ValidationFailed as failed:
        add_service_errors(form, failed)
        return None, 400, None


def _busy(request, back: str, error: SeatsBusy):
    return render(
        request, "enrollment/busy.html", {"message": str(error), "back": back}, status=409
    )


def _action(request, back: str, call, success) -> object:
    """A POST-only button: run the service, say what happened, go back (409 when busy)."""
    try:
        result = call()
    except SeatsBusy as busy:
        return _busy(request, back, busy)
    except ValidationFailed as failed:
        for message in (m for msgs in failed.errors.values() for m in msgs):
            messages.error(request, message)
    else:
        messages.success(request, success(result))
    return redirect(back)


def _querystring(request, drop=("page",)) -> str:
    params = request.GET.copy()
    for key in drop:
        params.pop(key, None)
    return params.urlencode()


def _student_url(student) -> str:
    return account_reverse("enrollment:student", student_id=student.pk)


def _day(value: date) -> str:
    return f"{value:%a %b} {value.day}, {value.year}"


# ---------------------------------------------------------------- enroll


def _picked_class(request) -> Class | None:
    raw = request.POST.get("klass") or request.GET.get("klass")
    return _class_or_404(request, raw) if _int(raw) else None


def _picked_student(request) -> Student | None:
    raw = request.POST.get("student") or request.GET.get("student")
    return _student_or_404(raw) if _int(raw) else None


def _preview_for(request, form, *, student, klass, default_start):
    if student is None or klass is None:
        return None
    data = form.cleaned_data if form.is_bound and hasattr(form, "cleaned_data") else {}
    start = data.get("start_date") or _date(request.GET.get("start_date")) or default_start
    end = data.get("end_date") or _date(request.GET.get("end_date"))
    if end is not None and end < start:
        end = None
    return selectors.enroll_preview(student, klass, start=start, end=end, now=clock.now())


def _default_start(klass: Class | None, today: date) -> date:
    return max(today, klass.effective_start) if klass is not None else today


def _enroll(request, *, klass, student, origin: str, context: dict):
    today = clock.account_today()
    can_override = _can(request, perms.OVERRIDE_ENROLLMENT)
    default_start = _default_start(klass, today)
    form = EnrollForm(
        request.POST if request.method == "POST" else None,
        initial={
            "start_date": _date(request.GET.get("start_date")) or default_start,
            "end_date": _date(request.GET.get("end_date")),
        },
        today=today,
        can_override=can_override,
    )
    status = 200
    if request.method == "POST":
        valid = form.is_valid()
        if klass is None or student is None:
            form.add_error(None, "Choose a student and a class first.")
            status = 400
        elif forged_override(form, request.POST):
            form.add_error(None, OVERRIDE_DENIED)
            status = 403
        elif not valid:
            status = 400
        elif request.POST.get("action") == "waitlist":
            data = form.cleaned_data
            entry, status, _ = _attempt(
                form,
                lambda: services.waitlist_join(
                    student=student, klass=klass, start_date=data["start_date"]
                ),
            )
            if entry is not None:
                place = (
                    WaitlistEntry.objects.filter(
                        klass=klass,
                        status__in=selectors.OPEN_WAITLIST,
                        joined_at__lte=entry.joined_at,
                    )
                    .filter(Q(joined_at__lt=entry.joined_at) | Q(pk__lte=entry.pk))
                    .count()
                )
                messages.success(
                    request, f"{student} joined the waitlist of {klass}: number {place} in line."
                )
                return redirect(account_reverse("enrollment:waitlist", class_id=klass.pk))
        else:
            data = form.cleaned_data
            enrollment, status, _ = _attempt(
                form,
                lambda: services.enroll(
                    student=student,
                    klass=klass,
                    start_date=data["start_date"],
                    end_date=data["end_date"],
                    override_reason=form.override_reason,
                ),
            )
            if enrollment is not None:
                first = (
                    Meeting.objects.filter(klass=klass, date__gte=enrollment.start_date)
                    .order_by("date")
                    .first()
                )
                messages.success(
                    request,
                    f"{student} is enrolled in {klass}"
                    + (f"; first class {_day(first.date)}." if first else ".")
                    + (" (Override recorded.)" if enrollment.override_reason else ""),
                )
                if origin == "class":
                    return redirect(account_reverse("enrollment:enroll_class", class_id=klass.pk))
                return redirect(_student_url(student))
    preview = _preview_for(request, form, student=student, klass=klass, default_start=default_start)
    return render(
        request,
        "enrollment/enroll.html",
        {
            **context,
            "origin": origin,
            "klass": klass,
            "student": student,
            "form": form,
            "preview": preview,
            "can_override": can_override,
        },
        status=status,
    )


def _student_results(request, klass: Class, query: str) -> dict:
    found = selectors.student_search(query)
    more = len(found) > 20
    found = found[:20]
    enrolled = selectors.active_student_ids(klass, [s.pk for s in found]) if found else set()
    today = clock.account_today()
    return {
        "klass": klass,
        "query": query,
        "students": [
            (s, selectors.age_label(s.date_of_birth, today), s.pk in enrolled) for s in found
        ],
        "more": more,
    }


@office_view(perms.ENROLL)
def enroll_class(request, class_id: int):
    """Enroll from a class: search a student, see the rules and seats live, enroll."""
    klass = _class_or_404(request, class_id)
    query = request.GET.get("q", "").strip()[:100]
    if request.htmx and request.htmx.target == "student-results":
        return render(
            request, "enrollment/_student_results.html", _student_results(request, klass, query)
        )
    student = _picked_student(request)
    context = _student_results(request, klass, query) if query and student is None else {}
    context["query"] = query
    return _enroll(request, klass=klass, student=student, origin="class", context=context)


def _class_picker(request) -> dict:
    """The class picker's filters and a page of matching classes with seats left."""
    allowed = _allowed(request)
    locations = catalog.visible_locations(allowed)
    data = request.GET.copy()
    if "location" not in data:
        chosen = current_location(request)
        if chosen is not None:
            data["location"] = str(chosen.pk)
    picker = ClassPickerForm(
        data, programs=Program.objects.filter(is_active=True), locations=locations
    )
    picker.fields["q"].widget.attrs.update(
        {
            "hx-get": request.path,
            "hx-trigger": "input changed delay:300ms, search",
            "hx-target": "#class-results",
            "hx-include": "closest form",
            "hx-push-url": "true",
        }
    )
    criteria = picker.cleaned_data if picker.is_valid() else {}
    filters = catalog.ClassFilter(
        location_id=criteria["location"].pk if criteria.get("location") else None,
        program_id=criteria["program"].pk if criteria.get("program") else None,
        weekday=criteria.get("day"),
        search=criteria.get("q") or "",
        status="active",
    )
    page = Paginator(catalog.class_list(filters, allowed=allowed), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    seats = selectors.next_meeting_seats(
        list(page.object_list), today=clock.account_today(), now=clock.now()
    )
    return {
        "picker": picker,
        "page": page,
        "rows": [(k, seats[k.pk]) for k in page.object_list],
        "querystring": _querystring(request, drop=("page", "klass")),
    }


@office_view(perms.ENROLL)
def enroll_student(request, student_id: int):
    """Enroll from a student: pick a class (filter by program, day, location), see the rules
    and seats live, enroll."""
    student = _student_or_404(student_id)
    picker = _class_picker(request)
    if request.htmx and request.htmx.target == "class-results":
        return render(request, "enrollment/_class_results.html", picker)
    klass = _picked_class(request)
    return _enroll(request, klass=klass, student=student, origin="student", context=picker)


@office_view(perms.ENROLL)
def enroll_preview(request):
    """The live eligibility panel (htmx): rules, first meeting and seats left."""
    student = _picked_student(request)
    klass = _picked_class(request)
    preview = None
    if student is not None and klass is not None:
        start = _date(request.GET.get("start_date")) or _default_start(klass, clock.account_today())
        end = _date(request.GET.get("end_date"))
        if end is not None and end < start:
            end = None
        preview = selectors.enroll_preview(student, klass, start=start, end=end, now=clock.now())
    return render(
        request,
        "enrollment/_preview.html",
        {"preview": preview, "can_override": _can(request, perms.OVERRIDE_ENROLLMENT)},
    )


# ---------------------------------------------------------------- camps


@office_view(perms.ENROLL)
def camp_book(request, student_id: int):
    """Book a student into a camp: the whole camp, or chosen days, with seats per day."""
    student = _student_or_404(student_id)
    today = clock.account_today()
    camp_id = _int(request.POST.get("camp") or request.GET.get("camp"))
    context: dict = {"student": student}
    if camp_id is None:
        camps = selectors.upcoming_camps(allowed=_allowed(request), today=today)
        context["page"] = Paginator(camps, PAGE_SIZE).get_page(request.GET.get("page"))
        return render(request, "enrollment/camp_book.html", context)
    camp = _camp_or_404(request, camp_id)
    days = CampDay.objects.filter(camp=camp, date__gte=today).select_related("camp")
    day_rows = selectors.camp_day_seats(list(days), now=clock.now())
    left = {d.pk: seats.left for d, seats in day_rows}
    can_override = _can(request, perms.OVERRIDE_ENROLLMENT)
    form = CampBookForm(
        request.POST if request.method == "POST" else None,
        camp=camp,
        days=days,
        can_override=can_override,
        initial={"option": camp.options.first()},
    )
    if "days" in form.fields:
        form.fields["days"].label_from_instance = lambda d: (
            f"{d.date:%a %b %-d} — {seats_left_label(left[d.pk])}"
        )
    status, refusal = 200, None
    if request.method == "POST":
        valid = form.is_valid()
        if forged_override(form, request.POST):
            form.add_error(None, OVERRIDE_DENIED)
            status = 403
        elif not valid:
            status = 400
        else:
            data = form.cleaned_data
            chosen = list(data["days"]) if "days" in form.fields else list(days)
            if request.POST.get("action") == "waitlist":
                taken = dict(
                    (d.pk, seats.taken)
                    for d, seats in selectors.camp_day_seats(chosen, now=clock.now())
                )
                full = [d for d in chosen if taken[d.pk] >= camp.day_capacity]
                if not full:
                    form.add_error(None, "None of those days is full: book them instead.")
                    status = 400
                else:
                    entries, status, _ = _attempt(
                        form,
                        lambda: services.camp_waitlist_join(
                            student=student, camp_option=data["option"], days=full
                        ),
                    )
                    if entries is not None:
                        messages.success(
                            request,
                            f"{student} is on the waitlist of {camp} for "
                            + ", ".join(f"{e.camp_day.date:%b %-d}" for e in entries)
                            + ".",
                        )
                        return redirect(_student_url(student))
            else:
                bookings, status, refusal = _attempt(
                    form,
                    lambda: services.camp_book(
                        student=student,
                        camp=camp,
                        option=data["option"],
                        days=chosen if "days" in form.fields else None,
                        override_reason=form.override_reason,
                    ),
                )
                if bookings is not None:
                    messages.success(
                        request,
                        f"{student} is booked into {camp} ({len(bookings)} "
                        f"day{'s' if len(bookings) != 1 else ''}).",
                    )
                    return redirect(_student_url(student))
    context.update(
        {
            "camp": camp,
            "form": form,
            "day_rows": selectors.camp_day_seats(list(days), now=clock.now()),
            "full": bool(refusal and refusal.full),
            "age_rule": format_age_range(camp.min_age_months, camp.max_age_months),
            "can_override": can_override,
        }
    )
    return render(request, "enrollment/camp_book.html", context, status=status)


# ---------------------------------------------------------------- roster


@office_view(perms.VIEW_CATALOG)
def class_roster(request, class_id: int):
    """Who comes to one meeting: enrolled students, trials and makeups, seats left."""
    klass = _class_or_404(request, class_id)
    day = _date(request.GET.get("date")) or selectors.roster_default_date(
        klass, today=clock.account_today()
    )
    return render(
        request,
        "enrollment/roster.html",
        {
            "klass": klass,
            "roster": selectors.roster(klass, day, now=clock.now()),
            "can_enroll": _can(request, perms.ENROLL),
        },
    )


# ---------------------------------------------------------------- waitlists


def _waitlist_page(request, queryset):
    page = Paginator(queryset, WAITLIST_PAGE_SIZE).get_page(request.GET.get("page"))
    start = page.start_index() if page.object_list else 1
    return page, [(start + i, entry) for i, entry in enumerate(page.object_list)]


@office_view(perms.VIEW_CATALOG)
def class_waitlist(request, class_id: int):
    klass = _class_or_404(request, class_id)
    page, rows = _waitlist_page(request, selectors.waitlist_open(klass=klass))
    return render(
        request,
        "enrollment/waitlist.html",
        {
            "klass": klass,
            "page": page,
            "rows": rows,
            "closed": selectors.waitlist_closed(klass=klass),
            "seats": selectors.next_meeting_seats(
                [klass], today=clock.account_today(), now=clock.now()
            )[klass.pk],
            "now": clock.now(),
            "can_manage": _can(request, perms.ENROLL),
            "offer_hours": selectors.enrollment_settings().offer_hours,
            "querystring": "",
        },
    )


@office_view(perms.VIEW_CATALOG)
def camp_waitlist(request, camp_id: int):
    """A camp's days with seats and waitlists; one day's campers and line."""
    camp = _camp_or_404(request, camp_id)
    overview = selectors.camp_day_overview(camp, now=clock.now())
    day_id = _int(request.GET.get("day"))
    day = next((d for d, *_ in overview if d.pk == day_id), None)
    if day_id is not None and day is None:
        raise Http404("No such camp day")
    if day is None and overview:
        today = clock.account_today()
        day = next((d for d, *_ in overview if d.date >= today), overview[-1][0])
    page, rows = (
        _waitlist_page(request, selectors.waitlist_open(camp_day=day)) if day else (None, [])
    )
    return render(
        request,
        "enrollment/camp_waitlist.html",
        {
            "camp": camp,
            "overview": overview,
            "day": day,
            "bookings": selectors.camp_day_bookings(day) if day else [],
            "page": page,
            "rows": rows,
            "closed": selectors.waitlist_closed(camp_day=day) if day else [],
            "now": clock.now(),
            "can_manage": _can(request, perms.ENROLL),
            "querystring": f"day={day.pk}" if day else "",
        },
    )


def _offered_message(offers) -> str:
    if not offers:
        return "No seat is free for the next student in line (or no one is waiting)."
    deadline = offers[0].offer_expires_at
    names = ", ".join(str(o.student) for o in offers)
    return (
        f"Seat offered to {names}. They have until "
        f"{timezone.localtime(deadline):%b %-d at %-I:%M %p} to claim it; the family was emailed."
    )


@office_view(perms.ENROLL)
@require_POST
def waitlist_offer(request, class_id: int):
    klass = _class_or_404(request, class_id)
    back = account_reverse("enrollment:waitlist", class_id=klass.pk)
    return _action(
        request, back, lambda: services.waitlist_offer_seats(klass=klass), _offered_message
    )


@office_view(perms.ENROLL)
@require_POST
def camp_day_offer(request, camp_day_id: int):
    day = get_object_or_404(CampDay.objects.select_related("camp"), pk=camp_day_id)
    _check_location(request, day.camp.location_id)
    back = account_reverse("enrollment:camp_waitlist", camp_id=day.camp_id) + f"?day={day.pk}"
    return _action(
        request, back, lambda: services.waitlist_offer_seats(camp_day=day), _offered_message
    )


def _entry_back(request, entry: WaitlistEntry) -> str:
    if entry.klass_id:
        default = account_reverse("enrollment:waitlist", class_id=entry.klass_id)
    else:
        default = (
            account_reverse("enrollment:camp_waitlist", camp_id=entry.camp_day.camp_id)
            + f"?day={entry.camp_day_id}"
        )
    return _next_or(request, default)


@office_view(perms.ENROLL)
@require_POST
def entry_claim(request, waitlist_entry_id: int):
    """Claim an open offer on the family's behalf (they phoned the desk)."""
    entry = _entry_or_404(request, waitlist_entry_id)
    return _action(
        request,
        _entry_back(request, entry),
        lambda: services.offer_claim(entry=entry, source="office"),
        lambda claimed: f"Offer claimed: {claimed}.",
    )


@office_view(perms.ENROLL)
@require_POST
def entry_decline(request, waitlist_entry_id: int):
    entry = _entry_or_404(request, waitlist_entry_id)
    return _action(
        request,
        _entry_back(request, entry),
        lambda: services.offer_decline(entry=entry),
        lambda e: f"{e.student} declined the offer; the seat goes to the next in line.",
    )


@office_view(perms.ENROLL)
@require_POST
def entry_remove(request, waitlist_entry_id: int):
    entry = _entry_or_404(request, waitlist_entry_id)
    return _action(
        request,
        _entry_back(request, entry),
        lambda: services.waitlist_leave(entry=entry),
        lambda e: f"{e.student} was taken off the waitlist.",
    )


# ---------------------------------------------------------------- requests


def _request_or_404(request, request_id) -> EnrollmentRequest:
    return get_object_or_404(selectors.request_queue(allowed=_allowed(request)), pk=request_id)


@office_view(perms.ENROLL)
def request_list(request):
    """The requests queue: pending first, filter by kind and status."""
    filters = RequestFilterForm(request.GET or None)
    criteria = filters.cleaned_data if filters.is_valid() else {}
    queryset = selectors.request_queue(
        kind=criteria.get("kind", ""),
        status=criteria.get("status", ""),
        allowed=_allowed(request),
    )
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    pending = (
        selectors.request_queue(allowed=_allowed(request))
        .filter(status=EnrollmentRequest.Status.PENDING)
        .count()
    )
    return render(
        request,
        "enrollment/requests.html",
        {
            "filters": filters,
            "page": page,
            "pending": pending,
            "querystring": _querystring(request),
        },
    )


@office_view(perms.ENROLL)
def request_detail(request, request_id: int):
    """One request: approve (which does the drop, transfer or booking) or deny."""
    req = _request_or_404(request, request_id)
    form = RequestDecideForm(
        request.POST if request.method == "POST" else None,
        decision=request.POST.get("decision"),
    )
    status = 200
    if request.method == "POST":
        if req.status != EnrollmentRequest.Status.PENDING:
            form.is_valid()
            form.add_error(None, "This request was already answered.")
            status = 400
        elif not form.is_valid():
            status = 400
        elif (
            form.decision == "approve"
            and req.kind in (EnrollmentRequest.Kind.TRIAL, EnrollmentRequest.Kind.MAKEUP)
            and req.meeting_id is None
        ):
            form.add_error(
                None,
                "That meeting is no longer scheduled (a closure or schedule change removed "
                "it). Deny the request with a message, or book another meeting from the "
                "student's page.",
            )
            status = 400
        else:
            approve = form.decision == "approve"
            decided, status, _ = _attempt(
                form,
                lambda: services.request_decide(
                    request=req, approve=approve, reply=form.cleaned_data["reply"]
                ),
            )
            if decided is not None:
                if approve:
                    messages.success(request, f"Approved. {selectors.request_outcome(decided)}")
                else:
                    messages.success(request, "Denied; the family will see your message.")
                return redirect(account_reverse("enrollment:request_detail", request_id=req.pk))
            req.refresh_from_db()
    return render(
        request,
        "enrollment/request_detail.html",
        {"req": req, "form": form, "outcome": selectors.request_outcome(req)},
        status=status,
    )


# ---------------------------------------------------------------- a student's history


@office_view(perms.VIEW_FAMILIES)
def student_detail(request, student_id: int):
    student = _student_or_404(student_id)
    today = clock.account_today()
    return render(
        request,
        "enrollment/student.html",
        {
            "student": student,
            "age": selectors.age_label(student.date_of_birth, today),
            "history": selectors.student_history(student),
            "today": today,
            "can_manage": _can(request, perms.ENROLL),
        },
    )


@office_view(perms.ENROLL)
def enrollment_drop(request, enrollment_id: int):
    """Drop with an effective date and a reason; a second step confirms what it does."""
    enrollment = _enrollment_or_404(request, enrollment_id)
    student, klass = enrollment.student, enrollment.klass
    if enrollment.status != Enrollment.Status.ACTIVE:
        messages.error(request, "This enrollment has already ended.")
        return redirect(_student_url(student))
    today = clock.account_today()
    form = DropForm(
        request.POST if request.method == "POST" else None,
        today=today,
        initial={"effective_date": max(today, enrollment.start_date)},
    )
    status, confirm = 200, None
    if request.method == "POST":
        if not form.is_valid():
            status = 400
        elif request.POST.get("confirm") != "yes":
            effective = form.cleaned_data["effective_date"]
            meetings = Meeting.objects.filter(klass=klass, date__gte=effective)
            if enrollment.end_date:
                meetings = meetings.filter(date__lte=enrollment.end_date)
            last = (
                Meeting.objects.filter(
                    klass=klass, date__lt=effective, date__gte=enrollment.start_date
                )
                .order_by("-date")
                .first()
            )
            confirm = {
                "cancels": effective <= enrollment.start_date,
                "freed": meetings.count(),
                "last_meeting": last.date if last else None,
                "after_end": enrollment.end_date is not None and effective > enrollment.end_date,
            }
        else:
            data = form.cleaned_data
            dropped, status, _ = _attempt(
                form,
                lambda: services.drop(
                    enrollment=enrollment,
                    effective_date=data["effective_date"],
                    reason=data["reason"],
                ),
            )
            if dropped is not None:
                messages.success(
                    request,
                    f"{student}'s enrollment in {klass} was cancelled."
                    if dropped.status == Enrollment.Status.CANCELLED
                    else f"{student} dropped from {klass}; last day attending "
                    f"{dropped.end_date:%b %-d, %Y}. The freed seat goes to the waitlist.",
                )
                return redirect(_student_url(student))
    return render(
        request,
        "enrollment/drop.html",
        {"enrollment": enrollment, "student": student, "form": form, "confirm": confirm},
        status=status,
    )


@office_view(perms.ENROLL)
def enrollment_transfer(request, enrollment_id: int):
    """Move a student to another class from a date: one linked history."""
    enrollment = _enrollment_or_404(request, enrollment_id)
    student = enrollment.student
    if enrollment.status != Enrollment.Status.ACTIVE:
        messages.error(request, "This enrollment has already ended.")
        return redirect(_student_url(student))
    today = clock.account_today()
    can_override = _can(request, perms.OVERRIDE_ENROLLMENT)
    classes = (
        _classes(request)
        .filter(is_active=True)
        .exclude(pk=enrollment.klass_id)
        .order_by("program__name", "name", "pk")
    )
    form = TransferForm(
        request.POST if request.method == "POST" else None,
        classes=classes,
        today=today,
        can_override=can_override,
        initial={
            "effective_date": max(today, enrollment.start_date),
            "to_class": _int(request.GET.get("to_class")),
        },
    )
    status = 200
    if request.method == "POST":
        valid = form.is_valid()
        if forged_override(form, request.POST):
            form.add_error(None, OVERRIDE_DENIED)
            status = 403
        elif not valid:
            status = 400
        else:
            data = form.cleaned_data
            new, status, _ = _attempt(
                form,
                lambda: services.transfer(
                    enrollment=enrollment,
                    to_class=data["to_class"],
                    effective_date=data["effective_date"],
                    reason=data["reason"],
                    override_reason=form.override_reason,
                ),
            )
            if new is not None:
                messages.success(
                    request,
                    f"{student} moves from {enrollment.klass} to {new.klass} on "
                    f"{new.start_date:%b %-d, %Y}.",
                )
                return redirect(_student_url(student))
    return render(
        request,
        "enrollment/transfer.html",
        {"enrollment": enrollment, "student": student, "form": form},
        status=status,
    )


def _meeting_step(request, *, until: date | None, only_with_space: bool):
    """Class picker, then the chosen class's next meetings with seats left."""
    context = _class_picker(request)
    klass = _picked_class(request)
    context["klass"] = klass
    choices: list = []
    if klass is not None:
        now = clock.now()
        meetings = Meeting.objects.filter(
            klass=klass, date__gte=clock.account_today(), starts_at__gt=now
        ).order_by("date")
        if until is not None:
            meetings = meetings.filter(date__lte=until)
        choices = selectors.meeting_seats(klass, list(meetings[:MEETING_CHOICES]), now=now)
        if only_with_space:
            choices = [(m, left) for m, left in choices if left > 0]
    return context, choices


@office_view(perms.ENROLL)
def trial_book(request, student_id: int):
    """Book a trial: one visit on one meeting, counted against its capacity."""
    student = _student_or_404(student_id)
    if request.htmx and request.htmx.target == "class-results":
        return render(request, "enrollment/_class_results.html", _class_picker(request))
    context, choices = _meeting_step(request, until=None, only_with_space=False)
    can_override = _can(request, perms.OVERRIDE_ENROLLMENT)
    form = MeetingForm(
        request.POST if request.method == "POST" else None,
        choices=choices,
        can_override=can_override,
    )
    status = 200
    if request.method == "POST":
        valid = form.is_valid()
        if forged_override(form, request.POST):
            form.add_error(None, OVERRIDE_DENIED)
            status = 403
        elif not valid:
            status = 400
        else:
            visit, status, _ = _attempt(
                form,
                lambda: services.trial_book(
                    student=student,
                    meeting=form.cleaned_data["meeting"],
                    override_reason=form.override_reason,
                ),
            )
            if visit is not None:
                messages.success(request, f"Trial booked: {student} on {visit.meeting}.")
                return redirect(_student_url(student))
    context.update(
        {
            "student": student,
            "form": form,
            "has_choices": bool(choices),
            "title": "Book a trial",
            "button": "Book trial",
        }
    )
    return render(request, "enrollment/meeting_pick.html", context, status=status)


@office_view(perms.ENROLL)
def makeup_issue(request, student_id: int):
    student = _student_or_404(student_id)
    today = clock.account_today()
    form = MakeupIssueForm(
        request.POST if request.method == "POST" else None,
        today=today,
        initial={"expires_on": today + timedelta(days=90)},
    )
    status = 200
    if request.method == "POST":
        if not form.is_valid():
            status = 400
        else:
            token, status, _ = _attempt(
                form,
                lambda: services.makeup_issue(
                    student=student,
                    reason=form.cleaned_data["reason"],
                    expires_on=form.cleaned_data["expires_on"],
                ),
            )
            if token is not None:
                messages.success(
                    request,
                    f"Makeup issued to {student}, to use by {token.expires_on:%b %-d, %Y}.",
                )
                return redirect(_student_url(student))
    return render(
        request,
        "enrollment/makeup_issue.html",
        {"student": student, "form": form},
        status=status,
    )


@office_view(perms.ENROLL)
def makeup_book(request, makeup_id: int):
    """Spend a makeup token on a meeting with space before it expires."""
    token = get_object_or_404(MakeupToken.objects.select_related("student__family"), pk=makeup_id)
    student = token.student
    if token.status != MakeupToken.Status.AVAILABLE:
        messages.error(request, "This makeup has already been used or cancelled.")
        return redirect(_student_url(student))
    if request.htmx and request.htmx.target == "class-results":
        return render(request, "enrollment/_class_results.html", _class_picker(request))
    context, choices = _meeting_step(request, until=token.expires_on, only_with_space=True)
    form = MeetingForm(request.POST if request.method == "POST" else None, choices=choices)
    status = 200
    if request.method == "POST":
        if not form.is_valid():
            status = 400
        else:
            visit, status, _ = _attempt(
                form,
                lambda: services.makeup_redeem(token=token, meeting=form.cleaned_data["meeting"]),
            )
            if visit is not None:
                messages.success(request, f"Makeup booked: {student} on {visit.meeting}.")
                return redirect(_student_url(student))
    context.update(
        {
            "student": student,
            "token": token,
            "form": form,
            "has_choices": bool(choices),
            "title": "Book a makeup",
            "button": "Book makeup",
        }
    )
    return render(request, "enrollment/meeting_pick.html", context, status=status)


@office_view(perms.ENROLL)
@require_POST
def visit_cancel(request, visit_id: int):
    visit = get_object_or_404(
        Visit.objects.select_related("student", "meeting__klass"), pk=visit_id
    )
    _check_location(request, visit.meeting.klass.location_id)
    return _action(
        request,
        _next_or(request, _student_url(visit.student)),
        lambda: services.visit_cancel(visit=visit, reason="Cancelled by the office"),
        lambda v: (
            f"{v.get_kind_display()} on {v.meeting} cancelled"
            + ("; the makeup can be used again." if v.kind == Visit.Kind.MAKEUP else ".")
        ),
    )


@office_view(perms.ENROLL)
@require_POST
def booking_cancel(request, booking_id: int):
    booking = get_object_or_404(
        CampBooking.objects.select_related("student", "camp_day__camp"), pk=booking_id
    )
    _check_location(request, booking.camp_day.camp.location_id)
    return _action(
        request,
        _next_or(request, _student_url(booking.student)),
        lambda: services.camp_cancel(booking=booking, reason="Cancelled by the office"),
        lambda b: f"{b.student} no longer comes to {b.camp_day}.",
    )


# ---------------------------------------------------------------- settings


@office_view(perms.MANAGE_SETTINGS)
def enrollment_settings(request):
    current = selectors.enrollment_settings()
    form = SettingsForm(
        request.POST if request.method == "POST" else None,
        initial={"hold_minutes": current.hold_minutes, "offer_hours": current.offer_hours},
    )
    status = 200
    if request.method == "POST":
        if not form.is_valid():
            status = 400
        else:
            saved, status, _ = _attempt(
                form,
                lambda: services.settings_update(
                    hold_minutes=form.cleaned_data["hold_minutes"],
                    offer_hours=form.cleaned_data["offer_hours"],
                ),
            )
            if saved is not None:
                messages.success(request, "Enrollment timers saved.")
                return redirect(account_reverse("enrollment:settings"))
    return render(request, "enrollment/settings.html", {"form": form}, status=status)
