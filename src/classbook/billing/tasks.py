"""The billing run in the worker: families in batches, progress on the run row."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.db.models import F

from classbook.billing.compute import bill_families, posted_registration_keys, seats_for_period
from classbook.billing.models import BillingRun, BillingSettings
from classbook.core import clock
from classbook.core.tasks import tenant_task
from classbook.families.models import Family
from classbook.ledger.services import BatchLine, entries_post_batch
from classbook.payments.tasks import autopay_after_billing

BATCH_SIZE = 200


def post_families(period: date, family_ids: list[int]) -> tuple[int, int]:
    """Post one batch of families in one transaction. Returns (entries, cents)."""
    settings_due = period.replace(
        day=(BillingSettings.objects.first() or BillingSettings()).due_day
    )
    seats = seats_for_period(period, family_ids=family_ids)
    bills = bill_families(seats, period=period, posted_keys=posted_registration_keys(family_ids))
    families = Family.objects.in_bulk(family_ids)
    # One transaction per batch (each family is still its own savepoint): a commit per
    # family costs a disk flush each on PostgreSQL. A crash loses at most this batch,
    # which the resumed run posts again; the idempotency keys skip what was committed.
    with transaction.atomic():
        return _post_bills(period, family_ids, families, bills, settings_due)


def _post_bills(period, family_ids, families, bills, settings_due) -> tuple[int, int]:
    entries = cents = 0
    for family_id in family_ids:
        bill = bills.get(family_id)
        if bill is None or not bill.lines:
            continue
        posted = entries_post_batch(
            family=families[family_id],
            lines=[
                BatchLine(
                    kind=line.kind,
                    subtype=line.subtype,
                    amount_cents=line.amount_cents,
                    description=line.description,
                    idempotency_key=line.key,
                    entry_date=period,
                    due_date=settings_due,
                    location_id=line.location_id,
                )
                for line in bill.lines
                if line.amount_cents > 0
            ],
            summary=f"Tuition {period:%B %Y}",
        )
        entries += len(posted)
        cents += sum(e.signed_cents for e in posted)
    return entries, cents


@tenant_task()
def post_billing_run(*, account, run_id: int) -> dict:
    """Post every family of the run; safe to run again after a crash (idempotent keys)."""
    run = BillingRun.objects.get(pk=run_id)
    BillingRun.objects.filter(pk=run.pk).update(
        status=BillingRun.Status.RUNNING,
        started_at=clock.now(),
        updated_at=clock.now(),
        families_done=0,
        charges_posted=0,
        cents_posted=0,
    )
    ids = run.family_ids
    try:
        for start in range(0, len(ids), BATCH_SIZE):
            batch = ids[start : start + BATCH_SIZE]
            entries, cents = post_families(run.period, batch)
            BillingRun.objects.filter(pk=run.pk).update(
                families_done=F("families_done") + len(batch),
                charges_posted=F("charges_posted") + entries,
                cents_posted=F("cents_posted") + cents,
                updated_at=clock.now(),
            )
    except Exception as exc:
        BillingRun.objects.filter(pk=run.pk).update(
            status=BillingRun.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            updated_at=clock.now(),
        )
        raise
    BillingRun.objects.filter(pk=run.pk).update(
        status=BillingRun.Status.DONE, finished_at=clock.now(), updated_at=clock.now()
    )
    run.refresh_from_db()
    autopay_after_billing(account=account, period=run.period)  # cards on file pay what is due
    return {"families": run.families_done, "entries": run.charges_posted}
