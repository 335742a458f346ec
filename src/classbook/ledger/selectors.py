"""Derived ledger figures: nothing here is stored; every number comes from the entries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Sum

from classbook.ledger.models import CREDIT, Allocation, LedgerEntry

AGING_BUCKETS = ("current", "30", "60", "90+")


def aging_bucket(days_past_due: int) -> str:
    """current: not yet due or under 30 days late; then 30–59, 60–89, 90 and more."""
    if days_past_due < 30:
        return "current"
    if days_past_due < 60:
        return "30"
    if days_past_due < 90:
        return "60"
    return "90+"


@dataclass(frozen=True)
class OpenItem:
    entry: LedgerEntry
    applied_cents: int

    @property
    def open_cents(self) -> int:
        return self.entry.amount_cents - self.applied_cents


@dataclass(frozen=True)
class FamilyBalance:
    balance_cents: int  # positive: the family owes; negative: the business owes them
    due_now_cents: int  # open debits whose due date has come
    unapplied_credit_cents: int
    aging: dict[str, int] = field(default_factory=dict)  # open debits by days past due


def applied_amounts(entries: list[LedgerEntry]) -> dict[int, int]:
    """Applied cents per entry id (as a source for credits, as a target for debits)."""
    ids = [e.pk for e in entries]
    applied = {pk: 0 for pk in ids}
    out = (
        Allocation.objects.filter(source_id__in=ids)
        .values("source_id")
        .annotate(total=Sum("amount_cents"))
    )
    into = (
        Allocation.objects.filter(target_id__in=ids)
        .values("target_id")
        .annotate(total=Sum("amount_cents"))
    )
    for row in out:
        applied[row["source_id"]] += row["total"]
    for row in into:
        applied[row["target_id"]] += row["total"]
    return applied


def open_items(family, *, direction: int) -> list[OpenItem]:
    """Entries of one direction with something left to apply, oldest due first."""
    entries = list(
        LedgerEntry.objects.filter(family=family, direction=direction).order_by(
            "due_date", "entry_date", "id"
        )
    )
    applied = applied_amounts(entries)
    items = [OpenItem(entry=e, applied_cents=applied[e.pk]) for e in entries]
    return [item for item in items if item.open_cents > 0]


def family_balance(family, *, today: date) -> FamilyBalance:
    """The family's figures from one read of its entries and two of what is applied."""
    entries = list(
        LedgerEntry.objects.filter(family=family).only(
            "id", "account_id", "family_id", "direction", "amount_cents", "entry_date", "due_date"
        )
    )
    applied = applied_amounts(entries)
    balance = due_now = unapplied = 0
    aging = dict.fromkeys(AGING_BUCKETS, 0)
    for entry in entries:
        balance += entry.signed_cents
        open_cents = entry.amount_cents - applied[entry.pk]
        if open_cents <= 0:
            continue
        if entry.direction == CREDIT:
            unapplied += open_cents
            continue
        due = entry.due_date or entry.entry_date
        if due <= today:
            due_now += open_cents
        aging[aging_bucket((today - due).days)] += open_cents
    return FamilyBalance(
        balance_cents=balance, due_now_cents=due_now, unapplied_credit_cents=unapplied, aging=aging
    )


@dataclass(frozen=True)
class LedgerLine:
    entry: LedgerEntry
    applied_cents: int
    running_balance_cents: int


def ledger_lines(
    family,
    *,
    kinds: list[str] | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> list[LedgerLine]:
    """The family's ledger with a running balance (computed over all entries, then
    filtered, so the running figure is always the true balance at that line)."""
    entries = list(
        LedgerEntry.objects.filter(family=family)
        .select_related("posted_by", "location", "reverses")
        .order_by("entry_date", "id")
    )
    applied = applied_amounts(entries)
    running = 0
    lines = []
    for entry in entries:
        running += entry.signed_cents
        if kinds and entry.kind not in kinds:
            continue
        if date_from and entry.entry_date < date_from:
            continue
        if date_to and entry.entry_date > date_to:
            continue
        lines.append(
            LedgerLine(entry=entry, applied_cents=applied[entry.pk], running_balance_cents=running)
        )
    return lines


def refundable_cents(payment: LedgerEntry) -> int:
    """What can still be refunded of a payment: its amount less refunds and reversal."""
    if LedgerEntry.objects.filter(reverses=payment).exists():
        return 0
    refunded = sum(
        LedgerEntry.objects.filter(refund_of=payment, kind=LedgerEntry.Kind.REFUND)
        .exclude(reversed_by__isnull=False)
        .values_list("amount_cents", flat=True)
    )
    return payment.amount_cents - refunded
