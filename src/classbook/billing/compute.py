"""What a family owes for a period, line by line, with the reason for every number.

One function serves the billing run (preview and posting) and the portal checkout, so a
parent sees the same cents the office posts. Nothing here writes.

Order of application (tested in tests/billing/test_compute.py):

1. Base tuition per enrollment from its class's rule (class assignment wins over the
   program's): monthly, per session, per meeting; hour-table rules price the family's
   total weekly time at once.
2. Proration, per the account: a start or drop inside the period is charged by meetings
   attended / meetings held (closures are not meetings), the full amount, or nothing.
3. Multi-class discount: a student's (or the family's) enrollments by base price, highest
   first; the 2nd gets the 2nd-class discount, the 3rd and later the 3rd+ discount.
4. Sibling discount: the family's students by tuition after step 3, highest first; the
   2nd student's tuition gets the 2nd-child discount, the 3rd and later the 3rd+.
5. Registration fee, once per membership year, per family or per student.

Without ``combine_locations`` steps 3 and 4 count each location separately. Hour-table
tuition takes no multi-class or sibling discount (the table already prices volume).
Percentages round half up to the cent.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q

from classbook.billing.models import BillingSettings, TuitionAssignment, TuitionRule
from classbook.catalog import weekdays as weekday_bits
from classbook.catalog.models import Class, Meeting
from classbook.enrollment.capacity import SEATED
from classbook.enrollment.models import Enrollment
from classbook.ledger.models import LedgerEntry


@dataclass(frozen=True)
class Line:
    kind: str  # "charge" or "credit"
    subtype: str  # ledger charge type or credit type
    family_id: int
    description: str
    amount_cents: int
    explanation: str
    key: str
    student_id: int | None = None
    enrollment_id: int | None = None
    location_id: int | None = None


@dataclass
class FamilyBill:
    family_id: int
    lines: list[Line] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def total_cents(self) -> int:
        return sum(
            ln.amount_cents if ln.kind == "charge" else -ln.amount_cents for ln in self.lines
        )


@dataclass(frozen=True)
class Seat:
    """An enrollment, real or proposed (portal checkout), as billing sees it."""

    student_id: int
    family_id: int
    student_name: str
    klass: object  # catalog.Class with program and location loaded
    start_date: date
    end_date: date | None
    enrollment_id: int | None = None


def period_bounds(period: date) -> tuple[date, date]:
    first = period.replace(day=1)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def settings_for_account() -> BillingSettings:
    return BillingSettings.objects.first() or BillingSettings()


def _percent(base: int, percent: int) -> int:
    return int((Decimal(base) * percent / 100).to_integral_value(ROUND_HALF_UP))


def _discount(base: int, kind: str, value: int) -> int:
    if value <= 0 or base <= 0:
        return 0
    return (
        _percent(base, value) if kind == BillingSettings.DiscountKind.PERCENT else min(value, base)
    )


def _money(cents: int) -> str:
    return f"{cents / 100:,.2f}"


def membership_year(day: date, start_month: int) -> int:
    return day.year if day.month >= start_month else day.year - 1


class Pricing:
    """Rules, meetings and settings loaded once for many families."""

    def __init__(self, *, period: date, seats: list[Seat]):
        self.first, self.last = period_bounds(period)
        self.period_label = f"{self.first:%B %Y}"
        self.period_key = f"{self.first:%Y-%m}"
        self.settings = settings_for_account()
        class_ids = {s.klass.pk for s in seats}
        program_ids = {s.klass.program_id for s in seats}
        self.rules: dict[tuple[str, int], TuitionRule] = {}
        for a in TuitionAssignment.objects.filter(
            Q(klass_id__in=class_ids) | Q(program_id__in=program_ids)
        ).select_related("rule"):
            self.rules[("class", a.klass_id) if a.klass_id else ("program", a.program_id)] = a.rule
        self.meetings: dict[int, list[date]] = defaultdict(list)
        for class_id, day in (
            Meeting.objects.filter(klass_id__in=class_ids, date__range=(self.first, self.last))
            .order_by("date")
            .values_list("klass_id", "date")
        ):
            self.meetings[class_id].append(day)
        self.term_meetings: dict[int, list[date]] = defaultdict(list)
        term_classes = {s.klass.pk for s in seats if s.klass.term_id}
        if term_classes:
            for class_id, day in (
                Meeting.objects.filter(klass_id__in=term_classes)
                .order_by("date")
                .values_list("klass_id", "date")
            ):
                self.term_meetings[class_id].append(day)

    def rule_for(self, klass) -> TuitionRule | None:
        return self.rules.get(("class", klass.pk)) or self.rules.get(("program", klass.program_id))

    def due_date(self) -> date:
        return self.first.replace(day=self.settings.due_day)


def _attended(days: list[date], seat: Seat) -> list[date]:
    return [
        d for d in days if seat.start_date <= d and (seat.end_date is None or d <= seat.end_date)
    ]


def _base_line(seat: Seat, rule: TuitionRule, pricing: Pricing) -> tuple[int, str, str] | None:
    """(cents, explanation, key) of one enrollment's tuition for the period, or None."""
    klass, policy = seat.klass, pricing.settings.proration
    held = pricing.meetings.get(klass.pk, [])
    attended = _attended(held, seat)
    if not attended:
        return None
    key = f"tuition:{seat.enrollment_id or 'new'}:{pricing.period_key}"
    if rule.kind == TuitionRule.Kind.PER_MEETING:
        cents = rule.amount_cents * len(attended)
        return cents, f"{len(attended)} meetings × {_money(rule.amount_cents)}", key
    if rule.kind == TuitionRule.Kind.PER_TERM:
        term_days = _attended(pricing.term_meetings.get(klass.pk, []), seat)
        if not term_days or not (pricing.first <= term_days[0] <= pricing.last):
            return None  # the session is billed in the month of its first meeting
        total = len(pricing.term_meetings[klass.pk])
        key = f"tuition:{seat.enrollment_id or 'new'}:term{klass.term_id}"
        return _prorated(
            rule.amount_cents,
            len(term_days),
            total,
            policy,
            unit=f"session ({klass.term})",
            key=key,
        )
    return _prorated(
        rule.amount_cents, len(attended), len(held), policy, unit=pricing.period_label, key=key
    )


def _prorated(
    amount: int, attended: int, held: int, policy: str, *, unit: str, key: str
) -> tuple[int, str, str] | None:
    if attended >= held:
        return amount, f"{_money(amount)} for {unit}", key
    if policy == BillingSettings.Proration.NONE:
        return None
    if policy == BillingSettings.Proration.FULL:
        return amount, f"{_money(amount)} for {unit} (partial periods are charged in full)", key
    cents = int((Decimal(amount) * attended / held).to_integral_value(ROUND_HALF_UP))
    return cents, f"{_money(amount)} × {attended}/{held} meetings in {unit}", key


def _weekly_minutes(klass) -> int:
    start = klass.start_time.hour * 60 + klass.start_time.minute
    end = klass.end_time.hour * 60 + klass.end_time.minute
    return (end - start) * len(weekday_bits.from_mask(klass.weekdays))


def _hour_table_price(rule: TuitionRule, minutes: int) -> int | None:
    for limit, cents in sorted(rule.hour_table):
        if minutes <= limit:
            return cents
    return None


def bill_families(
    seats: list[Seat], *, period: date, posted_keys: set[str] | None = None
) -> dict[int, FamilyBill]:
    """Every family's lines for the period (``posted_keys`` marks registration fees
    already charged this membership year)."""
    pricing = Pricing(period=period, seats=seats)
    settings = pricing.settings
    bills: dict[int, FamilyBill] = {}
    bases: list[tuple[Seat, int, Line]] = []
    hour_groups: dict[tuple[int, int], list[Seat]] = defaultdict(list)
    for seat in seats:
        bill = bills.setdefault(seat.family_id, FamilyBill(seat.family_id))
        rule = pricing.rule_for(seat.klass)
        if rule is None:
            bill.warnings.append(
                f"{seat.klass} has no tuition rule; nothing charged for {seat.student_name}."
            )
            continue
        if rule.kind == TuitionRule.Kind.HOURS_TABLE:
            if _attended(pricing.meetings.get(seat.klass.pk, []), seat):
                hour_groups[(seat.family_id, rule.pk)].append(seat)
            continue
        base = _base_line(seat, rule, pricing)
        if base is None:
            continue
        cents, explanation, key = base
        line = Line(
            kind="charge",
            subtype=LedgerEntry.ChargeType.TUITION,
            family_id=seat.family_id,
            student_id=seat.student_id,
            enrollment_id=seat.enrollment_id,
            location_id=seat.klass.location_id,
            description=f"Tuition {pricing.period_label}: {seat.student_name}, {seat.klass}",
            amount_cents=cents,
            explanation=explanation,
            key=key,
        )
        bill.lines.append(line)
        bases.append((seat, cents, line))
    for (family_id, _), group in hour_groups.items():
        rule = pricing.rule_for(group[0].klass)
        minutes = sum(_weekly_minutes(s.klass) for s in group)
        cents = _hour_table_price(rule, minutes)
        if cents is None:
            bills[family_id].warnings.append(
                f"{minutes // 60} h {minutes % 60} min a week is beyond the “{rule}” table."
            )
            continue
        bills[family_id].lines.append(
            Line(
                kind="charge",
                subtype=LedgerEntry.ChargeType.TUITION,
                family_id=family_id,
                description=f"Tuition {pricing.period_label}: {minutes // 60} h {minutes % 60:02d} "
                "min a week",
                amount_cents=cents,
                explanation=f"{rule}: {len(group)} classes, {minutes} minutes a week",
                key=f"hours:{family_id}:{rule.pk}:{pricing.period_key}",
            )
        )
    after_multiclass = _multiclass(bases, bills, settings, pricing)
    _siblings(bases, after_multiclass, bills, settings, pricing)
    _registration_fees(seats, bills, settings, pricing, posted_keys or set())
    return bills


def _group_key(seat: Seat, scope: str, settings: BillingSettings):
    owner = seat.student_id if scope == BillingSettings.Scope.STUDENT else seat.family_id
    return owner if settings.combine_locations else (owner, seat.klass.location_id)


def _multiclass(bases, bills, settings, pricing) -> dict[int, int]:
    """Apply step 3; returns each enrollment line's tuition after it, by line key."""
    after = {line.key: cents for _, cents, line in bases}
    groups = defaultdict(list)
    for seat, cents, line in bases:
        groups[_group_key(seat, settings.multiclass_scope, settings)].append((seat, cents, line))
    for members in groups.values():
        members.sort(key=lambda m: (-m[1], m[2].key))
        for rank, (seat, cents, line) in enumerate(members[1:], start=2):
            value = settings.multiclass_second if rank == 2 else settings.multiclass_third_plus
            discount = _discount(cents, settings.multiclass_kind, value)
            if discount:
                after[line.key] -= discount
                bills[seat.family_id].lines.append(
                    Line(
                        kind="credit",
                        subtype=LedgerEntry.CreditType.DISCOUNT,
                        family_id=seat.family_id,
                        student_id=seat.student_id,
                        enrollment_id=seat.enrollment_id,
                        location_id=line.location_id,
                        description=f"Multi-class discount ({_ordinal(rank)} class) "
                        f"{pricing.period_label}: {seat.student_name}",
                        amount_cents=discount,
                        explanation=f"{_rate(settings.multiclass_kind, value)} of {_money(cents)}",
                        key=f"multiclass:{line.key}",
                    )
                )
    return after


def _siblings(bases, after, bills, settings, pricing) -> None:
    students: dict = defaultdict(lambda: {"cents": 0, "name": "", "location": None})
    for seat, _, line in bases:
        key = (
            (seat.family_id, seat.student_id)
            if settings.combine_locations
            else (seat.family_id, seat.student_id, seat.klass.location_id)
        )
        entry = students[key]
        entry["cents"] += after[line.key]
        entry["name"], entry["location"] = seat.student_name, seat.klass.location_id
    families = defaultdict(list)
    for key, entry in students.items():
        families[key[0] if settings.combine_locations else (key[0], key[2])].append((key, entry))
    for members in families.values():
        members.sort(key=lambda m: (-m[1]["cents"], m[0]))
        for rank, (key, entry) in enumerate(members[1:], start=2):
            value = settings.sibling_second if rank == 2 else settings.sibling_third_plus
            discount = _discount(entry["cents"], settings.sibling_kind, value)
            if discount:
                family_id, student_id = key[0], key[1]
                bills[family_id].lines.append(
                    Line(
                        kind="credit",
                        subtype=LedgerEntry.CreditType.DISCOUNT,
                        family_id=family_id,
                        student_id=student_id,
                        location_id=entry["location"],
                        description=f"Sibling discount ({_ordinal(rank)} child) "
                        f"{pricing.period_label}: {entry['name']}",
                        amount_cents=discount,
                        explanation=f"{_rate(settings.sibling_kind, value)} of "
                        f"{_money(entry['cents'])}",
                        key=f"sibling:{student_id}:{key[2] if len(key) > 2 else 'all'}:"
                        f"{pricing.period_key}",
                    )
                )


def registration_fee_key(*, family_id: int, student_id: int | None, year: int) -> str:
    owner = f"student:{student_id}" if student_id else f"family:{family_id}"
    return f"regfee:{owner}:{year}"


def _registration_fees(seats, bills, settings, pricing, posted_keys) -> None:
    fee = settings.registration_fee_cents
    if not fee:
        return
    year = membership_year(pricing.first, settings.membership_year_start_month)
    per_student = settings.registration_fee_scope == BillingSettings.Scope.STUDENT
    owners = {}
    for seat in seats:
        if seat.family_id in bills and bills[seat.family_id].lines:
            owner = (seat.family_id, seat.student_id if per_student else None)
            owners.setdefault(owner, seat.student_name)
    for (family_id, student_id), name in owners.items():
        key = registration_fee_key(family_id=family_id, student_id=student_id, year=year)
        if key in posted_keys:
            continue
        who = name if student_id else "family"
        bills[family_id].lines.append(
            Line(
                kind="charge",
                subtype=LedgerEntry.ChargeType.REGISTRATION_FEE,
                family_id=family_id,
                student_id=student_id,
                description=f"Registration fee {year}–{year + 1}: {who}",
                amount_cents=fee,
                explanation="Charged once per membership year with the first enrollment",
                key=key,
            )
        )


def _ordinal(n: int) -> str:
    return {2: "2nd", 3: "3rd"}.get(n, f"{n}th")


def _rate(kind: str, value: int) -> str:
    return f"{value}%" if kind == BillingSettings.DiscountKind.PERCENT else _money(value)


def _seated(period: date):
    """Seated enrollments that overlap the period."""
    first, last = period_bounds(period)
    return Enrollment.objects.filter(status__in=SEATED, start_date__lte=last).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=first)
    )


def seats_for_period(period: date, *, family_ids: list[int] | None = None) -> list[Seat]:
    """Every seated enrollment that overlaps the period.

    Two queries: the enrollments as plain rows, then each class once (with its program,
    location and term) — a billing batch has thousands of seats in a few classes."""
    enrollments = _seated(period)
    if family_ids is not None:
        enrollments = enrollments.filter(student__family_id__in=family_ids)
    rows = list(
        enrollments.order_by("student__family_id", "id").values_list(
            "id",
            "student_id",
            "student__family_id",
            "student__first_name",
            "klass_id",
            "start_date",
            "end_date",
        )
    )
    classes = Class.objects.select_related("program", "location", "term").in_bulk(
        {row[4] for row in rows}
    )
    return [
        Seat(
            student_id=student_id,
            family_id=family_id,
            student_name=first_name,
            klass=classes[klass_id],
            start_date=start_date,
            end_date=end_date,
            enrollment_id=pk,
        )
        for pk, student_id, family_id, first_name, klass_id, start_date, end_date in rows
    ]


def posted_registration_keys(family_ids) -> set[str]:
    return set(
        LedgerEntry.objects.filter(
            family_id__in=family_ids, idempotency_key__startswith="regfee:"
        ).values_list("idempotency_key", flat=True)
    )


def families_with_seats(period: date) -> list[int]:
    return sorted(
        set(_seated(period).order_by().values_list("student__family_id", flat=True).distinct())
    )
