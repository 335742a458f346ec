"""The billing run in the worker: families in batches, progress on the run row."""

from __future__ import annotations

from datetime import date

from django.db.models import F

from classbook.billing.compute import (
    bill_families,
    posted_registration_keys,
    seats_for_period,
    settings_for_account,
)
from classbook.billing.models import BillingRun
from classbook.core import clock
from classbook.core.tasks import tenant_task
from classbook.ledger.services import BatchLine, entries_post_families
from classbook.payments.tasks import autopay_after_billing

BATCH_SIZE = 200


def post_families(period: date, family_ids: list[int]) -> tuple[int, int]:
    """Post one batch of families in one transaction. Returns (entries, cents).

    Set-based: the batch's seats, rules and meetings are read in a few queries, its lines
    computed at once, and ``entries_post_families`` locks the families together (id
    order), skips keys already posted, inserts every new charge and discount in one
    statement, applies credit and writes one audit entry per family billed — a fixed
    number of queries per batch, not per family. A crash or a bad line rolls back the
    whole batch, which the resumed run posts again; the keys skip what was committed.
    """
    due_date = period.replace(day=settings_for_account().due_day)
    seats = seats_for_period(period, family_ids=family_ids)
    bills = bill_families(seats, period=period, posted_keys=posted_registration_keys(family_ids))
    lines_by_family = {}
    for family_id in family_ids:
        bill = bills.get(family_id)
        lines = [
            BatchLine(
                kind=line.kind,
                subtype=line.subtype,
                amount_cents=line.amount_cents,
                description=line.description,
                idempotency_key=line.key,
                entry_date=period,
                due_date=due_date,
                location_id=line.location_id,
            )
            for line in (bill.lines if bill else [])
            if line.amount_cents > 0
        ]
        if lines:
            lines_by_family[family_id] = lines
    if not lines_by_family:
        return 0, 0
    # One transaction (the service's) for the whole batch: no savepoint per family.
    posted = entries_post_families(
        lines_by_family=lines_by_family, summary=f"Tuition {period:%B %Y}"
    )
    entries = [entry for family_entries in posted.values() for entry in family_entries]
    return len(entries), sum(e.signed_cents for e in entries)


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
