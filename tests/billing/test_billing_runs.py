"""Billing runs: posting is idempotent and resumable; a run killed halfway and resumed
leaves the same ledger as one clean run."""

import dataclasses
from collections import Counter
from datetime import date

import pytest
from django.core.management import call_command

from classbook.audit.models import LogEntry
from classbook.billing import services, tasks
from classbook.billing.compute import bill_families, families_with_seats, seats_for_period
from classbook.billing.models import BillingRun
from classbook.core.tenancy import activate_account
from classbook.families.models import Family
from classbook.ledger.models import LedgerEntry
from classbook.ledger.selectors import family_balance
from tests.billing.helpers import JAN, enroll, make_student, monthly_rule, priced_class
from tests.ledger.helpers import make_family

pytestmark = pytest.mark.django_db(transaction=True)


def build_account(account, families: int = 7):
    with activate_account(account):
        services.billing_settings_update(
            sibling_kind="percent", sibling_second=10, registration_fee_cents=2500
        )
        rule = monthly_rule(8000)
        classes = [
            priced_class(rule, name=f"C{i}", weekdays=(i % 5,), capacity=30) for i in range(3)
        ]
        for f in range(families):
            family = make_family(f"F{f}")
            for s in range(1 + f % 3):
                enroll(
                    make_student(f"K{f}-{s}", family=family),
                    classes[(f + s) % 3],
                    start=date(2027, 1, 4) if s else date(2027, 1, 12),
                )


def expected_ledger(account):
    with activate_account(account):
        bills = bill_families(seats_for_period(JAN), period=JAN)
        return Counter(
            (ln.family_id, ln.key, ln.kind, ln.amount_cents)
            for b in bills.values()
            for ln in b.lines
        )


def actual_ledger(account):
    with activate_account(account):
        return Counter(
            (e.family_id, e.idempotency_key, e.kind, e.amount_cents)
            for e in LedgerEntry.objects.all()
        )


def run_worker():
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload")


def start_run(account, alice):
    with activate_account(account):
        return services.billing_run_start(period=JAN, by=alice)


def test_a_run_posts_exactly_the_preview_and_a_second_run_posts_nothing(account_a, alice):
    build_account(account_a)
    expected = expected_ledger(account_a)
    start_run(account_a, alice)
    run_worker()
    assert actual_ledger(account_a) == expected
    with activate_account(account_a):
        run = BillingRun.objects.get()
        assert (run.status, run.percent, run.charges_posted) == (
            "done",
            100,
            sum(expected.values()),
        )
    start_run(account_a, alice)
    run_worker()
    assert actual_ledger(account_a) == expected
    with activate_account(account_a):
        assert BillingRun.objects.filter(status="done").count() == 2


def test_a_run_killed_halfway_then_resumed_equals_a_clean_run(account_a, alice, monkeypatch):
    build_account(account_a)
    expected = expected_ledger(account_a)
    monkeypatch.setattr(tasks, "BATCH_SIZE", 2)
    real_post = tasks.entries_post_families
    calls = {"n": 0}

    def crash_in_the_second_batch(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise ConnectionError("worker lost its database connection")
        return real_post(**kwargs)

    monkeypatch.setattr(tasks, "entries_post_families", crash_in_the_second_batch)
    run = start_run(account_a, alice)
    run_worker()
    with activate_account(account_a):
        run.refresh_from_db()
        assert run.status == "failed" and "ConnectionError" in run.error
        partial = actual_ledger(account_a)
        assert 0 < sum(partial.values()) < sum(expected.values())
        services.billing_run_resume(run=run)
    run_worker()
    assert actual_ledger(account_a) == expected
    with activate_account(account_a):
        run.refresh_from_db()
        assert run.status == "done"
        for family_id in {key[0] for key in expected}:
            family = make_family.__globals__["Family"].objects.get(pk=family_id)
            figures = family_balance(family, today=date(2027, 1, 31))
            assert figures.balance_cents == sum(
                amount if kind == "charge" else -amount
                for (fam, _, kind, amount), n in expected.items()
                if fam == family_id
            )


def test_a_second_run_is_refused_while_one_is_in_progress(account_a, alice):
    from classbook.core.errors import ValidationFailed

    build_account(account_a, families=1)
    start_run(account_a, alice)
    with pytest.raises(ValidationFailed, match="already in progress"):
        start_run(account_a, alice)


def test_late_fee_once_per_period(account_a, alice):
    with activate_account(account_a):
        services.billing_settings_update(late_fee_cents=1500, late_fee_after_days=10)
        family = make_family("Late")
        from classbook.ledger import services as ledger

        ledger.charge_post(
            family=family,
            charge_type="tuition",
            amount_cents=8000,
            description="Jan",
            entry_date=JAN,
            due_date=JAN,
        )
        assert services.late_fees_assess(today=date(2027, 1, 10)) == 0
        assert services.late_fees_assess(today=date(2027, 1, 12)) == 1
        assert services.late_fees_assess(today=date(2027, 1, 20)) == 0
        fees = LedgerEntry.objects.filter(subtype="late_fee")
        assert [f.amount_cents for f in fees] == [1500]
        ledger.payment_record(family=family, method="cash", amount_cents=9500)
        assert services.late_fees_assess(today=date(2027, 2, 20)) == 0


def batch_posted(account) -> Counter:
    with activate_account(account):
        return Counter(
            int(e.object_id) for e in LogEntry.objects.filter(action="ledger.batch_posted")
        )


def test_one_audit_entry_per_family_billed_and_none_when_run_again(account_a, alice):
    build_account(account_a)
    billed = {key[0] for key in expected_ledger(account_a)}
    start_run(account_a, alice)
    run_worker()
    assert batch_posted(account_a) == Counter(billed)
    start_run(account_a, alice)
    run_worker()
    assert batch_posted(account_a) == Counter(billed)


def test_a_family_with_a_bad_line_rolls_back_its_batch_only_then_resumes(
    account_a, alice, monkeypatch
):
    """Posting is all or nothing per batch (one transaction, no savepoint per family):
    a bad line stops the run with the error, earlier batches stay posted, nothing of the
    failing batch is written, and the resumed run posts exactly the preview."""
    build_account(account_a)
    expected = expected_ledger(account_a)
    monkeypatch.setattr(tasks, "BATCH_SIZE", 2)
    with activate_account(account_a):
        ids = families_with_seats(JAN)
    bad_family = ids[2]  # the first family of the second batch
    real_bill = tasks.bill_families

    def one_bad_amount(seats, **kwargs):
        bills = real_bill(seats, **kwargs)
        if bad_family in bills:
            line = bills[bad_family].lines[0]
            bills[bad_family].lines[0] = dataclasses.replace(line, amount_cents=12.5)
        return bills

    monkeypatch.setattr(tasks, "bill_families", one_bad_amount)
    run = start_run(account_a, alice)
    run_worker()
    with activate_account(account_a):
        run.refresh_from_db()
        assert run.status == "failed" and "ValidationFailed" in run.error
        assert run.families_done == 2
    posted = actual_ledger(account_a)
    assert {key[0] for key in posted} == set(ids[:2])
    assert posted == Counter({k: n for k, n in expected.items() if k[0] in ids[:2]})
    assert set(batch_posted(account_a)) == set(ids[:2])
    monkeypatch.setattr(tasks, "bill_families", real_bill)  # the data is fixed
    with activate_account(account_a):
        services.billing_run_resume(run=run)
    run_worker()
    assert actual_ledger(account_a) == expected
    assert batch_posted(account_a) == Counter({key[0] for key in expected})


def test_a_batch_makes_the_same_queries_for_2_or_6_families(account_a, alice):
    """Set-based posting: the queries of a batch do not grow with its families (each
    family here has siblings, a multi-class discount, a registration fee and a payment
    waiting to be applied)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from classbook.ledger import services as ledger

    with activate_account(account_a):
        services.billing_settings_update(
            sibling_kind="percent",
            sibling_second=10,
            multiclass_second=5,
            registration_fee_cents=2500,
        )
        rule = monthly_rule(8000)
        classes = [priced_class(rule, name=f"C{i}", weekdays=(i,), capacity=30) for i in range(3)]
        groups = []
        for size in (2, 6):
            ids = []
            for f in range(size):
                family = make_family(f"S{size}-{f}")
                ledger.payment_record(family=family, method="cash", amount_cents=5000)
                for s in range(2):
                    kid = make_student(f"K{size}-{f}-{s}", family=family)
                    for klass in classes[: 2 - s]:
                        enroll(kid, klass)
                ids.append(family.pk)
            groups.append(ids)
        counts = []
        for ids in groups:
            with CaptureQueriesContext(connection) as queries:
                entries, _ = tasks.post_families(JAN, ids)
            assert entries == 6 * len(ids)  # 3 tuition, multi-class, sibling, reg. fee
            counts.append(len(queries))
            for family_id in ids:
                family = Family.objects.get(pk=family_id)
                assert family_balance(family, today=JAN).unapplied_credit_cents == 0
    assert counts[0] == counts[1] <= 25, counts
