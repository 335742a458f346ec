"""Every write to a family's ledger. Each public function takes the family row lock
first (one ledger writer per family at a time), writes one audit entry, and leaves the
invariants of ``ledger.models`` true."""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction

from classbook.audit.actions import register_action
from classbook.audit.context import current_actor
from classbook.audit.services import created_fields, log_action
from classbook.core import clock
from classbook.core.errors import ValidationFailed
from classbook.core.tenancy import require_account
from classbook.families.models import Family
from classbook.ledger import posting
from classbook.ledger.models import (
    CREDIT,
    DEBIT,
    Allocation,
    LedgerEntry,
    LedgerSettings,
    StatementRun,
)
from classbook.ledger.posting import BatchLine
from classbook.ledger.posting import check_amount as _check_amount
from classbook.ledger.selectors import applied_amounts, refundable_cents

CHARGE_POSTED = register_action("ledger.charge_posted", "Charge posted")
PAYMENT_RECORDED = register_action("ledger.payment_recorded", "Payment recorded")
CREDIT_POSTED = register_action("ledger.credit_posted", "Credit posted")
REFUND_POSTED = register_action("ledger.refund_posted", "Refund posted")
ENTRY_REVERSED = register_action("ledger.entry_reversed", "Ledger entry reversed")
ALLOCATION_CHANGED = register_action("ledger.allocation_changed", "Payment application changed")
CREDIT_APPLIED = register_action("ledger.credit_applied", "Unapplied credit applied")
STATEMENTS_QUEUED = register_action("ledger.statements_queued", "Statements emailing started")

Kind = LedgerEntry.Kind


def _lock_family(family: Family) -> Family:
    return Family.objects.select_for_update().get(pk=family.pk)


def _actor_user():
    actor = current_actor()
    return actor.user if actor.user is not None and actor.user.account_id else None


def _insert(
    *,
    family: Family,
    kind: str,
    direction: int,
    amount_cents: int,
    subtype: str = "",
    description: str,
    entry_date: date | None = None,
    due_date: date | None = None,
    location=None,
    reference: str = "",
    reverses: LedgerEntry | None = None,
    refund_of: LedgerEntry | None = None,
    idempotency_key: str | None = None,
) -> LedgerEntry:
    entry = LedgerEntry(
        family=family,
        kind=kind,
        direction=direction,
        amount_cents=amount_cents,
        subtype=subtype,
        currency=require_account().currency,
        entry_date=entry_date or clock.account_today(),
        due_date=due_date,
        location=location,
        description=description.strip()[:300],
        reference=reference.strip()[:120],
        reverses=reverses,
        refund_of=refund_of,
        idempotency_key=idempotency_key,
        posted_by=_actor_user(),
        posted_at=clock.now(),
    )
    if not entry.description:
        raise ValidationFailed({"description": ["Say what this entry is for."]})
    entry.save()
    return entry


def _allocate(source: LedgerEntry, target: LedgerEntry, amount_cents: int) -> Allocation:
    """Insert one allocation after checking both sides (caller holds the family lock)."""
    if source.direction != CREDIT or target.direction != DEBIT:
        raise ValidationFailed("A payment or credit can only be applied to a charge.")
    if source.family_id != target.family_id:
        raise ValidationFailed("Both entries must be on the same family's ledger.")
    applied = applied_amounts([source, target])
    pair = sum(
        Allocation.objects.filter(source=source, target=target).values_list(
            "amount_cents", flat=True
        )
    )
    if pair + amount_cents < 0:
        raise ValidationFailed({"amount": ["Cannot release more than was applied."]})
    if not (0 <= applied[source.pk] + amount_cents <= source.amount_cents):
        raise ValidationFailed(
            {
                "amount": [
                    f"Only {(source.amount_cents - applied[source.pk]) / 100:.2f} of this "
                    f"{source.get_kind_display().lower()} is left to apply."
                ]
            }
        )
    if not (0 <= applied[target.pk] + amount_cents <= target.amount_cents):
        raise ValidationFailed(
            {
                "amount": [
                    f"Only {(target.amount_cents - applied[target.pk]) / 100:.2f} of this "
                    "charge is still open."
                ]
            }
        )
    return Allocation.objects.create(
        source=source, target=target, amount_cents=amount_cents, created_by=_actor_user()
    )


def _auto_apply(family: Family) -> int:
    """Apply open credits to open debits, oldest due first. Returns cents applied."""
    return posting.apply_credit([family.pk], user=_actor_user()).get(family.pk, 0)


def _auto_apply_enabled() -> bool:
    settings = LedgerSettings.objects.first()
    return settings.auto_apply_credit if settings else True


def _release_all(entry: LedgerEntry) -> None:
    """Release every allocation touching ``entry`` (before a reversal or a refund)."""
    pairs: dict[tuple[int, int], int] = {}
    for alloc in Allocation.objects.filter(source=entry) | Allocation.objects.filter(target=entry):
        key = (alloc.source_id, alloc.target_id)
        pairs[key] = pairs.get(key, 0) + alloc.amount_cents
    entries = {
        e.pk: e for e in LedgerEntry.objects.filter(pk__in={pk for key in pairs for pk in key})
    }
    for (source_id, target_id), amount in pairs.items():
        if amount:
            _allocate(entries[source_id], entries[target_id], -amount)


def _post_once(key: str | None, insert):
    """Insert through ``insert()``; with an idempotency key, a second post returns the
    first entry instead of posting twice (billing retries, gateway payments)."""
    if key:
        existing = LedgerEntry.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return existing, False
    try:
        with transaction.atomic():
            return insert(), True
    except IntegrityError:
        existing = LedgerEntry.objects.filter(idempotency_key=key).first() if key else None
        if existing is None:
            raise
        return existing, False


@transaction.atomic
def charge_post(
    *,
    family: Family,
    charge_type: str,
    amount_cents: int,
    description: str,
    entry_date: date | None = None,
    due_date: date | None = None,
    location=None,
    idempotency_key: str | None = None,
) -> LedgerEntry:
    if charge_type not in LedgerEntry.ChargeType.values:
        raise ValidationFailed({"charge_type": ["Choose what kind of charge this is."]})
    _check_amount(amount_cents)
    family = _lock_family(family)
    entry, created = _post_once(
        idempotency_key,
        lambda: _insert(
            family=family,
            kind=Kind.CHARGE,
            direction=DEBIT,
            subtype=charge_type,
            amount_cents=amount_cents,
            description=description,
            entry_date=entry_date,
            due_date=due_date or entry_date,
            location=location,
            idempotency_key=idempotency_key,
        ),
    )
    if created:
        applied = _auto_apply(family) if _auto_apply_enabled() else 0
        log_action(
            action=CHARGE_POSTED,
            obj=family,
            label=str(family),
            changes=created_fields(
                {
                    "charge": entry.description,
                    "type": charge_type,
                    "amount_cents": amount_cents,
                    "credit_applied_cents": applied,
                }
            ),
        )
    return entry


PAYMENT_METHODS_RECORDED_BY_STAFF = {
    LedgerEntry.PaymentMethod.CASH,
    LedgerEntry.PaymentMethod.CHECK,
    LedgerEntry.PaymentMethod.CARD_EXTERNAL,
    LedgerEntry.PaymentMethod.OTHER,
}


@transaction.atomic
def payment_record(
    *,
    family: Family,
    method: str,
    amount_cents: int,
    description: str = "",
    reference: str = "",
    entry_date: date | None = None,
    location=None,
    apply_to: list[tuple[LedgerEntry, int]] | None = None,
    idempotency_key: str | None = None,
) -> LedgerEntry:
    """Record money received. ``apply_to`` chooses the charges; otherwise oldest first."""
    if method not in LedgerEntry.PaymentMethod.values:
        raise ValidationFailed({"method": ["Choose how the family paid."]})
    _check_amount(amount_cents)
    family = _lock_family(family)
    label = LedgerEntry.PaymentMethod(method).label
    entry, created = _post_once(
        idempotency_key,
        lambda: _insert(
            family=family,
            kind=Kind.PAYMENT,
            direction=CREDIT,
            subtype=method,
            amount_cents=amount_cents,
            description=description or f"{label} payment",
            reference=reference,
            entry_date=entry_date,
            location=location,
            idempotency_key=idempotency_key,
        ),
    )
    if not created:
        return entry
    if apply_to:
        for target, cents in apply_to:
            _allocate(entry, LedgerEntry.objects.get(pk=target.pk, family=family), cents)
    if _auto_apply_enabled() or not apply_to:
        _auto_apply(family)
    log_action(
        action=PAYMENT_RECORDED,
        obj=family,
        label=str(family),
        changes=created_fields(
            {"method": method, "amount_cents": amount_cents, "reference": reference}
        ),
    )
    return entry


@transaction.atomic
def credit_post(
    *,
    family: Family,
    credit_type: str,
    amount_cents: int,
    description: str,
    entry_date: date | None = None,
    location=None,
    idempotency_key: str | None = None,
) -> LedgerEntry:
    if credit_type not in LedgerEntry.CreditType.values:
        raise ValidationFailed({"credit_type": ["Choose what kind of credit this is."]})
    _check_amount(amount_cents)
    family = _lock_family(family)
    entry, created = _post_once(
        idempotency_key,
        lambda: _insert(
            family=family,
            kind=Kind.CREDIT,
            direction=CREDIT,
            subtype=credit_type,
            amount_cents=amount_cents,
            description=description,
            entry_date=entry_date,
            location=location,
            idempotency_key=idempotency_key,
        ),
    )
    if created:
        if _auto_apply_enabled():
            _auto_apply(family)
        log_action(
            action=CREDIT_POSTED,
            obj=family,
            label=str(family),
            changes=created_fields(
                {"credit": description, "type": credit_type, "amount_cents": amount_cents}
            ),
        )
    return entry


@transaction.atomic
def refund_post(
    *,
    payment: LedgerEntry,
    amount_cents: int,
    description: str = "",
    reference: str = "",
    idempotency_key: str | None = None,
) -> LedgerEntry:
    """Money given back from a payment. Its applications are released as needed, so the
    charges it paid become open again."""
    _check_amount(amount_cents)
    family = _lock_family(payment.family)
    payment = LedgerEntry.objects.get(pk=payment.pk)
    if payment.kind != Kind.PAYMENT:
        raise ValidationFailed("Only a payment can be refunded.")
    if idempotency_key and LedgerEntry.objects.filter(idempotency_key=idempotency_key).exists():
        return LedgerEntry.objects.get(idempotency_key=idempotency_key)
    available = refundable_cents(payment)
    if amount_cents > available:
        raise ValidationFailed(
            {"amount": [f"At most {available / 100:.2f} of this payment can still be refunded."]}
        )
    # Free enough of the payment: release its applications, newest first.
    free = payment.amount_cents - applied_amounts([payment])[payment.pk]
    if free < amount_cents:
        for alloc_target in (
            Allocation.objects.filter(source=payment)
            .order_by("-created_at", "-id")
            .values_list("target_id", flat=True)
        ):
            if free >= amount_cents:
                break
            target = LedgerEntry.objects.get(pk=alloc_target)
            pair = sum(
                Allocation.objects.filter(source=payment, target=target).values_list(
                    "amount_cents", flat=True
                )
            )
            release = min(pair, amount_cents - free)
            if release > 0:
                _allocate(payment, target, -release)
                free += release
    refund = _insert(
        family=family,
        kind=Kind.REFUND,
        direction=DEBIT,
        subtype=payment.subtype,
        amount_cents=amount_cents,
        refund_of=payment,
        reference=reference,
        description=description or f"Refund of {payment.description}",
        location=payment.location,
        idempotency_key=idempotency_key,
    )
    _allocate(payment, refund, amount_cents)
    log_action(
        action=REFUND_POSTED,
        obj=family,
        label=str(family),
        changes=created_fields(
            {"payment": payment.description, "amount_cents": amount_cents, "reference": reference}
        ),
    )
    return refund


@transaction.atomic
def entry_reverse(*, entry: LedgerEntry, reason: str) -> LedgerEntry:
    """Cancel an entry with an equal entry in the other direction (the only correction)."""
    family = _lock_family(entry.family)
    entry = LedgerEntry.objects.get(pk=entry.pk)
    if not reason.strip():
        raise ValidationFailed({"reason": ["Say why this entry is reversed."]})
    if entry.kind == Kind.REVERSAL:
        raise ValidationFailed("A reversal cannot be reversed; post a new entry instead.")
    if LedgerEntry.objects.filter(reverses=entry).exists():
        raise ValidationFailed("This entry is already reversed.")
    if (
        entry.kind == Kind.PAYMENT
        and LedgerEntry.objects.filter(refund_of=entry, reversed_by__isnull=True).exists()
    ):
        raise ValidationFailed("This payment has refunds; reverse them first.")
    _release_all(entry)
    reversal = _insert(
        family=family,
        kind=Kind.REVERSAL,
        direction=-entry.direction,
        subtype=entry.kind,
        amount_cents=entry.amount_cents,
        reverses=entry,
        description=f"Reversal: {entry.description} — {reason.strip()}",
        location=entry.location,
    )
    if entry.direction == DEBIT:
        _allocate(reversal, entry, entry.amount_cents)
    else:
        _allocate(entry, reversal, entry.amount_cents)
    if _auto_apply_enabled():
        _auto_apply(family)
    log_action(
        action=ENTRY_REVERSED,
        obj=family,
        label=str(family),
        changes=created_fields(
            {
                "entry": entry.description,
                "kind": entry.kind,
                "amount_cents": entry.amount_cents,
                "reason": reason.strip(),
            }
        ),
    )
    return reversal


@transaction.atomic
def allocation_change(*, source: LedgerEntry, target: LedgerEntry, amount_cents: int) -> Allocation:
    """Staff apply (positive) or release (negative) part of a payment or credit."""
    if amount_cents == 0:
        raise ValidationFailed({"amount": ["Enter an amount other than zero."]})
    family = _lock_family(source.family)
    source = LedgerEntry.objects.get(pk=source.pk, family=family)
    target = LedgerEntry.objects.get(pk=target.pk, family=family)
    allocation = _allocate(source, target, amount_cents)
    log_action(
        action=ALLOCATION_CHANGED,
        obj=family,
        label=str(family),
        changes={
            "applied_cents": [None, amount_cents],
            "from": [None, source.description],
            "to": [None, target.description],
        },
    )
    return allocation


@transaction.atomic
def credit_apply_all(*, family: Family) -> int:
    """Apply all unapplied credit to open charges, oldest due first."""
    family = _lock_family(family)
    applied = _auto_apply(family)
    log_action(
        action=CREDIT_APPLIED,
        obj=family,
        label=str(family),
        changes={"applied_cents": [None, applied]},
    )
    return applied


@transaction.atomic
def statements_send(*, month: date, only_with_balance: bool, by) -> StatementRun:
    from classbook.ledger.statements import families_for_statements, send_statements_task

    month = month.replace(day=1)
    family_ids = families_for_statements(month=month, only_with_balance=only_with_balance)
    run = StatementRun.objects.create(
        month=month,
        only_with_balance=only_with_balance,
        family_ids=family_ids,
        total=len(family_ids),
        created_by=by,
    )
    log_action(
        action=STATEMENTS_QUEUED,
        obj=run,
        label=f"Statements {month:%B %Y}",
        changes=created_fields(
            {"families": len(family_ids), "only_with_balance": only_with_balance}
        ),
    )
    account_id = require_account().pk
    transaction.on_commit(
        lambda: send_statements_task.enqueue(account_id=account_id, run_id=run.pk)
    )
    return run


BATCH_POSTED = register_action("ledger.batch_posted", "Charges posted by billing")


@transaction.atomic
def entries_post_batch(
    *, family: Family, lines: list[BatchLine], summary: str
) -> list[LedgerEntry]:
    """Post many keyed charges and credits for one family at once (checkout, late fees);
    ``entries_post_families`` for one family."""
    posted = entries_post_families(lines_by_family={family.pk: lines}, summary=summary)
    return posted.get(family.pk, [])


@transaction.atomic
def entries_post_families(
    *, lines_by_family: dict[int, list[BatchLine]], summary: str
) -> dict[int, list[LedgerEntry]]:
    """Post keyed charges and credits for many families at once (billing runs).

    The families are locked together, in id order. Lines whose key was already posted
    are skipped, so a second run or a retry after a crash posts nothing twice. Credit is
    then applied oldest first, and every family that got new entries gets one audit
    entry. The queries do not grow with the number of families (``ledger.posting``); a
    bad line raises and nothing of the call is written.
    """
    lines_by_family = {f: lines for f, lines in lines_by_family.items() if lines}
    families = posting.lock_families(lines_by_family)
    user = _actor_user()
    created = posting.insert_keyed(families=families, lines_by_family=lines_by_family, user=user)
    if not created:
        return {}
    posting.apply_credit(created, user=user)
    posting.log_per_family(
        action=BATCH_POSTED,
        families=families,
        changes={
            family_id: created_fields(
                {
                    "summary": summary,
                    "entries": len(entries),
                    "charged_cents": sum(e.amount_cents for e in entries if e.direction == DEBIT),
                    "credited_cents": sum(e.amount_cents for e in entries if e.direction == CREDIT),
                }
            )
            for family_id, entries in created.items()
        },
    )
    return created
