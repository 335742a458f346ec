"""Keyed posting for many families at once (``entries_post_families``, billing runs):
the same entries and applications as posting each family alone, one audit entry per
family that got entries, all or nothing, and a query count that does not grow with the
number of families."""

import threading
from datetime import date

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from classbook.audit.models import LogEntry
from classbook.core.errors import ValidationFailed
from classbook.core.tenancy import activate_account
from classbook.ledger import services
from classbook.ledger.models import Allocation, LedgerEntry, LedgerSettings
from classbook.ledger.selectors import applied_amounts, family_balance
from tests.conftest import is_postgres
from tests.ledger.helpers import make_family

JAN = date(2027, 1, 1)


def jan_lines(tag: str, *, tuition: int = 8000, discount: int = 800) -> list:
    return [
        services.BatchLine(
            kind="charge",
            subtype="tuition",
            amount_cents=tuition,
            description=f"Tuition January: {tag}",
            idempotency_key=f"tuition:{tag}:2027-01",
            entry_date=JAN,
            due_date=JAN,
        ),
        services.BatchLine(
            kind="credit",
            subtype="discount",
            amount_cents=discount,
            description=f"Sibling discount: {tag}",
            idempotency_key=f"sibling:{tag}:2027-01",
            entry_date=JAN,
        ),
    ]


def with_open_december_and_waiting_payment(name: str):
    """A 50.00 payment not applied yet (auto-apply off while set up) and an open
    December charge of 40.00."""
    family = make_family(name)
    LedgerSettings.objects.update_or_create(defaults={"auto_apply_credit": False})
    services.payment_record(
        family=family, method="check", amount_cents=5000, entry_date=date(2026, 12, 15)
    )
    services.charge_post(
        family=family,
        charge_type="tuition",
        amount_cents=4000,
        description="December",
        entry_date=date(2026, 12, 1),
        due_date=date(2026, 12, 1),
    )
    LedgerSettings.objects.update(auto_apply_credit=True)
    return family


def applications(family) -> dict[tuple[str, str], int]:
    return {
        (a.source.description, a.target.description): a.amount_cents
        for a in Allocation.objects.filter(source__family=family).select_related("source", "target")
    }


def test_credit_pays_the_oldest_charge_first_for_every_family_of_the_batch(in_a):
    waiting = with_open_december_and_waiting_payment("Waiting")
    plain = make_family("Plain")
    assert applications(waiting) == {}
    posted = services.entries_post_families(
        lines_by_family={waiting.pk: jan_lines("w"), plain.pk: jan_lines("p")},
        summary="Tuition January 2027",
    )
    assert {f: len(entries) for f, entries in posted.items()} == {waiting.pk: 2, plain.pk: 2}
    assert applications(waiting) == {
        ("Check payment", "December"): 4000,
        ("Check payment", "Tuition January: w"): 1000,
        ("Sibling discount: w", "Tuition January: w"): 800,
    }
    assert applications(plain) == {("Sibling discount: p", "Tuition January: p"): 800}
    figures = family_balance(waiting, today=JAN)
    assert (figures.balance_cents, figures.unapplied_credit_cents) == (6200, 0)


def test_many_families_post_what_each_family_alone_would(in_a):
    def ledger(family):
        entries = LedgerEntry.objects.filter(family=family).order_by("id")
        rows = [(e.kind, e.subtype, e.amount_cents, e.description) for e in entries]
        applied = applied_amounts(list(entries))
        return rows, sorted(applied.values()), sorted(applications(family).values())

    alone = [with_open_december_and_waiting_payment("A1"), make_family("A2")]
    together = [with_open_december_and_waiting_payment("B1"), make_family("B2")]
    for i, family in enumerate(alone):
        services.entries_post_batch(family=family, lines=jan_lines(f"a{i}"), summary="Jan")
    services.entries_post_families(
        lines_by_family={f.pk: jan_lines(f"b{i}") for i, f in enumerate(together)},
        summary="Jan",
    )
    for a, b in zip(alone, together, strict=True):
        rows_a, applied_a, alloc_a = ledger(a)
        rows_b, applied_b, alloc_b = ledger(b)
        assert [r[:3] for r in rows_a] == [r[:3] for r in rows_b]
        assert (applied_a, alloc_a) == (applied_b, alloc_b)


def test_one_audit_entry_per_family_that_got_entries_and_none_on_a_repeat(in_a):
    families = [make_family(f"F{i}") for i in range(3)]
    lines = {f.pk: jan_lines(f"f{f.pk}") for f in families}
    before = LogEntry.objects.count()
    services.entries_post_families(lines_by_family=lines, summary="Tuition January 2027")
    entries = list(LogEntry.objects.order_by("id")[before:])
    assert sorted(int(e.object_id) for e in entries) == sorted(f.pk for f in families)
    assert {e.action for e in entries} == {"ledger.batch_posted"}
    assert entries[0].changes["charged_cents"] == [None, 8000]
    labels = {str(f.pk): str(f) for f in families}
    assert all(e.object_label == labels[e.object_id] for e in entries)
    count = LedgerEntry.objects.count()
    assert services.entries_post_families(lines_by_family=lines, summary="again") == {}
    assert (LedgerEntry.objects.count(), LogEntry.objects.count()) == (count, before + 3)


def test_keys_already_posted_are_skipped_per_line(in_a):
    family, other = make_family("Half"), make_family("Other")
    first, second = jan_lines("h")
    services.entries_post_batch(family=family, lines=[first], summary="checkout")
    posted = services.entries_post_families(
        lines_by_family={family.pk: [first, second], other.pk: jan_lines("o")}, summary="run"
    )
    assert [e.idempotency_key for e in posted[family.pk]] == [second.idempotency_key]
    assert LedgerEntry.objects.filter(idempotency_key=first.idempotency_key).count() == 1


def test_a_bad_line_of_one_family_writes_nothing_for_any(in_a):
    families = [make_family(f"F{i}") for i in range(3)]
    lines = {f.pk: jan_lines(f"f{f.pk}") for f in families}
    lines[families[1].pk] = jan_lines("bad", tuition=0)
    counts = (LedgerEntry.objects.count(), Allocation.objects.count(), LogEntry.objects.count())
    with pytest.raises(ValidationFailed):
        services.entries_post_families(lines_by_family=lines, summary="Jan")
    after = (LedgerEntry.objects.count(), Allocation.objects.count(), LogEntry.objects.count())
    assert after == counts


def test_one_key_for_two_families_is_refused(in_a):
    a, b = make_family("A"), make_family("B")
    with pytest.raises(ValueError, match="its own idempotency key"):
        services.entries_post_families(
            lines_by_family={a.pk: jan_lines("same"), b.pk: jan_lines("same")}, summary="Jan"
        )


def test_the_queries_do_not_grow_with_the_number_of_families(in_a):
    def post(count: int, tag: str) -> int:
        families = [with_open_december_and_waiting_payment(f"{tag}{i}") for i in range(count)]
        with CaptureQueriesContext(connection) as queries:
            posted = services.entries_post_families(
                lines_by_family={f.pk: jan_lines(f"{tag}{f.pk}") for f in families},
                summary="Jan",
            )
        assert len(posted) == count
        assert all(family_balance(f, today=JAN).unapplied_credit_cents == 0 for f in families)
        return len(queries)

    assert post(2, "small") == post(8, "large") <= 12


@pytest.mark.django_db(transaction=True)
def test_two_overlapping_batches_at_once_post_each_key_once(account_a):
    """Both lock the same families (sorted, so no deadlock); the second finds the keys."""
    if not is_postgres():
        pytest.skip("needs real concurrent transactions (PostgreSQL)")
    with activate_account(account_a):
        families = [make_family(f"Rush{i}") for i in range(6)]
    lines = {f.pk: jan_lines(f"r{f.pk}") for f in families}
    errors, start = [], threading.Barrier(2)

    def post(order):
        try:
            with activate_account(account_a):
                start.wait()
                services.entries_post_families(
                    lines_by_family={pk: lines[pk] for pk in order}, summary="Jan"
                )
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    ids = list(lines)
    threads = [threading.Thread(target=post, args=(o,)) for o in (ids, ids[::-1])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    connection.close()
    with activate_account(account_a):
        assert LedgerEntry.objects.count() == 12
        assert LogEntry.objects.filter(action="ledger.batch_posted").count() == 6
        assert Allocation.objects.count() == 6


# The PostgreSQL allocation trigger checks a whole INSERT statement at once.


def insert_allocations(rows: list[tuple]) -> None:
    """Raw SQL, as a bug or a console session could: (account, source, target, cents)."""
    values = ", ".join(["(%s, %s, %s, %s, now())"] * len(rows))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ledger_allocation (account_id, source_id, target_id, amount_cents, "
            f"created_at) VALUES {values}",
            [value for row in rows for value in row],
        )


def unapplied(family, *, credits: list[int], charges: list[int]):
    LedgerSettings.objects.update_or_create(defaults={"auto_apply_credit": False})
    made = [
        services.credit_post(
            family=family, credit_type="goodwill", amount_cents=c, description=f"Credit {c}"
        )
        for c in credits
    ]
    made += [
        services.charge_post(
            family=family, charge_type="retail", amount_cents=c, description=f"Charge {c}"
        )
        for c in charges
    ]
    return made


def needs_postgres():
    if not is_postgres():
        pytest.skip("the allocation trigger is PostgreSQL's")


def test_postgres_checks_the_rows_of_one_insert_together(family):
    needs_postgres()
    credit, first, second = unapplied(family, credits=[1500], charges=[1000, 1000])
    a = family.account_id
    with pytest.raises(Exception, match="allocation would apply 2000 of entry"):
        insert_allocations([(a, credit.pk, first.pk, 1000), (a, credit.pk, second.pk, 1000)])
    insert_allocations([(a, credit.pk, first.pk, 1000), (a, credit.pk, second.pk, 500)])
    assert applied_amounts([credit, first, second]) == {
        credit.pk: 1500,
        first.pk: 1000,
        second.pk: 500,
    }


def test_postgres_refuses_a_pair_released_below_zero(family):
    needs_postgres()
    s1, s2, c1, c2 = unapplied(family, credits=[2000, 2000], charges=[1000, 1000])
    a = family.account_id
    insert_allocations([(a, s1.pk, c1.pk, 500)])
    # Every entry stays within 0..amount; only the (s1, c1) pair goes below zero.
    with pytest.raises(Exception, match="release 100 more than was applied"):
        insert_allocations(
            [(a, s1.pk, c1.pk, -600), (a, s1.pk, c2.pk, 600), (a, s2.pk, c1.pk, 100)]
        )


def test_postgres_refuses_the_wrong_direction(family):
    needs_postgres()
    credit, charge = unapplied(family, credits=[1000], charges=[1000])
    with pytest.raises(Exception, match="credit-direction entry to a debit-direction"):
        insert_allocations([(family.account_id, charge.pk, credit.pk, 100)])


def test_postgres_refuses_an_entry_of_another_account(account_a, account_b):
    needs_postgres()
    with activate_account(account_b):
        (theirs,) = unapplied(make_family("Theirs"), credits=[1000], charges=[])
    with activate_account(account_a):
        (charge,) = unapplied(make_family("Ours"), credits=[], charges=[1000])
        with pytest.raises(Exception, match="not in this account"):
            insert_allocations([(account_a.pk, theirs.pk, charge.pk, 100)])
