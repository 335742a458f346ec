"""Public portal pages: home, class finder, class list, calendar, camps, cart, checkout.

Thin: parse, call a selector or service, render. Every amount is computed on the server
(``portal.pricing``); every claim goes through ``enrollment.services`` and is re-checked
there under the seat lock.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import replace
from datetime import date, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from classbook.accounts.models import Location
from classbook.catalog import weekdays
from classbook.catalog.models import CampDay, CampOption, Class, Level
from classbook.core import clock
from classbook.core.errors import ClassbookError, ValidationFailed
from classbook.core.forms import add_service_errors
from classbook.core.money import Money
from classbook.core.urls import account_reverse
from classbook.enrollment import services as enrollment
from classbook.enrollment.locking import SeatsBusy
from classbook.enrollment.models import Hold
from classbook.enrollment.selectors import enrollment_settings
from classbook.enrollment.services import EnrollmentRefused, HoldRequest
from classbook.families import services as families
from classbook.families.models import Guardian, PolicyAcceptance, Student
from classbook.families.selectors import open_policy_versions
from classbook.payments.gateway import GatewayRefused, GatewayUnavailable
from classbook.payments.models import PaymentAttempt
from classbook.payments.selectors import gateway_settings, saved_cards
from classbook.portal import cart as carts
from classbook.portal import checkout as completing
from classbook.portal import selectors, services
from classbook.portal.access import (
    booking_allowed,
    portal_view,
    refuse_in_preview,
    render_portal,
)
from classbook.portal.forms import (
    AddToCartForm,
    CheckoutPayForm,
    ClassFilterForm,
    SignupForm,
    StudentFormSet,
    WhenForm,
    WhoForm,
)
from classbook.portal.models import Checkout, PortalSettings
from classbook.portal.pricing import cart_quote
from classbook.portal.selectors import FinderFilter, Who, level_info

BACKEND = "classbook.accounts.auth.AccountUserBackend"
UNREACHABLE = (
    "The card processor could not be reached. Nothing was charged; please try again in a minute."
)


def _locations() -> list[Location]:
    return list(Location.objects.filter(is_active=True).order_by("name"))


def _safe_next(request, target: str, fallback: str) -> str:
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


# --- home, logo, old addresses ------------------------------------------------------------


@portal_view()
def home(request):
    return render_portal(
        request,
        "portal/home.html",
        {"locations": Location.objects.filter(is_active=True).order_by("name")},
    )


def account_root(request):
    return redirect(account_reverse("portal:home"))


def logo(request):
    settings = PortalSettings.objects.filter(logo_content_type__gt="").first()
    if settings is None:
        raise Http404("No logo")
    response = HttpResponse(bytes(settings.logo_image), content_type=settings.logo_content_type)
    response["Cache-Control"] = "public, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    return response


OLD_ADDRESSES = {
    "": "portal:home",
    "login": "portal:login",
    "classes": "portal:classes",
    "class-search": "portal:find",
    "search": "portal:find",
    "calendar": "portal:calendar",
    "camps": "portal:camps",
    "cart": "portal:cart",
    "account": "portal:my_family",
    "dashboard": "portal:my_family",
    "family": "portal:my_family",
}


def old_address(request, rest: str = ""):
    """``/<account>/parent/...`` (the address the business used before): moved for good
    to the portal (301), keeping the query string."""
    first = rest.strip("/").split("/")[0].lower()
    target = account_reverse(OLD_ADDRESSES.get(first, "portal:home"))
    query = request.META.get("QUERY_STRING", "")
    return HttpResponsePermanentRedirect(f"{target}?{query}" if query else target)


# --- who, from the wizard or an add-to-cart form ------------------------------------------


def _family_students(request) -> list[Student]:
    if request.guardian is None:
        return []
    return list(
        Student.objects.filter(family=request.guardian.family, is_active=True).select_related(
            "level"
        )
    )


def _student_of_family(request, raw) -> Student | None:
    """A student id from a form, only if it is one of the signed-in family's students."""
    if request.guardian is None or raw in (None, ""):
        return None
    try:
        pk = int(raw)
    except (TypeError, ValueError):
        return None
    return (
        Student.objects.filter(pk=pk, family=request.guardian.family, is_active=True)
        .select_related("level")
        .first()
    )


def _level(raw, program_id: int | None = None) -> Level | None:
    try:
        pk = int(raw)
    except (TypeError, ValueError):
        return None
    levels = Level.objects.filter(pk=pk, is_active=True)
    if program_id:
        levels = levels.filter(program_id=program_id)
    return levels.first()


# --- the class finder wizard --------------------------------------------------------------


def _answers(params, names) -> list[tuple[str, str]]:
    found = []
    for name in names:
        for value in params.getlist(name):
            found.append((name, value))
    return found


def _change_link(params, drop: list[str]) -> str:
    kept = [(k, v) for k in params for v in params.getlist(k) if k not in drop]
    return f"{account_reverse('portal:find')}?{urlencode(kept)}"


@portal_view(registration=True)
def find(request):
    """Location → who → program/level → day/time → eligible classes, one GET step at a
    time (works without JavaScript; each answer is carried in the address)."""
    params, now = request.GET, clock.now()
    context: dict = {"params": params}
    locations = _locations()
    # 1. where
    location = None
    raw = params.get("location", "")
    if len(locations) == 1:
        location = locations[0]
    elif raw and raw != "any":
        location = next((loc for loc in locations if str(loc.pk) == raw), None)
    if location is None and raw != "any" and len(locations) > 1:
        return render_portal(
            request, "portal/find.html", {**context, "step": "location", "locations": locations}
        )
    context["location"] = location
    # 2. who
    students = _family_students(request)
    student = _student_of_family(request, params.get("student"))
    who_form = WhoForm(params if "dob" in params else None)
    who = None
    if student is not None:
        who = Who.of_student(student)
    elif who_form.is_bound and who_form.is_valid():
        data = who_form.cleaned_data
        who = Who(birth_date=data["dob"], gender=data["gender"], label="your child")
    if who is None:
        return render_portal(
            request,
            "portal/find.html",
            {
                **context,
                "step": "who",
                "who_form": who_form,
                "students": students,
                "hidden": _answers(params, ["location"]),
            },
            status=400 if who_form.errors else 200,
        )
    context.update(who=who, student=student)
    # 3. program and level
    programs = selectors.portal_programs(location.pk if location else None)
    raw_program = params.get("program")
    if raw_program is None:
        return render_portal(
            request,
            "portal/find.html",
            {
                **context,
                "step": "program",
                "programs": programs,
                "hidden": _answers(params, ["location", "student", "dob", "gender"]),
                "change_who": _change_link(
                    params, ["student", "dob", "gender", "program", "level"]
                ),
            },
        )
    program = next((p for p in programs if str(p.pk) == raw_program), None)
    if student is None and program is not None:
        chosen = next(
            (lv for lv in (_level(v, program.pk) for v in params.getlist("level")) if lv), None
        )
        who = replace(who, level=level_info(chosen))
        context["chosen_level"] = chosen
    context.update(program=program, who=who)
    # 4. when
    if "when" not in params:
        return render_portal(
            request,
            "portal/find.html",
            {
                **context,
                "step": "when",
                "when_form": WhenForm(),
                "hidden": _answers(params, ["location", "student", "dob", "gender", "program"])
                + (
                    [("level", str(context["chosen_level"].pk))]
                    if context.get("chosen_level")
                    else []
                ),
            },
        )
    when = WhenForm(params)
    when.is_valid()
    days = tuple(int(d) for d in when.cleaned_data.get("days", []))
    cards = selectors.class_cards(
        FinderFilter(
            location_id=location.pk if location else None,
            program_id=program.pk if program else None,
            weekdays=days,
            time_of_day=when.cleaned_data.get("time", ""),
        ),
        now=now,
        use_cache=True,
    )
    results, others = [], 0
    for card in cards:
        if card.refusals(who):
            others += 1
            continue
        results.append((card, card.registration_note(now)))
    return render_portal(
        request,
        "portal/find.html",
        {
            **context,
            "step": "results",
            "results": results,
            "others": others,
            "days": [weekdays.NAMES[d] for d in days],
            "time_label": dict(WhenForm.base_fields["time"].choices).get(
                when.cleaned_data.get("time", ""), "Any time"
            ),
            "who_fields": _who_fields(student, who),
            "back": request.get_full_path(),
            "start_over": account_reverse("portal:find"),
        },
    )


def _who_fields(student: Student | None, who: Who) -> list[tuple[str, str]]:
    """Hidden fields that tell ``cart_add`` who a class is for."""
    if student is not None:
        return [("student", str(student.pk))]
    fields = [("dob", who.birth_date.isoformat()), ("gender", who.gender)]
    if who.level is not None:
        fields.append(("level", str(who.level.pk)))
    return fields


# --- the plain list, the calendar, one class ----------------------------------------------


def _filters(request):
    locations = _locations()
    form = ClassFilterForm(
        request.GET or None, locations=locations, programs=selectors.portal_programs()
    )
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    day = data.get("day")
    filters = FinderFilter(
        location_id=data.get("location") or None,
        program_id=data.get("program") or None,
        weekdays=(day,) if day is not None and day != "" else (),
    )
    return form, filters, data.get("age")


def _age_fits(card, age_years) -> bool:
    if age_years is None:
        return True
    youngest, oldest = age_years * 12, age_years * 12 + 11
    return (card.min_age_months is None or card.min_age_months <= oldest) and (
        card.max_age_months is None or card.max_age_months >= youngest
    )


@portal_view(registration=True)
def class_list(request):
    form, filters, age = _filters(request)
    cards = [
        c
        for c in selectors.class_cards(filters, now=clock.now(), use_cache=True)
        if _age_fits(c, age)
    ]
    return render_portal(
        request,
        "portal/class_list.html",
        {"form": form, "cards": cards, "query": request.GET.urlencode()},
    )


@portal_view(registration=True)
def calendar(request):
    form, filters, age = _filters(request)
    today = clock.account_today()
    try:
        week = date.fromisoformat(request.GET.get("week", ""))
    except ValueError:
        week = today
    week = weekdays.week_start(max(week, weekdays.week_start(today)))
    cards = [
        c
        for c in selectors.class_cards(filters, now=clock.now(), use_cache=True)
        if _age_fits(c, age)
    ]
    query = request.GET.copy()
    query.pop("week", None)

    def week_link(day):
        q = query.copy()
        q["week"] = day.isoformat()
        return f"?{q.urlencode()}"

    return render_portal(
        request,
        "portal/calendar.html",
        {
            "form": form,
            "week": week,
            "days": selectors.week_meetings(cards, week_start=week),
            "previous": week_link(week - timedelta(days=7))
            if week > weekdays.week_start(today)
            else "",
            "next": week_link(week + timedelta(days=7)),
        },
    )


@portal_view(registration=True)
def class_detail(request, class_id: int):
    now = clock.now()
    card = selectors.class_card(class_id, now=now)
    if card is None:
        raise Http404("No such class in this portal")
    student = _student_of_family(request, request.GET.get("student"))
    return render_portal(
        request,
        "portal/class_detail.html",
        {
            "card": card,
            "meetings": selectors.upcoming_meetings(class_id, now=now),
            "registration_note": card.registration_note(now),
            "students": _family_students(request),
            "chosen": student,
            "refusals": card.refusals(Who.of_student(student)) if student else [],
            "form": AddToCartForm(),
        },
    )


# --- camps --------------------------------------------------------------------------------


@portal_view(registration=True)
def camps(request):
    form, filters, age = _filters(request)
    cards = [
        c
        for c in selectors.camp_cards(
            today=clock.account_today(),
            now=clock.now(),
            location_id=filters.location_id,
            program_id=filters.program_id,
        )
        if _age_fits(c, age)
    ]
    weeks: dict[date, list] = {}
    for card in cards:
        weeks.setdefault(card.week_of, []).append(card)
    return render_portal(
        request, "portal/camps.html", {"form": form, "weeks": sorted(weeks.items())}
    )


@portal_view(registration=True)
def camp_detail(request, camp_id: int):
    now = clock.now()
    cards = selectors.camp_cards(today=clock.account_today(), now=now, camp_ids=(camp_id,))
    if not cards:
        raise Http404("No such camp in this portal")
    return render_portal(
        request,
        "portal/camp_detail.html",
        {
            "card": cards[0],
            "registration_note": cards[0].registration_note(now),
            "students": _family_students(request),
        },
    )


# --- the cart -----------------------------------------------------------------------------


def _refused(request, reasons: list[str], *, status: int, card=None, back: str = "", **extra):
    return render_portal(
        request,
        "portal/refused.html",
        {"reasons": reasons, "card": card, "back": back, **extra},
        status=status,
    )


def _who_for_add(request, form: AddToCartForm, program_id: int | None):
    """(student, who, child label) for an add-to-cart form, or raise ValidationFailed."""
    data = form.cleaned_data
    if data.get("student") is not None:
        student = _student_of_family(request, data["student"])
        if student is None:
            raise ValidationFailed("Choose one of your family's students.")
        return student, Who.of_student(student), student.full_name
    level = _level(data.get("level"), program_id) if data.get("level") else None
    who = Who(birth_date=data["dob"], gender=data.get("gender", ""), level=level_info(level))
    label = f"Child born {data['dob']:%b %-d, %Y}"
    return None, who, label


@portal_view(registration=True)
@require_POST
def cart_add(request, class_id: int):
    """Hold a seat in a class for the cart (``enrollment.services.hold_seats``)."""
    if not booking_allowed(request):
        return refuse_in_preview(request)
    now = clock.now()
    form = AddToCartForm(request.POST)
    back = _safe_next(
        request, request.POST.get("next", ""), account_reverse("portal:class", class_id=class_id)
    )
    klass = (
        Class.objects.filter(pk=class_id, is_active=True, portal_visible=True)
        .select_related("program", "term", "location")
        .first()
    )
    card = selectors.class_card(class_id, now=now) if klass else None
    if card is None:
        return _refused(
            request, ["That class is not offered here (any more)."], status=404, back=back
        )
    if not form.is_valid():
        reasons = [e for errors in form.errors.values() for e in errors]
        return _refused(request, reasons, status=400, card=card, back=back)
    try:
        student, who, label = _who_for_add(request, form, klass.program_id)
    except ValidationFailed as error:
        return _refused(request, [str(error)], status=400, card=card, back=back)
    reasons = card.refusals(who)
    note = card.registration_note(now)
    if reasons or note:
        return _refused(
            request, [*reasons, *([note] if note else [])], status=400, card=card, back=back
        )
    cart = _open_cart(request)
    already = Hold.objects.filter(cart=cart, klass=klass, expires_at__gt=now)
    already = already.filter(student=student) if student else already.filter(child_label=label)
    if already.exists():
        messages.info(request, f"{klass} is already in your cart for {label}.")
        return redirect(account_reverse("portal:cart"))
    try:
        held = enrollment.hold_seats(
            cart=cart,
            requests=[
                HoldRequest(
                    klass=klass, start_date=card.start_date, student=student, child_label=label
                )
            ],
        )
    except EnrollmentRefused as refused:
        return _refused(
            request,
            refused.reasons,
            status=409 if refused.full else 400,
            card=card,
            back=back,
            full=refused.full,
            student=student,
        )
    except SeatsBusy as busy:
        return _refused(request, [str(busy)], status=409, card=card, back=back)
    enrollment.holds_touch(cart=cart)
    carts.remember_child(
        request,
        held[0].pk,
        dob=who.birth_date.isoformat(),
        gender=who.gender,
        level_id=who.level.pk if who.level else None,
        label=label,
    )
    minutes = enrollment_settings().hold_minutes
    messages.success(
        request,
        f"A seat in {klass} is held for {label} for {minutes} minutes. "
        "Check out before the timer runs out.",
    )
    return redirect(account_reverse("portal:cart"))


@portal_view(registration=True)
@require_POST
def camp_add(request, camp_id: int):
    if not booking_allowed(request):
        return refuse_in_preview(request)
    now, today = clock.now(), clock.account_today()
    back = account_reverse("portal:camp", camp_id=camp_id)
    cards = selectors.camp_cards(today=today, now=now, camp_ids=(camp_id,))
    if not cards:
        return _refused(
            request, ["That camp is not offered here (any more)."], status=404, back=back
        )
    card = cards[0]
    form = AddToCartForm(request.POST)
    if not form.is_valid():
        return _refused(
            request, [e for errors in form.errors.values() for e in errors], status=400, back=back
        )
    try:
        student, who, label = _who_for_add(request, form, None)
    except ValidationFailed as error:
        return _refused(request, [str(error)], status=400, back=back)
    option = CampOption.objects.filter(pk=_int(request.POST.get("option")), camp_id=camp_id).first()
    if option is None:
        return _refused(request, ["Choose full day or half day."], status=400, back=back)
    open_days = {d.id for d in card.days}
    if card.whole:
        day_ids = sorted(open_days)
    else:
        day_ids = sorted({_int(v) for v in request.POST.getlist("days")} & open_days)
        if not day_ids:
            return _refused(request, ["Choose one or more days."], status=400, back=back)
    reasons = card.refusals(who)
    note = card.registration_note(now)
    if reasons or note:
        return _refused(request, [*reasons, *([note] if note else [])], status=400, back=back)
    days = list(CampDay.objects.filter(pk__in=day_ids, camp_id=camp_id).select_related("camp"))
    cart = _open_cart(request)
    try:
        held = enrollment.hold_seats(
            cart=cart,
            requests=[
                HoldRequest(camp_day=day, camp_option=option, student=student, child_label=label)
                for day in days
            ],
        )
    except EnrollmentRefused as refused:
        return _refused(
            request,
            refused.reasons,
            status=409 if refused.full else 400,
            back=back,
            full=refused.full,
            camp=card,
        )
    except SeatsBusy as busy:
        return _refused(request, [str(busy)], status=409, back=back)
    enrollment.holds_touch(cart=cart)
    for hold in held:
        carts.remember_child(
            request,
            hold.pk,
            dob=who.birth_date.isoformat(),
            gender=who.gender,
            level_id=None,
            label=label,
        )
    messages.success(request, f"{card.name} ({option.get_kind_display()}) is held for {label}.")
    return redirect(account_reverse("portal:cart"))


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _open_cart(request) -> str:
    """The cart to add to: a cart whose payment is under way (or done) is closed to new
    seats, so a settlement never enrolls what was not paid for."""
    key = carts.cart_key(request, create=True)
    if Checkout.objects.filter(cart=key).exclude(status=Checkout.Status.OPEN).exists():
        carts.cart_new(request)
        key = carts.cart_key(request, create=True)
    return key


def _release_expired(request, holds, now) -> list:
    """Free the seats of holds whose timer ran out (they stopped counting already) and
    tell the parent plainly. Returns the holds still live."""
    expired = [h for h in holds if h.expires_at <= now]
    live = [h for h in holds if h.expires_at > now]
    if expired:
        minutes = enrollment_settings().hold_minutes
        names = ", ".join(sorted({str(h.klass or h.camp_day.camp) for h in expired}))
        for hold in expired:
            enrollment.hold_release(hold=hold)
        messages.warning(
            request,
            f"Your reservation ran out (seats are held for {minutes} minutes), so these "
            f"seats were released for other families: {names}. Add them again if they are "
            "still free.",
        )
    return live


@portal_view(registration=True)
def cart(request):
    """The cart: every view extends the holds (``holds_touch``); expired ones are
    released and the parent is told."""
    key, now = carts.cart_key(request), clock.now()
    holds = selectors.cart_holds(key)
    live = _release_expired(request, holds, now) if booking_allowed(request) else holds
    expires = enrollment.holds_touch(cart=key) if live and booking_allowed(request) else None
    prices = selectors.price_labels([h.klass for h in live if h.klass_id], request.account.currency)
    return render_portal(
        request,
        "portal/cart.html",
        {
            "holds": [(h, prices.get(h.klass_id, "")) for h in live],
            "expires": expires,
            "now": clock.now(),
            "hold_minutes": enrollment_settings().hold_minutes,
            "children": carts.children(request),
        },
    )


def cart_status(request):
    """When the cart's holds run out, for the countdown (JSON; does not extend them)."""
    key, now = carts.cart_key(request), clock.now()
    live = Hold.objects.filter(cart=key, expires_at__gt=now) if key else Hold.objects.none()
    first = live.order_by("expires_at").values_list("expires_at", flat=True).first()
    return JsonResponse(
        {
            "expires_at": first.isoformat() if first else None,
            "now": now.isoformat(),
            "count": live.count(),
        },
        headers={"Cache-Control": "no-store"},
    )


@portal_view(registration=True)
@require_POST
def cart_remove(request, hold_id: int):
    if not booking_allowed(request):
        return refuse_in_preview(request)
    key = carts.cart_key(request)
    hold = (
        Hold.objects.filter(pk=hold_id, cart=key).select_related("klass", "camp_day").first()
        if key
        else None
    )
    if Checkout.objects.filter(cart=key, status=Checkout.Status.PAYING).exists():
        messages.warning(
            request, "A payment for this cart is being confirmed; it cannot change meanwhile."
        )
    elif hold is None:
        messages.info(request, "That seat was already removed from your cart.")
    else:
        enrollment.hold_release(hold=hold)
        messages.success(request, f"Removed {hold.klass or hold.camp_day} from your cart.")
    return redirect(account_reverse("portal:cart"))


@portal_view(registration=True)
@require_POST
def waitlist_join(request, class_id: int):
    """Join a full class's waitlist (a signed-in family's student)."""
    if not booking_allowed(request):
        return refuse_in_preview(request)
    if request.guardian is None:
        return redirect(
            f"{account_reverse('portal:login')}?next="
            f"{account_reverse('portal:class', class_id=class_id)}"
        )
    now = clock.now()
    card = selectors.class_card(class_id, now=now)
    student = _student_of_family(request, request.POST.get("student"))
    if card is None or student is None:
        return _refused(
            request, ["Choose one of your students and a class of this business."], status=400
        )
    reasons = card.refusals(Who.of_student(student))
    if reasons:
        return _refused(request, reasons, status=400, card=card)
    klass = Class.objects.get(pk=class_id)
    try:
        enrollment.waitlist_join(student=student, klass=klass, start_date=card.start_date)
    except ValidationFailed as error:
        messages.info(request, str(error))
    else:
        messages.success(
            request,
            f"{student.first_name} is on the waitlist for {klass}. When a seat opens we offer "
            "it by email; you then claim it on your family page before the deadline.",
        )
    return redirect(account_reverse("portal:my_family"))


# --- checkout -----------------------------------------------------------------------------


def _signup_students(request, holds) -> list[dict]:
    """Initial student forms from what the parent told us about each held seat."""
    seen, initial = set(), []
    for hold in holds:
        child = carts.children(request).get(str(hold.pk), {})
        dob = child.get("dob")
        if dob and dob not in seen:
            seen.add(dob)
            gender = {"female": "female", "male": "male"}.get(child.get("gender"), "unspecified")
            initial.append({"date_of_birth": dob, "gender": gender, "level": child.get("level")})
    return initial or [{}]


def _auto_assign(request, key: str, holds, family) -> None:
    """Give each unassigned seat to the family's only student who fits it (and, when the
    parent gave a date of birth, was born that day)."""
    now = clock.now()
    students = list(Student.objects.filter(family=family, is_active=True).select_related("level"))
    for hold in holds:
        if hold.student_id is not None:
            continue
        dob = carts.children(request).get(str(hold.pk), {}).get("dob")
        fits = [
            s
            for s in students
            if (not dob or s.date_of_birth.isoformat() == dob)
            and not selectors.seat_refusals(hold, s, now=now)
        ]
        if len(fits) == 1:
            try:
                services.hold_assign_student(cart=key, hold=hold, family=family, student=fits[0])
            except ValidationFailed:
                continue


def _policies_to_accept(family) -> list:
    accepted = set(
        PolicyAcceptance.objects.filter(family=family).values_list("policy_version_id", flat=True)
    )
    return [v for v in open_policy_versions() if v.pk not in accepted]


def _checkout_context(request, key: str, family, *, pay_form=None, assign_errors=None) -> dict:
    holds = [h for h in selectors.cart_holds(key) if h.expires_at > clock.now()]
    students = list(Student.objects.filter(family=family, is_active=True))
    unassigned = [h for h in holds if h.student_id is None]
    quote = None if unassigned else cart_quote(holds=holds, family=family)
    gateway = gateway_settings()
    cards = saved_cards(family)
    if pay_form is None:
        pay_form = CheckoutPayForm(
            cards=cards,
            pay_later=request.portal.allow_pay_later,
            new_card=gateway is not None,
            free=quote is not None and quote.due_cents == 0,
            initial={
                "request_token": secrets.token_urlsafe(16),
                "total_cents": quote.total_cents if quote else 0,
            },
        )
    first = min((h.expires_at for h in holds), default=None)
    return {
        "holds": holds,
        "students": students,
        "unassigned": unassigned,
        "assign_errors": assign_errors or {},
        "quote": quote,
        "policies": _policies_to_accept(family),
        "pay_form": pay_form,
        "gateway": gateway,
        "expires": first,
        "now": clock.now(),
        "family": family,
    }


@portal_view(registration=True)
def checkout(request):
    if not booking_allowed(request):
        return refuse_in_preview(request)
    key = carts.cart_key(request)
    now = clock.now()
    holds = _release_expired(request, selectors.cart_holds(key), now)
    if not holds:
        messages.info(request, "Your cart is empty. Find a class first.")
        return redirect(account_reverse("portal:cart"))
    enrollment.holds_touch(cart=key)
    if request.guardian is None:
        return render_portal(
            request,
            "portal/checkout_start.html",
            {"holds": holds, "login_next": account_reverse("portal:checkout")},
        )
    family = request.guardian.family
    _auto_assign(request, key, holds, family)
    return render_portal(request, "portal/checkout.html", _checkout_context(request, key, family))


@portal_view(registration=True)
def checkout_signup(request):
    """Create the family (guardian, students, emergency contact) and its login, then go on
    with the checkout signed in."""
    if not booking_allowed(request):
        return refuse_in_preview(request)
    if request.guardian is not None:
        return redirect(account_reverse("portal:checkout"))
    key = carts.cart_key(request)
    holds = [h for h in selectors.cart_holds(key) if h.expires_at > clock.now()]
    if key and holds:
        enrollment.holds_touch(cart=key)
    count = max(
        1, min(_int(request.GET.get("students")) or len(_signup_students(request, holds)), 6)
    )
    form = SignupForm(request.POST or None)
    levels = list(
        Level.objects.filter(is_active=True, program__is_active=True).select_related("program")
    )
    students = StudentFormSet(
        request.POST or None,
        prefix="students",
        initial=None if request.POST else (_signup_students(request, holds) + [{}] * 6)[:count],
        form_kwargs={"levels": levels},
    )
    if request.method == "POST" and form.is_valid() and students.is_valid():
        try:
            user = _create_family(
                form.cleaned_data, [f.cleaned_data for f in students.forms if f.cleaned_data]
            )
        except ValidationFailed as error:
            add_service_errors(form, error)
            _student_errors(students, error)
        else:
            login(request, user, backend=BACKEND)
            from classbook.staff.access import SESSION_ACCOUNT_KEY

            request.session[SESSION_ACCOUNT_KEY] = request.account.pk
            messages.success(request, "Your family account is ready. Now finish the checkout.")
            return redirect(account_reverse("portal:checkout"))
    return render_portal(
        request,
        "portal/signup.html",
        {"form": form, "students": students, "count": count, "holds": holds},
        status=400 if request.method == "POST" else 200,
    )


def _student_errors(formset, error: ValidationFailed) -> None:
    for field, messages_ in error.errors.items():
        if field.startswith("students."):
            _, index, name = field.split(".", 2)
            form = formset.forms[int(index)] if int(index) < len(formset.forms) else None
            if form is not None:
                for message in messages_:
                    form.add_error(name if name in form.fields else None, message)


@transaction.atomic
def _create_family(data: dict, students: list[dict]):
    """The family, its first guardian and students, the emergency contact (families
    services) and the login (``portal.services.guardian_login_create``): all or nothing."""
    family = families.family_create(
        details=families.FamilyDetails(name=data["last_name"]),
        guardian=families.GuardianDetails(
            first_name=data["first_name"],
            last_name=data["last_name"],
            email=data["email"],
            mobile_phone=data["mobile_phone"],
        ),
        students=[
            families.StudentDetails(
                first_name=s["first_name"],
                last_name=s["last_name"],
                date_of_birth=s["date_of_birth"],
                gender=s["gender"],
                medical_notes=s.get("medical_notes", ""),
                allergies=s.get("allergies", ""),
                level=Level.objects.filter(pk=s.get("level")).first() if s.get("level") else None,
            )
            for s in students
        ],
        allow_duplicate=True,  # a parent cannot see other families; the office merges
    )
    families.contact_add(
        family=family,
        name=data["contact_name"],
        phone=data["contact_phone"],
        relationship=data.get("contact_relationship", ""),
    )
    guardian = Guardian.objects.get(family=family, is_primary=True)
    return services.guardian_login_create(guardian=guardian, password=data["password1"])


@portal_view(registration=True)
@require_POST
def checkout_assign(request):
    """Say which student each held seat is for (re-checking the rules for them)."""
    if not booking_allowed(request):
        return refuse_in_preview(request)
    if request.guardian is None:
        return redirect(account_reverse("portal:checkout"))
    key, family = carts.cart_key(request), request.guardian.family
    errors: dict[int, list[str]] = {}
    for hold in selectors.cart_holds(key):
        raw = request.POST.get(f"hold_{hold.pk}")
        if raw in (None, ""):
            continue
        student = _student_of_family(request, raw)
        if student is None:
            errors[hold.pk] = ["Choose one of your family's students."]
            continue
        if hold.student_id == student.pk:
            continue
        try:
            services.hold_assign_student(cart=key, hold=hold, family=family, student=student)
        except ValidationFailed as error:
            errors[hold.pk] = [m for msgs in error.errors.values() for m in msgs]
    if key:
        enrollment.holds_touch(cart=key)
    if errors:
        return render_portal(
            request,
            "portal/checkout.html",
            _checkout_context(request, key, family, assign_errors=errors),
            status=400,
        )
    return redirect(account_reverse("portal:checkout"))


@portal_view(registration=True)
@require_POST
def checkout_card_setup(request):
    """A SetupIntent's client secret, so the gateway's script can tokenize a new card in
    the browser (JSON; the card never reaches us)."""
    if request.guardian is None or not booking_allowed(request):
        return JsonResponse({"error": "Sign in first."}, status=403)
    return _card_setup_json(request.guardian.family)


def _card_setup_json(family):
    try:
        client_secret = completing.card_setup_secret(family)
    except ValidationFailed as error:
        return JsonResponse({"error": str(error)})
    except GatewayUnavailable:
        return JsonResponse({"error": UNREACHABLE})
    except GatewayRefused as exc:
        return JsonResponse({"error": f"The card processor refused: {exc}"})
    return JsonResponse({"client_secret": client_secret})


@portal_view(registration=True)
@require_POST
def checkout_pay(request):
    """Pay (or choose to pay later) for the cart, exactly once.

    Every amount is recomputed here; the page's total is only compared with it, so a
    changed form or a cart changed in another tab never charges what the parent did not
    see. The checkout claim (``checkout_begin``) lets one request through; payment_take's
    request token makes a double submit find the same payment attempt.
    """
    if not booking_allowed(request):
        return refuse_in_preview(request)
    if request.guardian is None:
        return redirect(account_reverse("portal:checkout"))
    key, family, now = carts.cart_key(request), request.guardian.family, clock.now()
    done = Checkout.objects.filter(cart=key).first() if key else None
    if done is not None and done.is_done:
        return _to_done(request, done)
    holds = _release_expired(request, selectors.cart_holds(key), now)
    if not holds:
        messages.error(
            request,
            "Your reservation ran out before you paid, so the seats were released. Nothing "
            "was charged. Add the classes again if they are still free.",
        )
        return redirect(account_reverse("portal:cart"))
    enrollment.holds_touch(cart=key)
    context = _checkout_context(request, key, family)
    quote = context["quote"]
    form = CheckoutPayForm(
        request.POST,
        cards=saved_cards(family),
        pay_later=request.portal.allow_pay_later,
        new_card=context["gateway"] is not None,
        free=quote is not None and quote.due_cents == 0,
    )
    context["pay_form"] = form
    if context["unassigned"]:
        form.add_error(None, "Choose who each seat is for first.")
        return render_portal(request, "portal/checkout.html", context, status=400)
    missing = [v for v in context["policies"] if request.POST.get(f"accept_{v.pk}") != "on"]
    if missing:
        form.add_error(
            None,
            "Please read and accept: " + ", ".join(v.policy.name for v in missing) + ".",
        )
    valid = form.is_valid()
    if valid and form.cleaned_data["total_cents"] != quote.total_cents:
        form.add_error(
            None,
            f"The total changed to {Money(quote.total_cents, request.account.currency)} "
            "(your cart or the prices changed since the page was shown). Nothing was "
            "charged; check the charges below and confirm again.",
        )
        context["pay_errors"] = list(form.non_field_errors())
        context["pay_form"] = _fresh_form(request, context, quote)
        return render_portal(request, "portal/checkout.html", context, status=409)
    if not valid or missing:
        return render_portal(request, "portal/checkout.html", context, status=400)
    for version in context["policies"]:
        with contextlib.suppress(ValidationFailed):  # accepted meanwhile (another tab)
            families.policy_acceptance_record(
                guardian=request.guardian,
                policy_version=version,
                method=PolicyAcceptance.Method.PORTAL,
                recorded_by=request.user,
            )
    method = form.cleaned_data["method"]
    try:
        claim = services.checkout_begin(
            cart=key,
            family=family,
            amount_cents=quote.due_cents,
            lines=quote.as_json(),
            site_url=request.build_absolute_uri("/"),
        )
    except services.CheckoutBusy as busy:
        messages.info(request, str(busy))
        return _to_done(request, busy.checkout)
    if quote.due_cents == 0 or method == "later":
        how = Checkout.Status.PAID if quote.due_cents == 0 else Checkout.Status.PAY_LATER
        try:
            done = completing.cart_complete(cart=key, family=family, how=how)
        except ClassbookError as error:
            services.checkout_reopen(checkout=claim, reason=str(error))
            form.add_error(None, _plain(error))
            return render_portal(request, "portal/checkout.html", context, status=409)
        return _finished(request, done)
    return _pay_by_card(request, context, form, claim, quote)


def _plain(error: Exception) -> str:
    reasons = getattr(error, "reasons", None)
    return " ".join(reasons) if reasons else str(error)


def _fresh_form(request, context, quote) -> CheckoutPayForm:
    return CheckoutPayForm(
        cards=saved_cards(context["family"]),
        pay_later=request.portal.allow_pay_later,
        new_card=context["gateway"] is not None,
        free=quote.due_cents == 0,
        initial={"request_token": secrets.token_urlsafe(16), "total_cents": quote.total_cents},
    )


def _pay_by_card(request, context, form, claim: Checkout, quote):
    from classbook.payments import services as payments

    key, family = claim.cart, claim.family
    card = form.saved_card
    payment_method_id = card.payment_method_id if card else form.cleaned_data["payment_method_id"]
    token = f"portal:{key}:{form.cleaned_data['request_token']}"
    try:
        result = payments.payment_take(
            family=family,
            payment_method_id=payment_method_id,
            amount_cents=quote.due_cents,
            purpose=PaymentAttempt.Purpose.CART,
            request_token=token,
            cart=key,
            card_label=(str(card) if card else completing.card_label(payment_method_id))[:60],
        )
    except (ValidationFailed, GatewayUnavailable, GatewayRefused) as error:
        services.checkout_reopen(checkout=claim, reason=str(error))
        form.add_error(None, UNREACHABLE if isinstance(error, GatewayUnavailable) else str(error))
        return render_portal(request, "portal/checkout.html", context, status=400)
    attempt = result.attempt
    if result.failed:
        services.checkout_reopen(checkout=claim, reason=attempt.failure_message)
        context = _checkout_context(request, key, family)
        context["pay_form"] = _fresh_form(request, context, quote)
        context["pay_errors"] = [
            f"The card was declined: {attempt.failure_message} Nothing was charged. Your "
            "seats are still held until the timer runs out; try another card."
        ]
        return render_portal(request, "portal/checkout.html", context, status=402)
    if result.succeeded and card is None and form.cleaned_data.get("save_card"):
        try:
            payments.card_save(
                family=family, payment_method_id=payment_method_id, guardian=request.guardian
            )
        except (ClassbookError, GatewayUnavailable, GatewayRefused):
            messages.warning(
                request, "The payment went through, but the card was not kept on file."
            )
    claim.refresh_from_db()
    return _finished(request, claim)


def _finished(request, checkout: Checkout):
    carts.remember_checkout(request, checkout.pk)
    if checkout.is_done:
        carts.cart_new(request)
    return redirect(account_reverse("portal:checkout_done", checkout_id=checkout.pk))


def _to_done(request, checkout: Checkout):
    carts.remember_checkout(request, checkout.pk)
    return redirect(account_reverse("portal:checkout_done", checkout_id=checkout.pk))


@portal_view()
def checkout_done(request, checkout_id: int):
    """The confirmation page: what was enrolled, the receipt, or why not (yet)."""
    checkout = (
        Checkout.objects.filter(pk=checkout_id).select_related("attempt__ledger_entry").first()
    )
    ours = checkout is not None and (
        carts.completed_here(request, checkout.pk)
        or (request.guardian is not None and checkout.family_id == request.guardian.family_id)
    )
    if not ours:
        raise Http404("No such checkout")
    if request.method == "POST" and checkout.status == Checkout.Status.PAYING:
        _check_again(checkout)
        return redirect(account_reverse("portal:checkout_done", checkout_id=checkout.pk))
    if checkout.is_done:
        carts.cart_new(request)
    receipt = None
    entry = checkout.attempt.ledger_entry if checkout.attempt_id else None
    if entry is not None:
        from classbook.ledger.documents import receipt_for

        receipt = receipt_for(entry, today=clock.account_today())
    from classbook.ledger.selectors import family_balance

    balance = family_balance(checkout.family, today=clock.account_today()).balance_cents
    return render_portal(
        request,
        "portal/checkout_done.html",
        {"checkout": checkout, "receipt": receipt, "balance_cents": balance},
    )


def _check_again(checkout: Checkout) -> None:
    """Ask the gateway about a payment whose outcome was not known (the reconciler does
    the same every few minutes)."""
    from classbook.payments import services as payments

    attempt = (
        checkout.attempt
        or PaymentAttempt.objects.filter(cart=checkout.cart).order_by("-created_at").first()
    )
    if attempt is None:
        return
    try:
        attempt = payments.attempt_resolve(attempt=attempt)
    except (ClassbookError, GatewayUnavailable):
        return
    if attempt.status == PaymentAttempt.Status.FAILED:
        services.checkout_reopen(checkout=checkout, reason=attempt.failure_message)
