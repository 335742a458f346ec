"""Every change to who holds a seat. Read ``enrollment.locking`` first.

Each public function is one transaction and writes one audit entry. Claims (enroll,
transfer, hold, offer, claim, trial, makeup) lock the seat rows, re-check availability
inside the lock and write; frees (drop, cancel, release, decline) take no lock and
then ask for the waitlist to be offered the freed seats after commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Min, Q

from classbook.audit.actions import register_action
from classbook.audit.context import current_actor
from classbook.audit.services import changes_between, created_fields, log_action, snapshot
from classbook.catalog import hooks as catalog_hooks
from classbook.catalog.models import Camp, CampDay, CampOption, Class, Meeting
from classbook.core import clock
from classbook.core.errors import ValidationFailed
from classbook.core.tenancy import require_account
from classbook.enrollment import capacity
from classbook.enrollment.capacity import Exclude
from classbook.enrollment.eligibility import camp_refusals, class_refusals
from classbook.enrollment.locking import lock_seats
from classbook.enrollment.models import (
    CampBooking,
    Enrollment,
    EnrollmentRequest,
    EnrollmentSettings,
    Hold,
    MakeupToken,
    Visit,
    WaitlistEntry,
)
from classbook.enrollment.selectors import enrollment_settings
from classbook.families.models import Student

ENROLLED = register_action("enrollment.created", "Enrolled in a class")
DROPPED = register_action("enrollment.dropped", "Dropped from a class")
TRANSFERRED = register_action("enrollment.transferred", "Transferred to another class")
CAMP_BOOKED = register_action("camp.booked", "Booked camp days")
CAMP_CANCELLED = register_action("camp.cancelled", "Cancelled a camp day")
HELD = register_action("hold.created", "Seat held in a cart")
HOLDS_TOUCHED = register_action("hold.extended", "Cart timer extended")
TOUCH_AT_MOST_EVERY = timedelta(minutes=1)
HOLD_RELEASED = register_action("hold.released", "Held seat released")
HOLDS_CONVERTED = register_action("hold.converted", "Cart checked out into enrollments")
WAITLIST_JOINED = register_action("waitlist.joined", "Joined a waitlist")
WAITLIST_LEFT = register_action("waitlist.left", "Left a waitlist")
OFFER_MADE = register_action("waitlist.offered", "Waitlist seat offered")
OFFER_CLAIMED = register_action("waitlist.claimed", "Waitlist offer claimed")
OFFER_DECLINED = register_action("waitlist.declined", "Waitlist offer declined")
OFFERS_EXPIRED = register_action("waitlist.expired", "Waitlist offers expired")
TRIAL_BOOKED = register_action("visit.trial_booked", "Trial booked")
MAKEUP_ISSUED = register_action("makeup.issued", "Makeup token issued")
MAKEUP_BOOKED = register_action("visit.makeup_booked", "Makeup booked")
VISIT_CANCELLED = register_action("visit.cancelled", "Trial or makeup cancelled")
REQUEST_CREATED = register_action("request.created", "Request sent to the office")
REQUEST_DECIDED = register_action("request.decided", "Request answered")
SETTINGS_CHANGED = register_action("enrollment.settings_changed", "Enrollment timers changed")


class EnrollmentRefused(ValidationFailed):
    """A claim that breaks a rule; ``full`` says the waitlist is the way in."""

    def __init__(self, reasons: list[str], *, full: bool = False):
        self.reasons = reasons
        self.full = full
        super().__init__({"__all__": reasons})


# --- helpers ---------------------------------------------------------------------------


def _actor_user():
    user = current_actor().user
    return user if user is not None and user.account_id else None


def _full_reason(klass: Class, full: list[capacity.FullOn]) -> str:
    first = full[0]
    return (
        f"{klass} is full on {first.day:%b %-d, %Y} ({first.taken} of {first.capacity} "
        "seats taken). Join the waitlist to be offered the next free seat."
    )


def _check_class_claim(
    student: Student,
    klass: Class,
    *,
    start: date,
    end: date | None,
    now: datetime,
    override_reason: str,
    check_window: bool,
    exclude: Exclude = capacity.NOTHING,
) -> None:
    """Rules, duplicates and capacity for one class claim (caller holds the lock)."""
    if not klass.is_active:
        raise EnrollmentRefused([f"{klass} is no longer offered."])
    if end is not None and end < start:
        raise EnrollmentRefused(["The end date is before the start date."])
    overlapping = (
        Enrollment.objects.filter(student=student, klass=klass, status__in=capacity.SEATED)
        .exclude(pk__in=exclude.enrollment_ids)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=start))
    )
    if end is not None:
        overlapping = overlapping.filter(start_date__lte=end)
    if overlapping.exists():
        raise EnrollmentRefused([f"{student} is already enrolled in {klass} for those dates."])
    if override_reason:
        return
    reasons = class_refusals(student, klass, start=start, now=now, check_window=check_window)
    if reasons:
        raise EnrollmentRefused(reasons)
    full = capacity.class_full_dates(
        klass, start=start, end=end or klass.effective_end, now=now, exclude=exclude
    )
    if full:
        raise EnrollmentRefused([_full_reason(klass, full)], full=True)


def _seat_freed_after_commit(*, class_ids=(), camp_day_ids=()) -> None:
    """Offer freed seats to the waitlist once this transaction has committed."""
    from classbook.enrollment.tasks import offer_freed_seats

    account_id = require_account().pk
    class_ids, camp_day_ids = list(class_ids), list(camp_day_ids)
    transaction.on_commit(
        lambda: offer_freed_seats.enqueue(
            account_id=account_id, class_ids=class_ids, camp_day_ids=camp_day_ids
        )
    )


# --- classes ---------------------------------------------------------------------------


@transaction.atomic
def enroll(
    *,
    student: Student,
    klass: Class,
    start_date: date,
    end_date: date | None = None,
    override_reason: str = "",
    source: str = "office",
    check_window: bool = False,
) -> Enrollment:
    """Enroll a student from ``start_date``; ``override_reason`` skips capacity and rules
    (the view checks the override permission)."""
    lock_seats(class_ids=[klass.pk])
    now = clock.now()
    _check_class_claim(
        student,
        klass,
        start=start_date,
        end=end_date,
        now=now,
        override_reason=override_reason.strip(),
        check_window=check_window,
    )
    try:
        with transaction.atomic():
            enrollment = Enrollment.objects.create(
                student=student,
                klass=klass,
                start_date=start_date,
                end_date=end_date,
                override_reason=override_reason.strip(),
                source=source,
                created_by=_actor_user(),
            )
    except IntegrityError:
        raise EnrollmentRefused([f"{student} is already enrolled in {klass}."]) from None
    log_action(
        action=ENROLLED,
        obj=enrollment,
        changes=created_fields(
            {
                "student": str(student),
                "class": str(klass),
                "start_date": start_date,
                "end_date": end_date,
                "override_reason": override_reason.strip(),
            }
        ),
    )
    return enrollment


def _end(enrollment: Enrollment, *, effective: date, status: str, reason: str) -> None:
    """End an enrollment: the last day attending is the day before ``effective``."""
    if effective <= enrollment.start_date:
        enrollment.status = Enrollment.Status.CANCELLED
        enrollment.end_date = enrollment.start_date
    else:
        if enrollment.end_date is not None and effective > enrollment.end_date:
            raise ValidationFailed(
                {
                    "effective_date": [
                        f"The enrollment already ends on {enrollment.end_date:%b %-d, %Y}."
                    ]
                }
            )
        enrollment.status = status
        enrollment.end_date = effective - timedelta(days=1)
    enrollment.end_reason = reason
    enrollment.save(update_fields=["status", "end_date", "end_reason"])


@transaction.atomic
def drop(*, enrollment: Enrollment, effective_date: date, reason: str) -> Enrollment:
    """The student stops attending from ``effective_date`` (no meeting on or after it)."""
    enrollment = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
    if enrollment.status != Enrollment.Status.ACTIVE:
        raise ValidationFailed("This enrollment has already ended.")
    if not reason.strip():
        raise ValidationFailed({"reason": ["Say why the student is dropping."]})
    before = snapshot(enrollment, ("status", "end_date"))
    _end(
        enrollment,
        effective=effective_date,
        status=Enrollment.Status.DROPPED,
        reason=reason.strip(),
    )
    log_action(
        action=DROPPED,
        obj=enrollment,
        changes={
            **changes_between(before, snapshot(enrollment, ("status", "end_date"))),
            "reason": [None, reason.strip()],
        },
    )
    _seat_freed_after_commit(class_ids=[enrollment.klass_id])
    return enrollment


@transaction.atomic
def transfer(
    *,
    enrollment: Enrollment,
    to_class: Class,
    effective_date: date,
    reason: str,
    override_reason: str = "",
) -> Enrollment:
    """Move a student to another class from ``effective_date``: one linked history."""
    lock_seats(class_ids=[to_class.pk])
    enrollment = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
    if enrollment.status != Enrollment.Status.ACTIVE:
        raise ValidationFailed("This enrollment has already ended.")
    if to_class.pk == enrollment.klass_id:
        raise ValidationFailed({"to_class": ["Choose a different class."]})
    now = clock.now()
    start = max(effective_date, enrollment.start_date)
    _check_class_claim(
        enrollment.student,
        to_class,
        start=start,
        end=enrollment.end_date,
        now=now,
        override_reason=override_reason.strip(),
        check_window=False,
    )
    old_end = enrollment.end_date
    _end(
        enrollment,
        effective=start,
        status=Enrollment.Status.TRANSFERRED,
        reason=reason.strip() or f"Transferred to {to_class}",
    )
    new = Enrollment.objects.create(
        student=enrollment.student,
        klass=to_class,
        start_date=start,
        end_date=old_end,
        transferred_from=enrollment,
        override_reason=override_reason.strip(),
        source="transfer",
        created_by=_actor_user(),
    )
    log_action(
        action=TRANSFERRED,
        obj=new,
        changes={
            "from_class": [str(enrollment.klass), None],
            "to_class": [None, str(to_class)],
            "effective_date": [None, start],
            "reason": [None, reason.strip()],
        },
    )
    _seat_freed_after_commit(class_ids=[enrollment.klass_id])
    return new


# --- camps -----------------------------------------------------------------------------


def _camp_days(camp: Camp, days: list[CampDay] | None) -> list[CampDay]:
    all_days = list(CampDay.objects.filter(camp=camp).order_by("date"))
    if camp.signup_mode == Camp.SignupMode.WHOLE or days is None:
        if days is not None and {d.pk for d in days} != {d.pk for d in all_days}:
            raise EnrollmentRefused([f"{camp} is booked as a whole camp, not by day."])
        return all_days
    chosen = [d for d in all_days if d.pk in {day.pk for day in days}]
    if len(chosen) != len(days) or not chosen:
        raise EnrollmentRefused(["Choose one or more days of this camp."])
    return chosen


def _check_camp_claim(
    student: Student,
    camp: Camp,
    option: CampOption,
    days: list[CampDay],
    *,
    now: datetime,
    override_reason: str,
    check_window: bool,
    exclude: Exclude = capacity.NOTHING,
) -> None:
    if option.camp_id != camp.pk:
        raise EnrollmentRefused(["That option belongs to another camp."])
    already = CampBooking.objects.filter(
        student=student, camp_day__in=days, status=CampBooking.Status.ACTIVE
    )
    if already.exists():
        raise EnrollmentRefused(
            [f"{student} is already booked on {already.first().camp_day.date:%b %-d}."]
        )
    if override_reason:
        return
    reasons = camp_refusals(student, camp, now=now, check_window=check_window)
    if reasons:
        raise EnrollmentRefused(reasons)
    taken = capacity.camp_day_taken(days, now=now, exclude=exclude)
    full = [d for d in days if taken[d.pk] + 1 > camp.day_capacity]
    if full:
        raise EnrollmentRefused(
            [f"{camp} is full on {full[0].date:%b %-d, %Y}. Join the waitlist for that day."],
            full=True,
        )


@transaction.atomic
def camp_book(
    *,
    student: Student,
    camp: Camp,
    option: CampOption,
    days: list[CampDay] | None = None,
    override_reason: str = "",
    source: str = "office",
    check_window: bool = False,
) -> list[CampBooking]:
    """Book the whole camp, or chosen days of a per-day camp."""
    chosen = _camp_days(camp, days)
    lock_seats(camp_day_ids=[d.pk for d in chosen])
    _check_camp_claim(
        student,
        camp,
        option,
        chosen,
        now=clock.now(),
        override_reason=override_reason.strip(),
        check_window=check_window,
    )
    bookings = [
        CampBooking.objects.create(
            student=student,
            camp_day=day,
            option=option,
            override_reason=override_reason.strip(),
            source=source,
            created_by=_actor_user(),
        )
        for day in chosen
    ]
    log_action(
        action=CAMP_BOOKED,
        obj=camp,
        changes=created_fields(
            {
                "student": str(student),
                "option": str(option),
                "days": [f"{d.date:%Y-%m-%d}" for d in chosen],
                "override_reason": override_reason.strip(),
            }
        ),
    )
    return bookings


@transaction.atomic
def camp_cancel(*, booking: CampBooking, reason: str) -> CampBooking:
    booking = CampBooking.objects.select_for_update().get(pk=booking.pk)
    if booking.status != CampBooking.Status.ACTIVE:
        raise ValidationFailed("This camp day is already cancelled.")
    booking.status = CampBooking.Status.CANCELLED
    booking.cancelled_at = clock.now()
    booking.save(update_fields=["status", "cancelled_at"])
    log_action(
        action=CAMP_CANCELLED,
        obj=booking,
        label=str(booking),
        changes={"status": ["active", "cancelled"], "reason": [None, reason]},
    )
    _seat_freed_after_commit(camp_day_ids=[booking.camp_day_id])
    return booking


# --- holds (the portal cart) -------------------------------------------------------------


@dataclass(frozen=True)
class HoldRequest:
    """One seat a cart wants: a class from a date, or one camp day with an option."""

    klass: Class | None = None
    start_date: date | None = None
    camp_day: CampDay | None = None
    camp_option: CampOption | None = None
    student: Student | None = None
    child_label: str = ""


@transaction.atomic
def hold_seats(*, cart: str, requests: list[HoldRequest]) -> list[Hold]:
    """Reserve seats for a cart until the checkout timer runs out; all or nothing."""
    if not cart:
        raise ValueError("a cart key is required")
    lock_seats(
        class_ids=[r.klass.pk for r in requests if r.klass],
        camp_day_ids=[r.camp_day.pk for r in requests if r.camp_day],
    )
    now = clock.now()
    expires = now + timedelta(minutes=enrollment_settings().hold_minutes)
    holds = []
    for request in requests:
        if request.klass is not None:
            klass = request.klass
            if request.student is not None:
                _check_class_claim(
                    request.student,
                    klass,
                    start=request.start_date,
                    end=None,
                    now=now,
                    override_reason="",
                    check_window=True,
                )
            else:
                full = capacity.class_full_dates(
                    klass, start=request.start_date, end=klass.effective_end, now=now
                )
                if full:
                    raise EnrollmentRefused([_full_reason(klass, full)], full=True)
            holds.append(
                Hold.objects.create(
                    cart=cart,
                    student=request.student,
                    child_label=request.child_label,
                    klass=klass,
                    start_date=request.start_date,
                    expires_at=expires,
                )
            )
        else:
            day = request.camp_day
            taken = capacity.camp_day_taken([day], now=now)[day.pk]
            if taken + 1 > day.camp.day_capacity:
                raise EnrollmentRefused(
                    [f"{day.camp} is full on {day.date:%b %-d, %Y}."], full=True
                )
            holds.append(
                Hold.objects.create(
                    cart=cart,
                    student=request.student,
                    child_label=request.child_label,
                    camp_day=day,
                    camp_option=request.camp_option,
                    expires_at=expires,
                )
            )
    log_action(
        action=HELD,
        label=f"cart {cart[:8]}",
        changes=created_fields({"seats": len(holds), "expires_at": expires.isoformat()}),
    )
    return holds


@transaction.atomic
def holds_touch(*, cart: str) -> datetime | None:
    """Extend every unexpired hold of the cart together; returns when the first expires.

    Every cart and checkout page calls this, so a touch within ``TOUCH_AT_MOST_EVERY`` of
    the last one changes nothing (no write, no audit entry): a parent clicking through
    checkout extends the timer once a minute, not once per click.
    """
    now = clock.now()
    live = Hold.objects.filter(cart=cart, expires_at__gt=now)
    first = live.aggregate(first=Min("expires_at"))["first"]
    if first is None:
        return None
    expires = now + timedelta(minutes=enrollment_settings().hold_minutes)
    if first > expires - TOUCH_AT_MOST_EVERY:
        return first
    live.update(expires_at=expires)
    log_action(
        action=HOLDS_TOUCHED,
        label=f"cart {cart[:8]}",
        changes={"expires_at": [None, expires.isoformat()]},
    )
    return expires


@transaction.atomic
def hold_release(*, hold: Hold) -> None:
    label = f"cart {hold.cart[:8]}"
    class_ids = [hold.klass_id] if hold.klass_id else []
    day_ids = [hold.camp_day_id] if hold.camp_day_id else []
    Hold.objects.filter(pk=hold.pk).delete()
    log_action(action=HOLD_RELEASED, label=label, changes={"hold": [hold.pk, None]})
    _seat_freed_after_commit(class_ids=class_ids, camp_day_ids=day_ids)


@transaction.atomic
def holds_convert(
    *, cart: str, students: dict[int, Student], source: str = "portal"
) -> list[Enrollment | CampBooking]:
    """Turn a cart's holds into enrollments and bookings (``students`` maps hold id →
    the family's student). A hold that expired is re-checked like a new claim."""
    holds = list(
        Hold.objects.filter(cart=cart).select_related("klass", "camp_day__camp", "camp_option")
    )
    if not holds:
        raise EnrollmentRefused(["Your cart is empty or its reservation has run out."])
    lock_seats(
        class_ids=[h.klass_id for h in holds if h.klass_id],
        camp_day_ids=[h.camp_day_id for h in holds if h.camp_day_id],
    )
    now = clock.now()
    created: list[Enrollment | CampBooking] = []
    for hold in holds:
        student = students.get(hold.pk) or hold.student
        if student is None:
            raise EnrollmentRefused(
                [f"Choose which student the seat in {hold.klass or hold.camp_day} is for."]
            )
        exclude = (
            Exclude(hold_ids=frozenset({hold.pk})) if hold.expires_at > now else capacity.NOTHING
        )
        if hold.klass_id:
            _check_class_claim(
                student,
                hold.klass,
                start=hold.start_date,
                end=None,
                now=now,
                override_reason="",
                check_window=False,
                exclude=exclude,
            )
            created.append(
                Enrollment.objects.create(
                    student=student,
                    klass=hold.klass,
                    start_date=hold.start_date,
                    source=source,
                    created_by=_actor_user(),
                )
            )
        else:
            _check_camp_claim(
                student,
                hold.camp_day.camp,
                hold.camp_option,
                [hold.camp_day],
                now=now,
                override_reason="",
                check_window=False,
                exclude=exclude,
            )
            created.append(
                CampBooking.objects.create(
                    student=student,
                    camp_day=hold.camp_day,
                    option=hold.camp_option,
                    source=source,
                    created_by=_actor_user(),
                )
            )
    Hold.objects.filter(pk__in=[h.pk for h in holds]).delete()
    log_action(
        action=HOLDS_CONVERTED,
        label=f"cart {cart[:8]}",
        changes=created_fields({"enrollments": [str(item) for item in created]}),
    )
    return created


# --- waitlist ----------------------------------------------------------------------------


@transaction.atomic
def waitlist_join(
    *,
    student: Student,
    klass: Class | None = None,
    start_date: date | None = None,
    camp_day: CampDay | None = None,
    camp_option: CampOption | None = None,
) -> WaitlistEntry:
    if (klass is None) == (camp_day is None):
        raise ValueError("a waitlist entry is for a class or a camp day")
    try:
        with transaction.atomic():
            entry = WaitlistEntry.objects.create(
                student=student,
                klass=klass,
                start_date=start_date,
                camp_day=camp_day,
                camp_option=camp_option,
            )
    except IntegrityError:
        raise ValidationFailed(f"{student} is already on this waitlist.") from None
    log_action(
        action=WAITLIST_JOINED,
        obj=entry,
        label=f"{student} → {klass or camp_day}",
        changes=created_fields({"start_date": start_date}),
    )
    return entry


@transaction.atomic
def camp_waitlist_join(
    *, student: Student, camp_option: CampOption, days: list[CampDay]
) -> list[WaitlistEntry]:
    """Join the waitlist of several days of one camp at once (all or none)."""
    if not days:
        raise ValidationFailed({"days": ["Choose the days to wait for."]})
    if any(day.camp_id != camp_option.camp_id for day in days):
        raise ValidationFailed("Those days and that option belong to different camps.")
    entries = []
    for day in sorted(days, key=lambda d: d.date):
        try:
            with transaction.atomic():
                entries.append(
                    WaitlistEntry.objects.create(
                        student=student, camp_day=day, camp_option=camp_option
                    )
                )
        except IntegrityError:
            raise ValidationFailed(
                f"{student} is already on the waitlist for {day.date:%b %-d, %Y}."
            ) from None
    log_action(
        action=WAITLIST_JOINED,
        obj=camp_option.camp,
        label=f"{student} → {camp_option.camp}",
        changes=created_fields(
            {"option": str(camp_option), "days": [f"{e.camp_day.date:%Y-%m-%d}" for e in entries]}
        ),
    )
    return entries


@transaction.atomic
def waitlist_leave(*, entry: WaitlistEntry) -> WaitlistEntry:
    entry = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.status not in (WaitlistEntry.Status.WAITING, WaitlistEntry.Status.OFFERED):
        raise ValidationFailed("This waitlist place is already closed.")
    was_offered = entry.status == WaitlistEntry.Status.OFFERED
    entry.status, entry.closed_at = WaitlistEntry.Status.LEFT, clock.now()
    entry.save(update_fields=["status", "closed_at"])
    log_action(action=WAITLIST_LEFT, obj=entry, label=str(entry.student))
    if was_offered:
        _seat_freed_after_commit(
            class_ids=[entry.klass_id] if entry.klass_id else [],
            camp_day_ids=[entry.camp_day_id] if entry.camp_day_id else [],
        )
    return entry


def _next_offers(
    *, klass: Class | None = None, camp_day: CampDay | None = None, now: datetime
) -> list[WaitlistEntry]:
    """Offer free seats to the next eligible waiting students (caller holds the lock)."""
    settings = enrollment_settings()
    waiting = (
        WaitlistEntry.objects.filter(status=WaitlistEntry.Status.WAITING)
        .select_related("student__level")
        .order_by("joined_at", "id")
    )
    waiting = waiting.filter(klass=klass) if klass else waiting.filter(camp_day=camp_day)
    offered = []
    for entry in waiting:
        if klass is not None:
            if class_refusals(
                entry.student, klass, start=entry.start_date, now=now, check_window=False
            ):
                continue  # no longer eligible (aged out, level): the next one gets it
            if capacity.class_full_dates(
                klass, start=entry.start_date, end=klass.effective_end, now=now
            ):
                break
        else:
            if (
                capacity.camp_day_taken([camp_day], now=now)[camp_day.pk]
                >= camp_day.camp.day_capacity
            ):
                break
        entry.status = WaitlistEntry.Status.OFFERED
        entry.offered_at = now
        entry.offer_expires_at = now + timedelta(hours=settings.offer_hours)
        entry.save(update_fields=["status", "offered_at", "offer_expires_at"])
        offered.append(entry)
    return offered


@transaction.atomic
def waitlist_offer_seats(
    *, klass: Class | None = None, camp_day: CampDay | None = None
) -> list[WaitlistEntry]:
    """Offer every free seat of a class or camp day to the waitlist, in order."""
    lock_seats(
        class_ids=[klass.pk] if klass else [], camp_day_ids=[camp_day.pk] if camp_day else []
    )
    offers = _next_offers(klass=klass, camp_day=camp_day, now=clock.now())
    if offers:
        log_action(
            action=OFFER_MADE,
            obj=klass or camp_day,
            changes={"offered_to": [None, [str(o.student) for o in offers]]},
        )
        from classbook.enrollment.notices import send_offer_notices

        ids = [o.pk for o in offers]
        transaction.on_commit(lambda: send_offer_notices(ids))
    return offers


@transaction.atomic
def offer_claim(*, entry: WaitlistEntry, source: str = "office") -> Enrollment | CampBooking:
    """Take the offered seat (before the claim window closes)."""
    lock_seats(
        class_ids=[entry.klass_id] if entry.klass_id else [],
        camp_day_ids=[entry.camp_day_id] if entry.camp_day_id else [],
    )
    entry = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
    now = clock.now()
    if entry.status != WaitlistEntry.Status.OFFERED or entry.offer_expires_at <= now:
        raise EnrollmentRefused(["This offer is no longer open."])
    exclude = Exclude(offer_ids=frozenset({entry.pk}))
    if entry.klass_id:
        _check_class_claim(
            entry.student,
            entry.klass,
            start=entry.start_date,
            end=None,
            now=now,
            override_reason="",
            check_window=False,
            exclude=exclude,
        )
        claimed = Enrollment.objects.create(
            student=entry.student,
            klass=entry.klass,
            start_date=entry.start_date,
            source="waitlist",
            created_by=_actor_user(),
        )
    else:
        day = entry.camp_day
        _check_camp_claim(
            entry.student,
            day.camp,
            entry.camp_option,
            [day],
            now=now,
            override_reason="",
            check_window=False,
            exclude=exclude,
        )
        claimed = CampBooking.objects.create(
            student=entry.student,
            camp_day=day,
            option=entry.camp_option,
            source="waitlist",
            created_by=_actor_user(),
        )
    entry.status, entry.closed_at = WaitlistEntry.Status.CLAIMED, now
    entry.save(update_fields=["status", "closed_at"])
    log_action(action=OFFER_CLAIMED, obj=entry, label=str(claimed))
    return claimed


@transaction.atomic
def offer_decline(*, entry: WaitlistEntry) -> WaitlistEntry:
    entry = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.status != WaitlistEntry.Status.OFFERED:
        raise ValidationFailed("There is no open offer to decline.")
    entry.status, entry.closed_at = WaitlistEntry.Status.DECLINED, clock.now()
    entry.save(update_fields=["status", "closed_at"])
    log_action(action=OFFER_DECLINED, obj=entry, label=str(entry.student))
    _seat_freed_after_commit(
        class_ids=[entry.klass_id] if entry.klass_id else [],
        camp_day_ids=[entry.camp_day_id] if entry.camp_day_id else [],
    )
    return entry


@transaction.atomic
def offers_expire() -> int:
    """Close offers whose claim window has passed (they stopped counting at that instant)
    and pass their seats on. Run by housekeeping."""
    now = clock.now()
    expired = list(
        WaitlistEntry.objects.select_for_update().filter(
            status=WaitlistEntry.Status.OFFERED, offer_expires_at__lte=now
        )
    )
    if not expired:
        return 0
    WaitlistEntry.objects.filter(pk__in=[e.pk for e in expired]).update(
        status=WaitlistEntry.Status.EXPIRED, closed_at=now
    )
    log_action(
        action=OFFERS_EXPIRED,
        label=f"{len(expired)} offers",
        changes={"students": [None, [str(e.student) for e in expired]]},
    )
    _seat_freed_after_commit(
        class_ids={e.klass_id for e in expired if e.klass_id},
        camp_day_ids={e.camp_day_id for e in expired if e.camp_day_id},
    )
    return len(expired)


# --- trials and makeups ----------------------------------------------------------------------


def _book_visit(*, kind: str, student: Student, meeting: Meeting, override_reason: str) -> Visit:
    lock_seats(class_ids=[meeting.klass_id])
    now = clock.now()
    if meeting.starts_at <= now:
        raise EnrollmentRefused(["That meeting has already started."])
    if Visit.objects.filter(student=student, meeting=meeting, status=Visit.Status.BOOKED).exists():
        raise EnrollmentRefused([f"{student} is already booked on that meeting."])
    klass = meeting.klass
    if not override_reason:
        reasons = class_refusals(student, klass, start=meeting.date, now=now, check_window=False)
        if reasons:
            raise EnrollmentRefused(reasons)
        if capacity.meeting_taken(meeting, now=now) + 1 > klass.capacity:
            raise EnrollmentRefused([f"{klass} is full on {meeting.date:%b %-d, %Y}."], full=True)
    return Visit.objects.create(
        kind=kind, student=student, meeting=meeting, created_by=_actor_user()
    )


@transaction.atomic
def trial_book(*, student: Student, meeting: Meeting, override_reason: str = "") -> Visit:
    if Enrollment.objects.filter(
        student=student, klass=meeting.klass, status=Enrollment.Status.ACTIVE
    ).exists():
        raise EnrollmentRefused([f"{student} is already enrolled in {meeting.klass}."])
    visit = _book_visit(
        kind=Visit.Kind.TRIAL,
        student=student,
        meeting=meeting,
        override_reason=override_reason.strip(),
    )
    log_action(action=TRIAL_BOOKED, obj=visit, label=str(visit))
    return visit


@transaction.atomic
def makeup_issue(
    *, student: Student, reason: str, expires_on: date, missed_meeting: Meeting | None = None
) -> MakeupToken:
    if not reason.strip():
        raise ValidationFailed({"reason": ["Say what the makeup is for."]})
    if expires_on < clock.account_today():
        raise ValidationFailed({"expires_on": ["The expiry date is in the past."]})
    token = MakeupToken.objects.create(
        student=student,
        reason=reason.strip(),
        expires_on=expires_on,
        missed_meeting=missed_meeting,
        created_by=_actor_user(),
    )
    log_action(
        action=MAKEUP_ISSUED,
        obj=token,
        label=str(student),
        changes=created_fields({"reason": reason.strip(), "expires_on": expires_on}),
    )
    return token


@transaction.atomic
def makeup_redeem(*, token: MakeupToken, meeting: Meeting) -> Visit:
    token = MakeupToken.objects.select_for_update().get(pk=token.pk)
    if token.status != MakeupToken.Status.AVAILABLE:
        raise EnrollmentRefused(["This makeup has already been used or cancelled."])
    if meeting.date > token.expires_on:
        raise EnrollmentRefused(
            [f"This makeup expires on {token.expires_on:%b %-d, %Y}, before that meeting."]
        )
    visit = _book_visit(
        kind=Visit.Kind.MAKEUP, student=token.student, meeting=meeting, override_reason=""
    )
    token.status, token.visit = MakeupToken.Status.REDEEMED, visit
    token.save(update_fields=["status", "visit"])
    log_action(action=MAKEUP_BOOKED, obj=visit, label=str(visit))
    return visit


@transaction.atomic
def visit_cancel(*, visit: Visit, reason: str = "") -> Visit:
    visit = Visit.objects.select_for_update().get(pk=visit.pk)
    if visit.status != Visit.Status.BOOKED:
        raise ValidationFailed("This visit is already cancelled.")
    visit.status = Visit.Status.CANCELLED
    visit.save(update_fields=["status"])
    MakeupToken.objects.filter(visit=visit).update(status=MakeupToken.Status.AVAILABLE, visit=None)
    log_action(
        action=VISIT_CANCELLED, obj=visit, label=str(visit), changes={"reason": [None, reason]}
    )
    _seat_freed_after_commit(class_ids=[visit.meeting.klass_id])
    return visit


# --- requests from families --------------------------------------------------------------------


@transaction.atomic
def request_create(
    *,
    kind: str,
    student: Student,
    message: str = "",
    enrollment: Enrollment | None = None,
    target_class: Class | None = None,
    meeting: Meeting | None = None,
    effective_date: date | None = None,
) -> EnrollmentRequest:
    if kind not in EnrollmentRequest.Kind.values:
        raise ValidationFailed({"kind": ["Choose what you are asking for."]})
    needs = {
        "drop": ("enrollment", "effective_date"),
        "transfer": ("enrollment", "target_class", "effective_date"),
        "trial": ("meeting",),
        "makeup": ("meeting",),
    }[kind]
    given = {
        "enrollment": enrollment,
        "target_class": target_class,
        "meeting": meeting,
        "effective_date": effective_date,
    }
    missing = [name for name in needs if given[name] is None]
    if missing:
        raise ValidationFailed({name: ["This is required for this request."] for name in missing})
    if enrollment is not None and enrollment.student_id != student.pk:
        raise ValidationFailed("That enrollment belongs to another student.")
    request = EnrollmentRequest.objects.create(
        kind=kind,
        student=student,
        enrollment=enrollment,
        target_class=target_class,
        meeting=meeting,
        effective_date=effective_date,
        message=message.strip(),
        requested_by=_actor_user(),
    )
    log_action(
        action=REQUEST_CREATED,
        obj=request,
        label=f"{request.get_kind_display()}: {student}",
        changes=created_fields({"message": message.strip()}),
    )
    return request


@transaction.atomic
def request_decide(
    *, request: EnrollmentRequest, approve: bool, reply: str = ""
) -> EnrollmentRequest:
    """Approve (which performs the drop, transfer or booking) or deny, with a message."""
    request = EnrollmentRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != EnrollmentRequest.Status.PENDING:
        raise ValidationFailed("This request was already answered.")
    if not approve and not reply.strip():
        raise ValidationFailed({"reply": ["Tell the family why the request is denied."]})
    if approve:
        _carry_out(request)
    request.status = (
        EnrollmentRequest.Status.APPROVED if approve else EnrollmentRequest.Status.DENIED
    )
    request.reply, request.decided_at = reply.strip(), clock.now()
    request.decided_by = _actor_user()
    request.save(update_fields=["status", "reply", "decided_at", "decided_by"])
    log_action(
        action=REQUEST_DECIDED,
        obj=request,
        label=str(request.student),
        changes={"status": ["pending", request.status], "reply": [None, reply.strip()]},
    )
    return request


def _carry_out(request: EnrollmentRequest) -> None:
    """Do what an approved request asks, with the same rules as the office pages. The
    inner services' audit entries are nested in this decision's transaction."""
    kind = request.kind
    if kind == EnrollmentRequest.Kind.DROP:
        drop(
            enrollment=request.enrollment,
            effective_date=request.effective_date,
            reason=request.message or "Requested by the family",
        )
    elif kind == EnrollmentRequest.Kind.TRANSFER:
        transfer(
            enrollment=request.enrollment,
            to_class=request.target_class,
            effective_date=request.effective_date,
            reason="Requested by the family",
        )
    elif request.meeting is None:  # a schedule change or closure removed the meeting
        raise ValidationFailed(
            "The meeting this request was for no longer takes place; "
            "deny it with a message suggesting another date."
        )
    elif kind == EnrollmentRequest.Kind.TRIAL:
        trial_book(student=request.student, meeting=request.meeting)
    else:
        token = MakeupToken.objects.filter(
            student=request.student,
            status=MakeupToken.Status.AVAILABLE,
            expires_on__gte=request.meeting.date,
        ).first()
        if token is None:
            raise ValidationFailed("The student has no makeup available for that date.")
        makeup_redeem(token=token, meeting=request.meeting)


@transaction.atomic
def settings_update(*, hold_minutes: int, offer_hours: int) -> EnrollmentSettings:
    if not 1 <= hold_minutes <= 120:
        raise ValidationFailed({"hold_minutes": ["Between 1 and 120 minutes."]})
    if not 1 <= offer_hours <= 24 * 14:
        raise ValidationFailed({"offer_hours": ["Between 1 hour and 14 days."]})
    current = EnrollmentSettings.objects.select_for_update().first() or EnrollmentSettings()
    before = snapshot(current, ("hold_minutes", "offer_hours"))
    current.hold_minutes, current.offer_hours = hold_minutes, offer_hours
    current.save()
    log_action(
        action=SETTINGS_CHANGED,
        obj=current,
        label="Enrollment timers",
        changes=changes_between(before, snapshot(current, ("hold_minutes", "offer_hours"))),
    )
    return current


# --- catalog hooks ------------------------------------------------------------------------------


def _capacity_not_below_seated(klass: Class, new_capacity: int) -> str | None:
    today = clock.account_today()
    dates = capacity.meeting_dates(klass, today, None)
    taken = capacity.class_taken(klass, dates, now=clock.now())
    busiest = max(taken.items(), key=lambda item: item[1], default=None)
    if busiest and busiest[1] > new_capacity:
        return (
            f"{busiest[1]} seats are taken on {busiest[0]:%b %-d, %Y}; capacity cannot go "
            f"below {busiest[1]}."
        )
    return None


def _camp_capacity_not_below_booked(camp: Camp, new_capacity: int) -> str | None:
    days = list(CampDay.objects.filter(camp=camp))
    taken = capacity.camp_day_taken(days, now=clock.now())
    busiest = max(taken.values(), default=0)
    if busiest > new_capacity:
        return f"{busiest} campers are booked on one day; capacity cannot go below {busiest}."
    return None


def _meetings_removed(meetings: list[Meeting]) -> None:
    """A schedule change or closure removes future meetings: their trial and makeup
    visits go with them, and makeup tokens become available again."""
    visits = Visit.objects.filter(meeting__in=meetings)
    MakeupToken.objects.filter(visit__in=visits).update(
        status=MakeupToken.Status.AVAILABLE, visit=None
    )
    visits.delete()


def _camp_days_removed(days: list[CampDay]) -> None:
    booked = CampBooking.objects.filter(camp_day__in=days, status=CampBooking.Status.ACTIVE)
    if booked.exists():
        raise ValidationFailed(
            f"{booked.count()} campers are booked on days this change "
            "removes; cancel their bookings first."
        )
    CampBooking.objects.filter(camp_day__in=days).delete()


catalog_hooks.CLASS_CAPACITY_CHECKS.append(_capacity_not_below_seated)
catalog_hooks.CAMP_CAPACITY_CHECKS.append(_camp_capacity_not_below_booked)
catalog_hooks.MEETING_REMOVAL_HANDLERS.append(_meetings_removed)
catalog_hooks.CAMP_DAY_REMOVAL_HANDLERS.append(_camp_days_removed)
