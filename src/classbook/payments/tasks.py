"""Payments work in the worker: autopay after a billing run."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

from classbook.core.tasks import tenant_task


@tenant_task()
def charge_autopay(*, account, period: str) -> dict:
    """Autopay for one billing period (ISO date of its first day). Safe to run again: each
    family's try has its own request token, so nobody is charged twice."""
    from classbook.payments.autopay import autopay_run

    return asdict(autopay_run(period=date.fromisoformat(period)))


def autopay_after_billing(*, account, period: date) -> None:
    """Queue autopay for a billing run that finished (called at the end of billing's
    ``post_billing_run``)."""
    charge_autopay.enqueue(account_id=account.pk, period=period.isoformat())
