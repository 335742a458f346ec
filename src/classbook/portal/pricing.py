"""What a checkout charges, computed by the billing engine (``billing.compute``) so the
parent sees the cents the office billing would post.

For every month in which a new seat starts, the family's bill for that month is computed
over the family's existing enrollments plus the new seats; the lines posted now are the
new seats' first-month tuition (prorated by meetings), the discounts of the students in the
cart, and a registration fee not charged yet this membership year. Camps are charged at
their option's price (whole camp, or per day). Idempotency keys are the billing run's
(``tuition:<enrollment>:<YYYY-MM>``, ``multiclass:…``, ``sibling:…``, ``regfee:…``), so a
later billing run skips what the checkout posted.

Nothing here writes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from classbook.billing.compute import (
    Seat,
    bill_families,
    period_bounds,
    posted_registration_keys,
    seats_for_period,
    settings_for_account,
)
from classbook.catalog.models import Camp
from classbook.core import clock
from classbook.ledger.models import LedgerEntry
from classbook.ledger.services import BatchLine


@dataclass(frozen=True)
class CampItem:
    """One student's booking of one camp with one option: its days (and, once converted,
    the booking ids that key its charges)."""

    student_id: int
    student_name: str
    camp: Camp
    option: object  # catalog.CampOption
    days: tuple[date, ...]
    booking_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class ChargeLine:
    kind: str  # "charge" or "credit"
    subtype: str
    description: str
    amount_cents: int  # positive; ``kind`` says the direction
    explanation: str
    key: str
    entry_date: date
    due_date: date | None
    location_id: int | None = None

    @property
    def signed_cents(self) -> int:
        return self.amount_cents if self.kind == "charge" else -self.amount_cents

    def batch_line(self) -> BatchLine:
        return BatchLine(
            kind=self.kind,
            subtype=self.subtype,
            amount_cents=self.amount_cents,
            description=self.description,
            idempotency_key=self.key,
            entry_date=self.entry_date,
            due_date=self.due_date,
            location_id=self.location_id,
        )


@dataclass
class Quote:
    lines: list[ChargeLine] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    credit_cents: int = 0  # the family's unapplied credit used for this checkout

    @property
    def total_cents(self) -> int:
        return sum(line.signed_cents for line in self.lines)

    @property
    def due_cents(self) -> int:
        return max(0, self.total_cents - self.credit_cents)

    def as_json(self) -> list[list]:
        return [[line.description, line.signed_cents] for line in self.lines]


def _camp_lines(items: list[CampItem], *, today: date) -> list[ChargeLine]:
    lines = []
    for item in items:
        camp, option = item.camp, item.option
        label = option.get_kind_display()
        if camp.signup_mode == Camp.SignupMode.WHOLE:
            key = f"camp:{min(item.booking_ids)}" if item.booking_ids else f"camp:new:{camp.pk}"
            lines.append(
                ChargeLine(
                    kind="charge",
                    subtype=LedgerEntry.ChargeType.CAMP_FEE,
                    description=f"Camp: {camp} ({label}), {item.student_name}",
                    amount_cents=option.price_cents,
                    explanation=f"Whole camp, {len(item.days)} days",
                    key=key,
                    entry_date=today,
                    due_date=today,
                    location_id=camp.location_id,
                )
            )
            continue
        for index, day in enumerate(sorted(item.days)):
            booking = item.booking_ids[index] if index < len(item.booking_ids) else None
            lines.append(
                ChargeLine(
                    kind="charge",
                    subtype=LedgerEntry.ChargeType.CAMP_FEE,
                    description=f"Camp: {camp} ({label}) {day:%a %b} {day.day}, "
                    f"{item.student_name}",
                    amount_cents=option.price_cents,
                    explanation="One day",
                    key=f"campday:{booking}" if booking else f"campday:new:{camp.pk}:{day}",
                    entry_date=today,
                    due_date=today,
                    location_id=camp.location_id,
                )
            )
    return [line for line in lines if line.amount_cents > 0]


def charge_lines(
    *, family_id: int, seats: list[Seat], camps: list[CampItem]
) -> tuple[list[ChargeLine], list[str]]:
    """The lines a checkout posts for new class ``seats`` (their ``enrollment_id`` is the
    real id once converted, a placeholder before) and camp bookings, and notes for the
    parent. Lines already on the ledger (same key) are left out."""
    today = clock.account_today()
    settings = settings_for_account()
    new_ids = {seat.enrollment_id for seat in seats}
    cart_students = {seat.student_id for seat in seats}
    by_period: dict[date, list[Seat]] = defaultdict(list)
    for seat in seats:
        by_period[seat.start_date.replace(day=1)].append(seat)
    posted_fees = posted_registration_keys([family_id])
    lines: list[ChargeLine] = []
    charged: set = set()
    for period in sorted(by_period):
        first, last = period_bounds(period)
        existing = [
            s
            for s in seats_for_period(period, family_ids=[family_id])
            if s.enrollment_id not in new_ids
        ]
        overlapping = [s for s in seats if s.start_date <= last]
        bill = bill_families(existing + overlapping, period=period, posted_keys=posted_fees).get(
            family_id
        )
        if bill is None:
            continue
        starting = {s.enrollment_id for s in by_period[period]}
        due = max(first.replace(day=settings.due_day), today)
        for line in bill.lines:
            hours = line.key.startswith("hours:")  # the family's weekly-hours price
            wanted = (
                line.enrollment_id in starting
                or hours
                or (line.kind == "credit" and line.student_id in cart_students)
                or line.subtype == LedgerEntry.ChargeType.REGISTRATION_FEE
            )
            if not wanted or line.amount_cents <= 0:
                continue
            if line.kind == "charge" and (hours or line.enrollment_id in starting):
                charged.update(starting if hours else {line.enrollment_id})
            lines.append(
                ChargeLine(
                    kind=line.kind,
                    subtype=line.subtype,
                    description=line.description,
                    amount_cents=line.amount_cents,
                    explanation=line.explanation,
                    key=line.key,
                    entry_date=today,  # posted now: on this month's statement with the payment
                    due_date=due if line.kind == "charge" else None,
                    location_id=line.location_id,
                )
            )
    notes = [
        f"No tuition for {seat.klass} is charged online: {seat.klass.location} will tell "
        "you the price."
        for seat in seats
        if seat.enrollment_id not in charged
    ]
    lines += _camp_lines(camps, today=today)
    unique: dict[str, ChargeLine] = {}
    for line in lines:
        unique.setdefault(line.key, line)
    already = set(
        LedgerEntry.objects.filter(idempotency_key__in=list(unique)).values_list(
            "idempotency_key", flat=True
        )
    )
    return [line for key, line in unique.items() if key not in already], notes


def holds_as_items(holds, *, family_id: int) -> tuple[list[Seat], list[CampItem]]:
    """The cart's assigned holds as billing seats (placeholder enrollment ids) and camp
    items, for the quote shown before paying."""
    seats, camp_days = [], defaultdict(list)
    for hold in holds:
        if hold.student_id is None:
            continue
        if hold.klass_id:
            seats.append(
                Seat(
                    student_id=hold.student_id,
                    family_id=family_id,
                    student_name=hold.student.first_name,
                    klass=hold.klass,
                    start_date=hold.start_date,
                    end_date=None,
                    enrollment_id=f"hold{hold.pk}",
                )
            )
        else:
            key = (hold.student_id, hold.camp_day.camp_id, hold.camp_option_id)
            camp_days[key].append(hold)
    camps = [
        CampItem(
            student_id=student_id,
            student_name=group[0].student.first_name,
            camp=group[0].camp_day.camp,
            option=group[0].camp_option,
            days=tuple(sorted(h.camp_day.date for h in group)),
        )
        for (student_id, _, _), group in camp_days.items()
    ]
    return seats, camps


def converted_as_items(created, *, family_id: int) -> tuple[list[Seat], list[CampItem]]:
    """Enrollments and camp bookings a checkout created, as billing seats (real ids) and
    camp items keyed by their booking ids."""
    from classbook.enrollment.models import Enrollment

    seats, camp_groups = [], defaultdict(list)
    for item in created:
        if isinstance(item, Enrollment):
            seats.append(
                Seat(
                    student_id=item.student_id,
                    family_id=family_id,
                    student_name=item.student.first_name,
                    klass=item.klass,
                    start_date=item.start_date,
                    end_date=item.end_date,
                    enrollment_id=item.pk,
                )
            )
        else:
            camp_groups[(item.student_id, item.camp_day.camp_id, item.option_id)].append(item)
    camps = []
    for (student_id, _, _), group in camp_groups.items():
        group.sort(key=lambda b: b.camp_day.date)
        camps.append(
            CampItem(
                student_id=student_id,
                student_name=group[0].student.first_name,
                camp=group[0].camp_day.camp,
                option=group[0].option,
                days=tuple(b.camp_day.date for b in group),
                booking_ids=tuple(b.pk for b in group),
            )
        )
    return seats, camps


def cart_quote(*, holds, family) -> Quote:
    """The charges a checkout of ``holds`` would post for ``family`` now, and how much of
    it the family's unapplied credit covers."""
    from classbook.ledger.selectors import family_balance

    seats, camps = holds_as_items(holds, family_id=family.pk)
    lines, notes = charge_lines(family_id=family.pk, seats=seats, camps=camps)
    quote = Quote(lines=lines, notes=notes)
    if quote.total_cents > 0:
        credit = family_balance(family, today=clock.account_today()).unapplied_credit_cents
        quote.credit_cents = min(max(credit, 0), quote.total_cents)
    return quote
