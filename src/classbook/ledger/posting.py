"""Set-based ledger writes for many families at once (billing runs post 200 at a time).

The steps of ``services.entries_post_families``, each a fixed number of queries whatever
the number of families:

* ``lock_families``: the family rows ``FOR UPDATE`` in id order, in one statement (the
  same lock every ledger service takes, so keyed posts and credit application never race
  another writer of these families; sorted, so two batches cannot deadlock).
* ``insert_keyed``: one look-up of the keys already posted, one bulk insert of the rest
  (the unique key per account stays the last word: a duplicate raises, nothing is
  written twice).
* ``apply_credit``: unapplied credit to open charges, oldest due first, per family: one
  query for the open credits, one for the open charges of the families that have some,
  one bulk insert of the allocations (on PostgreSQL the allocation trigger re-checks
  the statement's rows under row locks).
* ``log_per_family``: one audit entry per family, in one bulk insert.

Nothing here commits: the caller's transaction (the service) makes it all or nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce

from classbook.audit.actions import ACTIONS
from classbook.audit.context import current_actor
from classbook.audit.models import LogEntry
from classbook.core import clock
from classbook.core.errors import ValidationFailed
from classbook.core.tenancy import require_account
from classbook.families.models import Family
from classbook.ledger.models import CREDIT, DEBIT, Allocation, LedgerEntry

Kind = LedgerEntry.Kind


@dataclass(frozen=True)
class BatchLine:
    """One charge (``kind="charge"``) or credit (``kind="credit"``) of a batch."""

    kind: str
    subtype: str
    amount_cents: int
    description: str
    idempotency_key: str
    entry_date: date
    due_date: date | None = None
    location_id: int | None = None


def check_amount(amount_cents: int) -> None:
    if not isinstance(amount_cents, int) or isinstance(amount_cents, bool):
        raise ValidationFailed({"amount": ["Enter an amount in cents as a whole number."]})
    if amount_cents <= 0:
        raise ValidationFailed({"amount": ["The amount must be more than zero."]})


def lock_families(family_ids: Iterable[int]) -> dict[int, Family]:
    """Lock the families' rows in id order; every id must exist in this account."""
    ids = sorted(set(family_ids))
    if not ids:
        return {}
    families = {
        f.pk: f for f in Family.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    }
    if len(families) != len(ids):
        raise Family.DoesNotExist(f"families {sorted(set(ids) - set(families))} do not exist")
    return families


def insert_keyed(
    *, families: dict[int, Family], lines_by_family: dict[int, list[BatchLine]], user
) -> dict[int, list[LedgerEntry]]:
    """Insert the lines whose key is not posted yet; returns the new entries by family."""
    keys = [line.idempotency_key for lines in lines_by_family.values() for line in lines]
    if len(set(keys)) != len(keys) or not all(keys):
        raise ValueError("every batch line needs its own idempotency key")
    if not keys:
        return {}
    posted = set(
        LedgerEntry.objects.filter(idempotency_key__in=keys)
        .order_by()
        .values_list("idempotency_key", flat=True)
    )
    account = require_account()
    now = clock.now()
    new = []
    for family_id, lines in lines_by_family.items():
        family = families[family_id]
        for line in lines:
            if line.idempotency_key in posted:
                continue
            check_amount(line.amount_cents)
            charge = line.kind == "charge"
            new.append(
                LedgerEntry(
                    account=account,
                    family=family,
                    kind=Kind.CHARGE if charge else Kind.CREDIT,
                    direction=DEBIT if charge else CREDIT,
                    subtype=line.subtype,
                    amount_cents=line.amount_cents,
                    currency=account.currency,
                    entry_date=line.entry_date,
                    due_date=line.due_date if charge else None,
                    location_id=line.location_id,
                    description=line.description[:300],
                    idempotency_key=line.idempotency_key,
                    posted_by=user,
                    posted_at=now,
                )
            )
    created: dict[int, list[LedgerEntry]] = defaultdict(list)
    for entry in LedgerEntry.objects.bulk_create(new):
        created[entry.family_id].append(entry)
    return dict(created)


def _open_entries(family_ids: list[int], *, credits: bool) -> list[tuple[int, int, int]]:
    """(id, family, open cents) of the families' credit-direction entries (``credits``)
    or charges with something left to apply, oldest due first per family — the order
    ``selectors.open_items`` gives (the database's ordering of due dates, NULLs included).

    Each entry's applied amount is a correlated sum, one look-up in the (account, source)
    or (account, target) index per entry: the plan cannot turn into a scan of the
    account's allocations, whatever the planner's statistics say.
    """
    side = "source" if credits else "target"
    applied = (
        Allocation.objects.filter(**{side: OuterRef("pk")})
        .order_by()
        .values(side)
        .annotate(total=Sum("amount_cents"))
        .values("total")
    )
    entries = LedgerEntry.objects.filter(family_id__in=family_ids)
    entries = entries.filter(direction=CREDIT) if credits else entries.filter(kind=Kind.CHARGE)
    rows = (
        entries.annotate(applied=Coalesce(Subquery(applied), 0))
        .order_by("family_id", "due_date", "entry_date", "id")
        .values_list("id", "family_id", "amount_cents", "applied")
    )
    return [(pk, family, amount - done) for pk, family, amount, done in rows if amount > done]


def apply_credit(family_ids: Iterable[int], *, user) -> dict[int, int]:
    """Apply each family's open credits to its open charges, oldest due first (the
    caller holds the families' locks). Returns cents applied per family.

    Three queries for any number of families: open credits (most families have none,
    and the charges are read only for those that do), open charges, one bulk insert.
    """
    credits: dict[int, list[int]] = defaultdict(list)
    open_cents: dict[int, int] = {}
    for pk, family_id, cents in _open_entries(sorted(set(family_ids)), credits=True):
        credits[family_id].append(pk)
        open_cents[pk] = cents
    if not credits:
        return {}
    waiting = sorted(credits)
    debits: dict[int, list[int]] = defaultdict(list)
    for pk, family_id, cents in _open_entries(waiting, credits=False):
        debits[family_id].append(pk)
        open_cents[pk] = cents
    account = require_account()
    allocations, applied = [], {}
    for family_id in waiting:
        total = 0
        for debit in debits[family_id]:
            for credit in credits[family_id]:
                take = min(open_cents[debit], open_cents[credit])
                if take > 0:
                    allocations.append(
                        Allocation(
                            account=account,
                            source_id=credit,
                            target_id=debit,
                            amount_cents=take,
                            created_by=user,
                        )
                    )
                    open_cents[credit] -= take
                    open_cents[debit] -= take
                    total += take
                if open_cents[debit] == 0:
                    break
        applied[family_id] = total
    if allocations:
        Allocation.objects.bulk_create(allocations)
    return applied


def log_per_family(
    *, action: str, families: dict[int, Family], changes: dict[int, dict]
) -> list[LogEntry]:
    """One audit entry per family in ``changes`` (already in ``created_fields`` form),
    written as ``audit.services.log_action`` writes one, in one bulk insert."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit entries must be written inside the service's transaction")
    if action not in ACTIONS:
        raise ValueError(f"unregistered audit action {action!r} (see audit.actions)")
    actor, account = current_actor(), require_account()
    object_type = Family._meta.label_lower
    return LogEntry.objects.bulk_create(
        LogEntry(
            account=account,
            actor_kind=actor.kind,
            actor=actor.user,
            actor_label=actor.label[:200],
            impersonator=actor.impersonator,
            impersonator_label=str(actor.impersonator)[:200] if actor.impersonator else "",
            action=action,
            object_type=object_type,
            object_id=str(family_id),
            object_label=str(families[family_id])[:300],
            changes=family_changes,
            ip=actor.ip,
            user_agent=actor.user_agent,
        )
        for family_id, family_changes in changes.items()
    )
