"""Receipts and statements: one template each, as HTML for the screen and PDF for mail."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from django.db.models import Q, Sum
from django.template.loader import render_to_string

from classbook.ledger.models import CREDIT, DEBIT, Allocation, LedgerEntry
from classbook.ledger.selectors import LedgerLine, family_balance, ledger_lines


@dataclass(frozen=True)
class Receipt:
    payment: LedgerEntry
    applied_to: list[tuple[LedgerEntry, int]]
    unapplied_cents: int
    balance_after_cents: int


def receipt_for(payment: LedgerEntry, *, today: date) -> Receipt:
    totals: dict[int, int] = {}
    for alloc in Allocation.objects.filter(source=payment):
        totals[alloc.target_id] = totals.get(alloc.target_id, 0) + alloc.amount_cents
    targets = {e.pk: e for e in LedgerEntry.objects.filter(pk__in=totals)}
    applied = [(targets[pk], cents) for pk, cents in totals.items() if cents > 0]
    balance_after = _balance_through(payment.family, payment)
    return Receipt(
        payment=payment,
        applied_to=applied,
        unapplied_cents=payment.amount_cents - sum(c for _, c in applied),
        balance_after_cents=balance_after,
    )


def _balance_through(family, entry: LedgerEntry) -> int:
    rows = LedgerEntry.objects.filter(family=family).filter(
        Q(entry_date__lt=entry.entry_date) | Q(entry_date=entry.entry_date, id__lte=entry.pk)
    )
    totals = rows.aggregate(
        d=Sum("amount_cents", filter=Q(direction=DEBIT)),
        c=Sum("amount_cents", filter=Q(direction=CREDIT)),
    )
    return (totals["d"] or 0) - (totals["c"] or 0)


@dataclass(frozen=True)
class Statement:
    family: object
    month: date  # the first day
    opening_cents: int
    lines: list[LedgerLine]
    closing_cents: int
    aging: dict[str, int]
    due_now_cents: int


def month_bounds(month: date) -> tuple[date, date]:
    first = month.replace(day=1)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    return first, last


def statement_for(family, *, month: date) -> Statement:
    first, last = month_bounds(month)
    opening = LedgerEntry.objects.filter(family=family, entry_date__lt=first).aggregate(
        d=Sum("amount_cents", filter=Q(direction=DEBIT)),
        c=Sum("amount_cents", filter=Q(direction=CREDIT)),
    )
    opening_cents = (opening["d"] or 0) - (opening["c"] or 0)
    lines = ledger_lines(family, date_from=first, date_to=last)
    closing = lines[-1].running_balance_cents if lines else opening_cents
    figures = family_balance(family, today=last)
    return Statement(
        family=family,
        month=first,
        opening_cents=opening_cents,
        lines=lines,
        closing_cents=closing,
        aging=figures.aging,
        due_now_cents=figures.due_now_cents,
    )


def render_pdf(template: str, context: dict) -> bytes:
    from weasyprint import HTML

    from classbook.core.tenancy import require_account

    html = render_to_string(template, {"account": require_account(), **context})
    return HTML(string=html).write_pdf()
