"""Named ledger cases: each posts entries and checks every derived figure in cents."""

from datetime import date

import pytest
from django.db import connection, transaction

from classbook.core.errors import ValidationFailed
from classbook.ledger import services
from classbook.ledger.models import Allocation, LedgerEntry, LedgerSettings
from classbook.ledger.selectors import family_balance, ledger_lines, refundable_cents
from tests.conftest import is_postgres

TODAY = date(2026, 11, 21)


def balance(family):
    return family_balance(family, today=TODAY)


def charge(family, cents, *, due=date(2026, 11, 1), kind="tuition", text="Tuition"):
    return services.charge_post(
        family=family,
        charge_type=kind,
        amount_cents=cents,
        description=text,
        entry_date=due,
        due_date=due,
    )


def test_payment_pays_the_oldest_charge_first(family):
    october = charge(family, 8000, due=date(2026, 10, 1), text="October")
    november = charge(family, 8000, due=date(2026, 11, 1), text="November")
    services.payment_record(family=family, method="cash", amount_cents=10000)
    figures = balance(family)
    assert figures.balance_cents == 6000
    assert figures.due_now_cents == 6000
    assert figures.unapplied_credit_cents == 0
    applied = {a.target_id: a.amount_cents for a in Allocation.objects.all()}
    assert applied == {october.pk: 8000, november.pk: 2000}


def test_overpayment_becomes_unapplied_credit_and_pays_the_next_charge(family):
    charge(family, 5000)
    services.payment_record(family=family, method="check", amount_cents=7500, reference="1042")
    assert balance(family).unapplied_credit_cents == 2500
    assert balance(family).balance_cents == -2500
    charge(family, 4000, due=date(2026, 12, 1), text="December")
    figures = balance(family)
    assert figures.unapplied_credit_cents == 0
    assert figures.balance_cents == 1500
    assert figures.due_now_cents == 0  # December is not due yet on Nov 21


def test_without_auto_apply_credit_waits_for_staff(family):
    LedgerSettings.objects.create(auto_apply_credit=False)
    services.payment_record(family=family, method="cash", amount_cents=3000)
    charge(family, 5000)
    assert balance(family).unapplied_credit_cents == 3000
    assert balance(family).due_now_cents == 5000
    assert services.credit_apply_all(family=family) == 3000
    assert balance(family).due_now_cents == 2000


def test_staff_choose_which_charge_a_payment_pays(family):
    old = charge(family, 5000, due=date(2026, 9, 1))
    new = charge(family, 5000, due=date(2026, 11, 1))
    LedgerSettings.objects.create(auto_apply_credit=False)
    services.payment_record(family=family, method="cash", amount_cents=5000, apply_to=[(new, 5000)])
    assert {a.target_id for a in Allocation.objects.all()} == {new.pk}
    assert balance(family).aging["60"] == 5000  # the September charge is 81 days late
    assert old.pk not in {a.target_id for a in Allocation.objects.all()}


def test_refund_reopens_the_charge_it_paid(family):
    charge(family, 6000)
    payment = services.payment_record(family=family, method="card_external", amount_cents=6000)
    refund = services.refund_post(payment=payment, amount_cents=2500)
    figures = balance(family)
    assert refund.kind == "refund" and refund.refund_of == payment
    assert figures.balance_cents == 2500
    assert figures.due_now_cents == 2500
    assert refundable_cents(payment) == 3500


def test_refund_above_what_remains_is_refused_and_changes_nothing(family):
    payment = services.payment_record(family=family, method="cash", amount_cents=3000)
    services.refund_post(payment=payment, amount_cents=2000)
    before = LedgerEntry.objects.count()
    with pytest.raises(ValidationFailed, match=r"10\.00"):
        services.refund_post(payment=payment, amount_cents=1500)
    assert LedgerEntry.objects.count() == before


def test_reversing_a_charge_turns_its_payment_into_credit(family):
    wrong = charge(family, 9000, text="Charged twice by mistake")
    services.payment_record(family=family, method="cash", amount_cents=9000)
    services.entry_reverse(entry=wrong, reason="Duplicate")
    figures = balance(family)
    assert figures.balance_cents == -9000
    assert figures.unapplied_credit_cents == 9000
    assert figures.due_now_cents == 0


def test_reversing_a_bounced_check_reopens_the_charges(family):
    charge(family, 7000)
    check = services.payment_record(family=family, method="check", amount_cents=7000)
    services.entry_reverse(entry=check, reason="Bounced")
    figures = balance(family)
    assert figures.balance_cents == 7000
    assert figures.due_now_cents == 7000
    with pytest.raises(ValidationFailed, match="already reversed"):
        services.entry_reverse(entry=check, reason="again")


def test_reversing_a_refund_restores_the_payment(family):
    charge(family, 4000)
    payment = services.payment_record(family=family, method="cash", amount_cents=4000)
    refund = services.refund_post(payment=payment, amount_cents=4000)
    assert balance(family).balance_cents == 4000
    services.entry_reverse(entry=refund, reason="Refund was keyed by mistake")
    assert balance(family).balance_cents == 0
    assert refundable_cents(payment) == 4000


def test_a_payment_with_refunds_cannot_be_reversed(family):
    payment = services.payment_record(family=family, method="cash", amount_cents=4000)
    services.refund_post(payment=payment, amount_cents=1000)
    with pytest.raises(ValidationFailed, match="refunds"):
        services.entry_reverse(entry=payment, reason="x")


@pytest.mark.parametrize("amount", [0, -500, 12.5, True])
def test_zero_negative_or_fractional_amounts_are_refused(family, amount):
    with pytest.raises(ValidationFailed):
        services.payment_record(family=family, method="cash", amount_cents=amount)
    assert LedgerEntry.objects.count() == 0


def test_unknown_kinds_are_refused(family):
    with pytest.raises(ValidationFailed, match="how the family paid"):
        services.payment_record(family=family, method="bitcoin", amount_cents=100)
    with pytest.raises(ValidationFailed, match="kind of charge"):
        services.charge_post(family=family, charge_type="x", amount_cents=100, description="x")


def test_the_same_idempotency_key_posts_once(family):
    first = services.charge_post(
        family=family,
        charge_type="tuition",
        amount_cents=8000,
        description="Dec tuition",
        idempotency_key="tuition:1:2026-12",
    )
    again = services.charge_post(
        family=family,
        charge_type="tuition",
        amount_cents=8000,
        description="Dec tuition",
        idempotency_key="tuition:1:2026-12",
    )
    assert first.pk == again.pk
    assert LedgerEntry.objects.count() == 1


def test_applying_more_than_is_open_is_refused(family):
    LedgerSettings.objects.create(auto_apply_credit=False)
    target = charge(family, 3000)
    payment = services.payment_record(
        family=family, method="cash", amount_cents=5000, apply_to=[(target, 3000)]
    )
    with pytest.raises(ValidationFailed, match="still open"):
        services.allocation_change(source=payment, target=target, amount_cents=1)
    with pytest.raises(ValidationFailed, match="release more"):
        services.allocation_change(source=payment, target=target, amount_cents=-3001)


def test_entries_and_allocations_are_append_only(family):
    entry = charge(family, 1000)
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        LedgerEntry.objects.filter(pk=entry.pk).update(amount_cents=1)
    with pytest.raises(TypeError):
        Allocation.objects.all().delete()


def test_running_balance_on_the_ledger_page_lines(family):
    charge(family, 5000, due=date(2026, 10, 1))
    services.payment_record(
        family=family, method="cash", amount_cents=2000, entry_date=date(2026, 10, 5)
    )
    charge(family, 5000, due=date(2026, 11, 1))
    lines = ledger_lines(family)
    assert [line.running_balance_cents for line in lines] == [5000, 3000, 8000]
    payments = ledger_lines(family, kinds=["payment"])
    assert [line.running_balance_cents for line in payments] == [3000]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_ledgerentry SET amount_cents = 1",
        "DELETE FROM ledger_ledgerentry",
        "DELETE FROM ledger_allocation",
    ],
)
def test_postgres_rejects_changing_entries(family, statement):
    if not is_postgres():
        pytest.skip("the append-only trigger is PostgreSQL's")
    charge(family, 1000)
    services.payment_record(family=family, method="cash", amount_cents=500)
    with (
        pytest.raises(Exception, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)


def test_postgres_trigger_refuses_over_allocation_even_from_raw_sql(family):
    if not is_postgres():
        pytest.skip("the allocation trigger is PostgreSQL's")
    LedgerSettings.objects.create(auto_apply_credit=False)
    target = charge(family, 1000)
    payment = services.payment_record(
        family=family, method="cash", amount_cents=5000, apply_to=[(target, 1000)]
    )
    with (
        pytest.raises(Exception, match="allocation would apply"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO ledger_allocation (account_id, source_id, target_id, amount_cents, "
            "created_at) VALUES (%s, %s, %s, 1, now())",
            [family.account_id, payment.pk, target.pk],
        )
