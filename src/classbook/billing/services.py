"""Writes of tuition billing: rules, settings, billing runs and late fees."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.db.models import Q

from classbook.audit.actions import register_action
from classbook.audit.services import changes_between, created_fields, log_action, snapshot
from classbook.billing.compute import families_with_seats, period_bounds
from classbook.billing.models import BillingRun, BillingSettings, TuitionAssignment, TuitionRule
from classbook.catalog.models import Class, Program
from classbook.core import clock
from classbook.core.errors import ValidationFailed, validated
from classbook.core.tenancy import require_account
from classbook.families.models import Family
from classbook.ledger.models import LedgerEntry
from classbook.ledger.selectors import open_items
from classbook.ledger.services import BatchLine, entries_post_batch

RULE_SAVED = register_action("billing.rule_saved", "Tuition rule saved")
RULE_ASSIGNED = register_action("billing.rule_assigned", "Tuition rule assigned")
SETTINGS_SAVED = register_action("billing.settings_saved", "Billing settings changed")
RUN_STARTED = register_action("billing.run_started", "Billing run started")
RUN_RESUMED = register_action("billing.run_resumed", "Billing run resumed")

SETTINGS_FIELDS = [f.name for f in BillingSettings._meta.fields if f.name not in ("id", "account")]


def _check_hour_table(table) -> list[list[int]]:
    try:
        rows = sorted([int(limit), int(cents)] for limit, cents in table)
    except (TypeError, ValueError):
        raise ValidationFailed(
            {"hour_table": ["Each row needs weekly minutes and a price."]}
        ) from None
    if not rows:
        raise ValidationFailed({"hour_table": ["Add at least one row to the price table."]})
    if any(limit <= 0 or cents < 0 for limit, cents in rows):
        raise ValidationFailed(
            {"hour_table": ["Minutes must be above zero and prices not negative."]}
        )
    if len({limit for limit, _ in rows}) != len(rows):
        raise ValidationFailed({"hour_table": ["Two rows have the same number of minutes."]})
    return rows


@transaction.atomic
def tuition_rule_save(
    *, rule: TuitionRule | None = None, name: str, kind: str, amount_cents: int = 0, hour_table=()
) -> TuitionRule:
    creating = rule is None
    rule = rule or TuitionRule()
    before = snapshot(rule, ("name", "kind", "amount_cents", "hour_table"))
    rule.name, rule.kind = name.strip(), kind
    if kind == TuitionRule.Kind.HOURS_TABLE:
        rule.hour_table, rule.amount_cents = _check_hour_table(hour_table), 0
    else:
        if amount_cents <= 0:
            raise ValidationFailed({"amount_cents": ["Enter a price above zero."]})
        rule.amount_cents, rule.hour_table = amount_cents, []
    validated(rule, exclude=["account"])
    if TuitionRule.objects.filter(name__iexact=rule.name).exclude(pk=rule.pk).exists():
        raise ValidationFailed({"name": [f"There is already a rule named “{rule.name}”."]})
    rule.save()
    after = snapshot(rule, ("name", "kind", "amount_cents", "hour_table"))
    log_action(
        action=RULE_SAVED,
        obj=rule,
        changes=created_fields(after) if creating else changes_between(before, after),
    )
    return rule


@transaction.atomic
def tuition_assign(
    *, rule: TuitionRule | None, program: Program | None = None, klass: Class | None = None
) -> TuitionAssignment | None:
    """Price a program's classes (or one class) with ``rule``; ``None`` removes it."""
    if (program is None) == (klass is None):
        raise ValueError("assign to a program or to a class")
    current = TuitionAssignment.objects.filter(program=program, klass=klass).first()
    before = str(current.rule) if current else None
    if rule is None:
        if current:
            current.delete()
        assignment = None
    elif current:
        current.rule = rule
        current.save(update_fields=["rule"])
        assignment = current
    else:
        assignment = TuitionAssignment.objects.create(rule=rule, program=program, klass=klass)
    log_action(
        action=RULE_ASSIGNED,
        obj=program or klass,
        changes={"tuition_rule": [before, str(rule) if rule else None]},
    )
    return assignment


@transaction.atomic
def billing_settings_update(**fields) -> BillingSettings:
    unknown = set(fields) - set(SETTINGS_FIELDS)
    if unknown:
        raise TypeError(f"unknown billing settings: {sorted(unknown)}")
    settings = BillingSettings.objects.select_for_update().first() or BillingSettings()
    before = snapshot(settings, SETTINGS_FIELDS)
    for name, value in fields.items():
        setattr(settings, name, value)
    for kind, names in (
        (settings.sibling_kind, ("sibling_second", "sibling_third_plus")),
        (settings.multiclass_kind, ("multiclass_second", "multiclass_third_plus")),
    ):
        if kind == BillingSettings.DiscountKind.PERCENT:
            for name in names:
                if getattr(settings, name) > 100:
                    raise ValidationFailed({name: ["A percentage cannot be above 100."]})
    validated(settings, exclude=["account"])
    settings.save()
    log_action(
        action=SETTINGS_SAVED,
        obj=settings,
        label="Billing settings",
        changes=changes_between(before, snapshot(settings, SETTINGS_FIELDS)),
    )
    return settings


@transaction.atomic
def billing_run_resume(*, run: BillingRun) -> BillingRun:
    """Queue a stopped (failed, or stalled by a killed worker) run again; posting is
    idempotent, so the families already posted get nothing twice."""
    run = BillingRun.objects.select_for_update().get(pk=run.pk)
    if not run.can_resume:
        raise ValidationFailed("This run is not stopped; it cannot be resumed now.")
    run.status, run.error = BillingRun.Status.QUEUED, ""
    run.save(update_fields=["status", "error"])
    log_action(action=RUN_RESUMED, obj=run, label=f"Tuition {run.period:%B %Y}")
    _enqueue(run)
    return run


def _enqueue(run: BillingRun) -> None:
    from classbook.billing.tasks import post_billing_run

    account_id = require_account().pk
    transaction.on_commit(lambda: post_billing_run.enqueue(account_id=account_id, run_id=run.pk))


@transaction.atomic
def billing_run_start(*, period: date, by) -> BillingRun:
    """Queue posting of one month's tuition for every family with enrollments in it."""
    period = period.replace(day=1)
    if any(
        not r.can_resume
        for r in BillingRun.objects.filter(
            period=period, status__in=[BillingRun.Status.QUEUED, BillingRun.Status.RUNNING]
        )
    ):
        raise ValidationFailed(f"A billing run for {period:%B %Y} is already in progress.")
    family_ids = families_with_seats(period)
    run = BillingRun.objects.create(
        period=period, family_ids=family_ids, families_total=len(family_ids), created_by=by
    )
    log_action(
        action=RUN_STARTED,
        obj=run,
        label=f"Tuition {period:%B %Y}",
        changes=created_fields({"families": len(family_ids)}),
    )
    _enqueue(run)
    return run


def late_fees_assess(*, today: date | None = None) -> int:
    """Charge the late fee to families whose charges stay unpaid ``late_fee_after_days``
    after their due date; at most once per family and month of the oldest late charge.

    Each family's fee is its own transaction and audit entry (``entries_post_batch``)."""
    settings = BillingSettings.objects.first()
    if settings is None or not settings.late_fee_cents:
        return 0
    today = today or clock.account_today()
    cutoff = today - timedelta(days=settings.late_fee_after_days)
    candidates = (
        LedgerEntry.objects.filter(kind=LedgerEntry.Kind.CHARGE, due_date__lte=cutoff)
        .exclude(subtype=LedgerEntry.ChargeType.LATE_FEE)
        .filter(Q(reversed_by__isnull=True))
        .values_list("family_id", flat=True)
        .distinct()
    )
    charged = 0
    for family in Family.objects.filter(pk__in=list(candidates)):
        late = [
            item
            for item in open_items(family, direction=1)
            if item.entry.kind == LedgerEntry.Kind.CHARGE
            and item.entry.subtype != LedgerEntry.ChargeType.LATE_FEE
            and (item.entry.due_date or item.entry.entry_date) <= cutoff
        ]
        if not late:
            continue
        oldest = min((item.entry.due_date or item.entry.entry_date) for item in late)
        first, _ = period_bounds(oldest)
        posted = entries_post_batch(
            family=family,
            summary="Late fee",
            lines=[
                BatchLine(
                    kind="charge",
                    subtype=LedgerEntry.ChargeType.LATE_FEE,
                    amount_cents=settings.late_fee_cents,
                    description=f"Late fee: balance from {first:%B %Y} unpaid after "
                    f"{settings.late_fee_after_days} days",
                    idempotency_key=f"late:{family.pk}:{first:%Y-%m}",
                    entry_date=today,
                    due_date=today,
                )
            ],
        )
        charged += len(posted)
    return charged
