"""Bench scenario ``billing_run``: posting one month of tuition, as the worker does.

Builds a priced program with classes meeting every weekday of the coming month and
enrolls the generated students (up to 10,000 enrollments) directly, refreshes the
planner's statistics (autovacuum would have by the time a real account had these
enrollments), then times ``billing.tasks.post_families`` over every family in the run's
batches — the whole path: computing lines, the families' locks, keyed bulk inserts,
applying discounts and one audit entry per family. The ledger starts empty, as for an
account's first run. Reports enrollments per second and the queries per batch.
"""

from __future__ import annotations

import math
from datetime import date, time, timedelta
from time import perf_counter

from django.db import connection

from classbook.bench import BenchContext, Row, analyze_tables, scenario

MAX_ENROLLMENTS = 10_000
CLASS_COUNT = 100


def _next_month(today: date) -> date:
    return (today.replace(day=28) + timedelta(days=4)).replace(day=1)


def build(*, enrollments_wanted: int, today: date) -> tuple[date, int]:
    """Create the classes and enrollments to bill; returns (period, enrollments)."""
    from classbook.accounts.models import Location
    from classbook.accounts.services import location_save
    from classbook.billing import services as billing
    from classbook.catalog import services as catalog
    from classbook.catalog.models import Program
    from classbook.enrollment.models import Enrollment
    from classbook.families.models import Student

    period = _next_month(today)
    students = list(
        Student.objects.filter(is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)[:enrollments_wanted]
    )
    program = Program.objects.create(name="Bench program")
    rule = billing.tuition_rule_save(name="Bench monthly", kind="monthly", amount_cents=8500)
    billing.tuition_assign(rule=rule, program=program)
    billing.billing_settings_update(
        sibling_kind="percent", sibling_second=10, registration_fee_cents=3500
    )
    location = Location.objects.order_by("pk").first() or location_save(name="Bench gym")
    per_class = math.ceil(len(students) / CLASS_COUNT) + 1
    classes = [
        catalog.class_save(
            program=program,
            name=f"Bench class {i}",
            location=location,
            start_date=period - timedelta(days=31),
            end_date=period + timedelta(days=90),
            weekdays=[i % 6],
            start_time=time(15 + i % 4, 0),
            end_time=time(16 + i % 4, 0),
            capacity=per_class,
            confirm_conflicts=True,
        )
        for i in range(CLASS_COUNT)
    ]
    first_day = period - timedelta(days=20)
    Enrollment.objects.bulk_create(
        [
            Enrollment(
                account_id=location.account_id,
                student_id=pk,
                klass=classes[i % CLASS_COUNT],
                start_date=first_day if i % 5 else period + timedelta(days=10),
            )
            for i, pk in enumerate(students)
        ],
        batch_size=2000,
    )
    return period, len(students)


@scenario("billing_run", "post one month of tuition for up to 10,000 enrollments")
def run(ctx: BenchContext) -> list[Row]:
    from classbook.billing.compute import families_with_seats
    from classbook.billing.tasks import BATCH_SIZE, post_families
    from classbook.core import clock
    from classbook.core.tenancy import activate_account

    with activate_account(ctx.account):
        today = clock.account_today()
        period, enrollments = build(enrollments_wanted=MAX_ENROLLMENTS, today=today)
        family_ids = families_with_seats(period)
        if not connection.in_atomic_block:  # a test's transaction cannot change role
            analyze_tables()  # as autovacuum would have, with these enrollments
        row = Row(scenario=f"billing run: {enrollments} enrollments, {len(family_ids)} families")
        queries = 0

        def count(execute, sql, params, many, context):
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        # Counted with a wrapper: a run makes more queries than Django's query log keeps.
        started = perf_counter()
        with connection.execute_wrapper(count):
            for start in range(0, len(family_ids), BATCH_SIZE):
                post_families(period, family_ids[start : start + BATCH_SIZE])
        seconds = perf_counter() - started
    batches = max(1, math.ceil(len(family_ids) / BATCH_SIZE))
    row.samples_ms = [seconds * 1000]
    row.queries = [round(queries / batches)]  # per batch of BATCH_SIZE families
    row.note = (
        f"{enrollments / seconds:,.0f} enrollments/s, {queries / batches:.0f} queries per "
        f"batch of {BATCH_SIZE} ({queries / max(1, len(family_ids)):.2f} per family)"
    )
    return [row]
