"""Reads for payments: the account's gateway, saved cards, deposits, reconciliation."""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, F, Sum

from classbook.ledger.models import LedgerEntry
from classbook.payments.models import (
    GatewayRefundRecord,
    GatewaySettings,
    PaymentAttempt,
    SavedCard,
)


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


# The HTML report lists payments one by one up to this many; above it, a month at a big
# account (thousands of autopay payments) shows the deposits by day, type and location,
# and the CSV has every payment (docs/decisions.md, "Office pages on a big account").
DEPOSIT_DETAIL_LIMIT = 500


@dataclass(frozen=True)
class DepositLine:
    day: date
    method: str
    method_label: str
    location: str
    count: int
    total_cents: int
    payments: list[LedgerEntry]  # empty when the report does not list payments


@dataclass(frozen=True)
class DepositReport:
    lines: list[DepositLine]
    payment_count: int
    listed: bool  # every payment is in its line's ``payments``


def _deposit_entries(start: date, end: date, location_ids: set[int] | None):
    entries = LedgerEntry.objects.filter(
        kind__in=["payment", "refund"], entry_date__range=(start, end)
    )
    if location_ids is not None:
        entries = entries.filter(location_id__in=location_ids)
    return entries


def deposit_report(
    *,
    start: date,
    end: date,
    location_ids: set[int] | None = None,
    detail_limit: int | None = None,
) -> DepositReport:
    """Payments (less refunds) grouped by deposit day, payment type and location: the
    groups are summed by the database; the payments themselves are read (one more query)
    only when there are at most ``detail_limit`` (``DEPOSIT_DETAIL_LIMIT``)."""
    if detail_limit is None:
        detail_limit = DEPOSIT_DETAIL_LIMIT
    entries = _deposit_entries(start, end, location_ids)
    sums = (
        entries.values("entry_date", "subtype", "location__name")
        .annotate(count=Count("id"), signed=Sum(F("amount_cents") * F("direction")))
        .order_by()
    )
    groups = {
        (row["entry_date"], row["subtype"], row["location__name"] or "—"): row for row in sums
    }
    payment_count = sum(row["count"] for row in groups.values())
    listed = payment_count <= detail_limit
    payments: dict[tuple, list[LedgerEntry]] = defaultdict(list)
    if listed:
        for entry in entries.select_related("family", "location").order_by(
            "entry_date", "subtype", "id"
        ):
            location = entry.location.name if entry.location else "—"
            payments[(entry.entry_date, entry.subtype, location)].append(entry)
    methods = dict(LedgerEntry.PaymentMethod.choices)
    lines = [
        DepositLine(
            day=day,
            method=method,
            method_label=methods.get(method, method),
            location=location,
            count=row["count"],
            total_cents=-row["signed"],
            payments=payments.get((day, method, location), []),
        )
        for (day, method, location), row in sorted(groups.items())
    ]
    return DepositReport(lines=lines, payment_count=payment_count, listed=listed)


@dataclass(slots=True)  # not frozen: a month's CSV makes ~10,000 (4 times faster)
class DepositRow:
    day: date
    method: str
    method_label: str
    location: str
    family: str
    entry: str
    reference: str
    amount_cents: int  # a refund is negative


def deposit_rows(
    *, start: date, end: date, location_ids: set[int] | None = None
) -> list[DepositRow]:
    """Every payment and refund of the report, in its order (day, type, location), as
    plain values: the CSV of a month at a big account has thousands of rows."""
    methods = dict(LedgerEntry.PaymentMethod.choices)
    kinds = dict(LedgerEntry.Kind.choices)
    values = (
        _deposit_entries(start, end, location_ids)
        .order_by("entry_date", "subtype", "id")
        .values_list(
            "entry_date",
            "subtype",
            "location__name",
            "family__name",
            "kind",
            "description",
            "reference",
            "direction",
            "amount_cents",
        )
    )
    rows = [
        DepositRow(
            day=day,
            method=method,
            method_label=methods.get(method, method),
            location=location or "—",
            family=f"{family} family",  # as str(Family)
            entry=f"{kinds.get(kind, kind)}: {description}",
            reference=reference,
            amount_cents=-direction * amount,
        )
        for day, method, location, family, kind, description, reference, direction, amount in (
            values
        )
    ]
    # The report's order: by location too within a day and type (a stable sort keeps the
    # ids in order within each group).
    rows.sort(key=lambda r: (r.day, r.method, r.location))
    return rows


def ledger_totals_by_day(start: date, end: date, method: str = "card") -> dict[date, int]:
    rows = (
        LedgerEntry.objects.filter(kind="payment", subtype=method, entry_date__range=(start, end))
        .values("entry_date")
        .annotate(total=Sum("amount_cents"))
    )
    return {row["entry_date"]: row["total"] for row in rows}


# --- office pages -----------------------------------------------------------------------

UNSETTLED = ("pending", "processing", "unknown")


def unsettled_attempts(family) -> list[PaymentAttempt]:
    """Card payments of a family whose outcome is not known yet (shown as pending)."""
    return list(PaymentAttempt.objects.filter(family=family, status__in=UNSETTLED))


def gateway_payment_ids(family) -> set[int]:
    """Ledger payments of a family taken through the gateway (refunded through it)."""
    return set(
        PaymentAttempt.objects.filter(family=family, ledger_entry__isnull=False).values_list(
            "ledger_entry_id", flat=True
        )
    )


def gateway_refundable_cents(attempt: PaymentAttempt) -> int:
    """What can still be refunded through the gateway: the ledger's figure less refunds
    already asked for whose outcome is not known yet (``services.gateway_refund``)."""
    from classbook.ledger.selectors import refundable_cents

    pending = GatewayRefundRecord.objects.filter(
        attempt=attempt, status__in=["pending", "unknown"]
    ).aggregate(total=Sum("amount_cents"))["total"]
    return max(0, refundable_cents(attempt.ledger_entry) - (pending or 0))


@dataclass
class ReconciliationDay:
    day: date
    gateway_paid_cents: int = 0
    gateway_refunded_cents: int = 0
    ledger_paid_cents: int = 0
    ledger_refunded_cents: int = 0

    @property
    def gateway_net_cents(self) -> int:
        return self.gateway_paid_cents - self.gateway_refunded_cents

    @property
    def ledger_net_cents(self) -> int:
        return self.ledger_paid_cents - self.ledger_refunded_cents

    @property
    def difference_cents(self) -> int:
        return self.gateway_net_cents - self.ledger_net_cents


@dataclass
class ReconciliationSummary:
    days: list[ReconciliationDay]
    gateway_error: str = ""

    @property
    def totals(self) -> ReconciliationDay:
        total = ReconciliationDay(day=self.days[0].day if self.days else date.min)
        for day in self.days:
            total.gateway_paid_cents += day.gateway_paid_cents
            total.gateway_refunded_cents += day.gateway_refunded_cents
            total.ledger_paid_cents += day.ledger_paid_cents
            total.ledger_refunded_cents += day.ledger_refunded_cents
        return total


GATEWAY_METHODS = ("card", "echeck")


def reconciliation_summary(*, start: date, end: date) -> ReconciliationSummary:
    """Per day of ``start..end`` (the business's days): what the gateway took and gave
    back for this account, next to the ledger's gateway payments and refunds. Money kept
    at the gateway for a duplicate and refunded nets out on both sides."""
    from classbook.core.tenancy import require_account
    from classbook.payments.gateway import GatewayRefused, GatewayUnavailable

    account = require_account()
    zone = zoneinfo.ZoneInfo(account.timezone)
    days = {start + timedelta(days=n): None for n in range((end - start).days + 1)}
    rows = {day: ReconciliationDay(day=day) for day in days}
    ledger = (
        LedgerEntry.objects.filter(
            kind__in=["payment", "refund"],
            subtype__in=GATEWAY_METHODS,
            entry_date__range=(start, end),
        )
        .values("entry_date", "kind")
        .annotate(total=Sum("amount_cents"))
    )
    for row in ledger:
        target = rows[row["entry_date"]]
        if row["kind"] == "payment":
            target.ledger_paid_cents += row["total"]
        else:
            target.ledger_refunded_cents += row["total"]
    summary = ReconciliationSummary(days=list(rows.values()))
    gateway = gateway_for_account()
    if gateway is None:
        summary.gateway_error = "Card payments are not set up (no gateway settings)."
        return summary
    since = datetime.combine(start, time.min, tzinfo=zone)
    try:
        intents = [
            i
            for i in gateway.list_intents(since=since)
            if i.metadata.get("account") == account.slug
        ]
        refunds = gateway.list_refunds(since=since)
    except (GatewayUnavailable, GatewayRefused) as exc:
        summary.gateway_error = f"The card processor could not be reached: {exc}"
        return summary
    ours = {i.id for i in intents}
    our_charges = {i.charge_id for i in intents if i.charge_id}
    for intent in intents:
        day = intent.created.astimezone(zone).date() if intent.created else None
        if intent.succeeded and day in rows:
            rows[day].gateway_paid_cents += intent.amount_cents
    for refund in refunds:
        day = refund.created.astimezone(zone).date() if refund.created else None
        mine = refund.intent_id in ours or refund.charge_id in our_charges
        if mine and refund.status in ("succeeded", "pending") and day in rows:
            rows[day].gateway_refunded_cents += refund.amount_cents
    return summary


def latest_attempt_id(family) -> int:
    """The newest card payment attempt of a family (0 for none): a payment page remembers
    it, so a payment taken in another tab meanwhile is noticed before charging again."""
    return (
        PaymentAttempt.objects.filter(family=family)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
        or 0
    )


def attempts_since(family, after_id: int, *, except_token: str) -> list[PaymentAttempt]:
    """Card payments started for the family after ``after_id`` by another form, that
    went through or may still go through."""
    return list(
        PaymentAttempt.objects.filter(family=family, pk__gt=after_id)
        .exclude(request_token=except_token)
        .exclude(status=PaymentAttempt.Status.FAILED)
        .order_by("pk")
    )
