"""Emailing monthly statements to many families, in the worker, with progress.

Queued by ``ledger.services.statements_send``."""

from __future__ import annotations

from datetime import date

from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q, Sum

from classbook.core import clock
from classbook.core.tasks import tenant_task
from classbook.families.models import Family
from classbook.families.selectors import guardian_to_email
from classbook.ledger.documents import month_bounds, render_pdf, statement_for
from classbook.ledger.models import CREDIT, DEBIT, LedgerEntry, StatementDelivery, StatementRun


def families_for_statements(*, month: date, only_with_balance: bool) -> list[int]:
    """Active (not merged) families with ledger activity; optionally only those owing."""
    _, last = month_bounds(month)
    totals = (
        LedgerEntry.objects.filter(entry_date__lte=last)
        .values("family_id")
        .annotate(
            d=Sum("amount_cents", filter=Q(direction=DEBIT)),
            c=Sum("amount_cents", filter=Q(direction=CREDIT)),
        )
    )
    merged = set(Family.objects.filter(merged_into__isnull=False).values_list("pk", flat=True))
    return sorted(
        row["family_id"]
        for row in totals
        if row["family_id"] not in merged
        and (not only_with_balance or (row["d"] or 0) - (row["c"] or 0) > 0)
    )


@tenant_task()
def send_statements_task(*, account, run_id: int) -> dict:
    """Send every statement of a run that is not sent yet (safe to run again)."""
    run = StatementRun.objects.get(pk=run_id)
    StatementRun.objects.filter(pk=run.pk).update(status=StatementRun.Status.RUNNING)
    done = set(StatementDelivery.objects.filter(run=run).values_list("family_id", flat=True))
    try:
        for family in Family.objects.filter(pk__in=run.family_ids).exclude(pk__in=done):
            guardian = guardian_to_email(family)
            email = guardian.email if guardian else ""
            if email:
                statement = statement_for(family, month=run.month)
                pdf = render_pdf(
                    "ledger/statement_document.html", {"statement": statement, "account": account}
                )
                message = EmailMessage(
                    subject=f"{account.name}: your statement for {run.month:%B %Y}",
                    body=(
                        f"Hello,\n\nAttached is the {run.month:%B %Y} statement for the "
                        f"{family.name} family. Balance at the end of the month: "
                        f"{statement.closing_cents / 100:.2f} {account.currency}.\n\n"
                        f"{account.name}"
                    ),
                    to=[email],
                )
                message.attach(f"statement-{run.month:%Y-%m}.pdf", pdf, "application/pdf")
                message.send()
            with transaction.atomic():
                StatementDelivery.objects.create(run=run, family=family, email=email)
                counter = "sent" if email else "skipped"
                StatementRun.objects.filter(pk=run.pk).update(**{counter: F(counter) + 1})
    except Exception as exc:
        StatementRun.objects.filter(pk=run.pk).update(
            status=StatementRun.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=clock.now(),
        )
        raise
    StatementRun.objects.filter(pk=run.pk).update(
        status=StatementRun.Status.DONE, finished_at=clock.now()
    )
    run.refresh_from_db()
    return {"sent": run.sent, "skipped": run.skipped}
