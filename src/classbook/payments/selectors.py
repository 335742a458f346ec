"""Reads for payments: the account's gateway, saved cards, deposits, reconciliation."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.db.models import Sum

from classbook.ledger.models import LedgerEntry
from classbook.payments.models import GatewaySettings, SavedCard


def gateway_settings() -> GatewaySettings | None:
    return GatewaySettings.objects.first()


def gateway_for_account():
    """The active account's gateway, or None when it has no gateway settings."""
    from classbook.payments.stripe_gateway import StripeGateway

    settings = gateway_settings()
    if settings is None or not settings.secret_key_encrypted:
        return None
    return StripeGateway(
        secret_key=settings.secret_key,
        api_base=settings.api_base,
        webhook_secret=settings.webhook_secret,
    )


def saved_cards(family) -> list[SavedCard]:
    return list(SavedCard.objects.filter(family=family, removed_at__isnull=True))


@dataclass(frozen=True)
class DepositLine:
    day: date
    method: str
    method_label: str
    location: str
    count: int
    total_cents: int
    payments: list[LedgerEntry]


def deposit_report(
    *, start: date, end: date, location_ids: set[int] | None = None
) -> list[DepositLine]:
    """Payments (less refunds) grouped by deposit day, payment type and location."""
    entries = (
        LedgerEntry.objects.filter(kind__in=["payment", "refund"], entry_date__range=(start, end))
        .select_related("family", "location")
        .order_by("entry_date", "subtype", "id")
    )
    if location_ids is not None:
        entries = entries.filter(location_id__in=location_ids)
    groups: dict[tuple, list[LedgerEntry]] = defaultdict(list)
    for entry in entries:
        groups[
            (entry.entry_date, entry.subtype, entry.location.name if entry.location else "—")
        ].append(entry)
    methods = dict(LedgerEntry.PaymentMethod.choices)
    return [
        DepositLine(
            day=day,
            method=method,
            method_label=methods.get(method, method),
            location=location,
            count=len(items),
            total_cents=sum(-e.signed_cents for e in items),
            payments=items,
        )
        for (day, method, location), items in sorted(groups.items())
    ]


def ledger_totals_by_day(start: date, end: date, method: str = "card") -> dict[date, int]:
    rows = (
        LedgerEntry.objects.filter(kind="payment", subtype=method, entry_date__range=(start, end))
        .values("entry_date")
        .annotate(total=Sum("amount_cents"))
    )
    return {row["entry_date"]: row["total"] for row in rows}
