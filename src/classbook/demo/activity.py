"""What a season of business leaves behind: enrollments, tuition, a year of ledger
history (charges, payments of every kind, a few refunds, reversals and late fees).

Deterministic for a seed; everything goes through the real services, so capacity,
eligibility, idempotency and the audit log hold exactly as in the office.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Count

from classbook.billing import services as billing
from classbook.billing.compute import families_with_seats, period_bounds
from classbook.billing.tasks import post_families
from classbook.catalog.models import Class, Program
from classbook.core import clock
from classbook.core.errors import ValidationFailed
from classbook.enrollment import services as enrollment
from classbook.enrollment.capacity import meeting_dates
from classbook.families.models import Family, Student
from classbook.ledger import services as ledger
from classbook.ledger.models import LedgerEntry
from classbook.ledger.selectors import open_items

# Monthly tuition per program (cents); a program not listed gets the default.
PROGRAM_PRICES = {
    "Competitive Team": 18500,
    "Preschool": 6500,
    "Swim Lessons": 9000,
    "Ninja": 8500,
    "Tumbling": 8000,
}
DEFAULT_PRICE = 8500


@dataclass(frozen=True)
class ActivitySummary:
    enrollments: int
    billed_months: int
    ledger_entries: int


def _price_programs() -> None:
    for program in Program.objects.all():
        rule = billing.tuition_rule_save(
            name=f"{program.name} monthly",
            kind="monthly",
            amount_cents=PROGRAM_PRICES.get(program.name, DEFAULT_PRICE),
        )
        billing.tuition_assign(rule=rule, program=program)
    billing.billing_settings_update(
        proration="prorate",
        due_day=1,
        sibling_kind="percent",
        sibling_second=10,
        sibling_third_plus=15,
        multiclass_kind="percent",
        multiclass_second=10,
        multiclass_third_plus=15,
        registration_fee_cents=3500,
        registration_fee_scope="family",
        membership_year_start_month=9,
        late_fee_cents=1500,
        late_fee_after_days=10,
    )


def _enroll_students(rng: random.Random, *, season_start: date) -> int:
    """Place students in classes they are eligible for, while seats last."""
    from classbook.enrollment.eligibility import class_refusals

    now = clock.now()
    classes = []
    for klass in (
        Class.objects.filter(is_active=True)
        .select_related("program", "location", "term", "required_level")
        .order_by("pk")
    ):
        dates = meeting_dates(klass, season_start, None)
        if dates:
            classes.append((klass, dates))
    enrolled = 0
    for student in Student.objects.filter(is_active=True).select_related("level").order_by("pk"):
        wanted = 1 if rng.random() < 0.75 else 2
        candidates = [
            (k, d)
            for k, d in classes
            if not class_refusals(student, k, start=d[0], now=now, check_window=False)
        ]
        rng.shuffle(candidates)
        for klass, dates in candidates:
            if wanted == 0:
                break
            start = dates[0] if rng.random() < 0.8 else dates[min(len(dates) - 1, 3)]
            try:
                enrollment.enroll(student=student, klass=klass, start_date=start)
            except ValidationFailed:
                continue  # full by now: try another class
            enrolled += 1
            wanted -= 1
    return enrolled


def _last_season_history(rng: random.Random, *, season_start: date) -> None:
    """Dec–Aug of the previous season, for families who were already customers."""
    families = list(
        Family.objects.annotate(kids=Count("students")).filter(kids__gt=0).order_by("pk")
    )
    for family in families[: len(families) * 2 // 3]:
        months = rng.randint(3, 9)
        first = (season_start - timedelta(days=1)).replace(day=1)
        for back in range(months, 0, -1):
            day = first
            for _ in range(back - 1):
                day = (day - timedelta(days=1)).replace(day=1)
            cents = rng.choice([6500, 8000, 8500, 9000]) * family.kids
            ledger.charge_post(
                family=family,
                charge_type="tuition",
                amount_cents=cents,
                description=f"Tuition {day:%B %Y} (last season)",
                entry_date=day,
                due_date=day,
                idempotency_key=f"demo:last-season:{family.pk}:{day:%Y-%m}",
            )
            _pay(
                rng,
                family,
                cents,
                day + timedelta(days=rng.randint(0, 12)),
                key=f"demo:last-season-paid:{family.pk}:{day:%Y-%m}",
            )


def _pay(rng: random.Random, family: Family, cents: int, day: date, *, key: str) -> None:
    method = rng.choices(["card_external", "check", "cash", "other"], [6, 3, 2, 1])[0]
    reference = {
        "check": f"{rng.randint(1000, 9999)}",
        "card_external": f"T{rng.randint(100000, 999999)}",
    }.get(method, "")
    ledger.payment_record(
        family=family,
        method=method,
        amount_cents=cents,
        entry_date=day,
        reference=reference,
        idempotency_key=key,
    )


def _bill_season(rng: random.Random, *, season_start: date, today: date) -> int:
    """Post tuition for each month of this season so far, and most families pay."""
    months = []
    month = season_start.replace(day=1)
    while month <= today:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    for period in months:
        family_ids = families_with_seats(period)
        post_families(period, family_ids)  # what a billing run's worker does, inline
        for family in Family.objects.filter(pk__in=family_ids):
            owed = sum(item.open_cents for item in open_items(family, direction=1))
            paying = rng.random()
            if owed <= 0 or (period.month == today.month and paying < 0.35) or paying < 0.06:
                continue  # this month not paid yet (or a family that fell behind)
            _pay(
                rng,
                family,
                owed,
                period + timedelta(days=rng.randint(0, 9)),
                key=f"demo:paid:{family.pk}:{period:%Y-%m}",
            )
    return len(months)


def _corrections(rng: random.Random) -> None:
    """A few refunds and reversals, as real ledgers have."""
    payments = list(
        LedgerEntry.objects.filter(kind="payment", subtype__in=["cash", "check"]).order_by("pk")
    )
    for payment in rng.sample(payments, k=min(4, len(payments))):
        ledger.refund_post(
            payment=payment,
            amount_cents=min(2000, payment.amount_cents),
            description="Refund: class cancelled for weather",
        )
    checks = [p for p in payments if p.subtype == "check"]
    if checks:
        bounced = rng.choice(checks)
        if not LedgerEntry.objects.filter(refund_of=bounced).exists():
            ledger.entry_reverse(entry=bounced, reason="Check returned by the bank")


def _gateway_for_demo() -> None:
    sandbox = settings.CLASSBOOK_GATEWAY_SANDBOX_URL
    if sandbox:
        from classbook.payments.services import gateway_settings_save

        gateway_settings_save(
            publishable_key="pk_test_sunrise_demo",
            secret_key="sk_test_sunrise_demo",
            webhook_secret="whsec_sunrise_demo",
            api_base=sandbox,
        )


def generate_activity(*, seed: int = 2026, today: date | None = None) -> ActivitySummary:
    """Run inside the active account, after the catalog and families exist."""
    rng = random.Random(seed)
    today = today or clock.account_today()
    first_term = (
        Class.objects.filter(term__isnull=False)
        .order_by("term__start_date")
        .values_list("term__start_date", flat=True)
        .first()
    )
    season_start = first_term or period_bounds(today)[0]
    _price_programs()
    _gateway_for_demo()
    enrolled = _enroll_students(rng, season_start=season_start)
    _last_season_history(rng, season_start=season_start)
    months = _bill_season(rng, season_start=season_start, today=today)
    _corrections(rng)
    billing.late_fees_assess(today=today)
    return ActivitySummary(
        enrollments=enrolled, billed_months=months, ledger_entries=LedgerEntry.objects.count()
    )
