"""Reads for the billing pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Q

from classbook.billing.compute import (
    FamilyBill,
    bill_families,
    posted_registration_keys,
    seats_for_period,
)
from classbook.billing.models import TuitionAssignment
from classbook.families.models import Family
from classbook.ledger.models import LedgerEntry


@dataclass(frozen=True)
class PreviewRow:
    family: Family
    bill: FamilyBill
    already_posted: set[str]

    @property
    def new_total_cents(self) -> int:
        return sum(
            (ln.amount_cents if ln.kind == "charge" else -ln.amount_cents)
            for ln in self.bill.lines
            if ln.key not in self.already_posted
        )


@dataclass(frozen=True)
class Preview:
    rows: list[PreviewRow]
    families: int
    charges_cents: int
    credits_cents: int
    warnings: int


def billing_preview(period: date, *, search: str = "") -> Preview:
    """Every family's lines for the period, marking lines a run already posted."""
    seats = seats_for_period(period)
    family_ids = sorted({s.family_id for s in seats})
    bills = bill_families(seats, period=period, posted_keys=posted_registration_keys(family_ids))
    families = Family.objects.in_bulk(family_ids)
    keys = [ln.key for b in bills.values() for ln in b.lines]
    posted = set(
        LedgerEntry.objects.filter(idempotency_key__in=keys).values_list(
            "idempotency_key", flat=True
        )
    )
    rows = []
    for family_id in family_ids:
        family = families[family_id]
        if search and search.lower() not in family.name.lower():
            continue
        rows.append(PreviewRow(family=family, bill=bills[family_id], already_posted=posted))
    lines = [ln for b in bills.values() for ln in b.lines]
    return Preview(
        rows=sorted(rows, key=lambda r: r.family.name.lower()),
        families=len(family_ids),
        charges_cents=sum(ln.amount_cents for ln in lines if ln.kind == "charge"),
        credits_cents=sum(ln.amount_cents for ln in lines if ln.kind == "credit"),
        warnings=sum(len(b.warnings) for b in bills.values()),
    )


def assignments() -> dict[str, list[TuitionAssignment]]:
    rows = TuitionAssignment.objects.select_related("rule", "program", "klass__program")
    return {
        "programs": [a for a in rows if a.program_id],
        "classes": [a for a in rows if a.klass_id],
    }


def unpriced_class_count() -> int:
    from classbook.catalog.models import Class

    priced_programs = TuitionAssignment.objects.filter(program__isnull=False).values("program")
    priced_classes = TuitionAssignment.objects.filter(klass__isnull=False).values("klass")
    return (
        Class.objects.filter(is_active=True)
        .exclude(Q(program__in=priced_programs) | Q(pk__in=priced_classes))
        .count()
    )
