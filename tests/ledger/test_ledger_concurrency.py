"""Real threads on PostgreSQL: concurrent payments against the same charges never apply
more than a charge's amount, and every payment is kept whole."""

import threading

import pytest
from django.db import connection, connections

from classbook.core.tenancy import activate_account
from classbook.ledger import services
from classbook.ledger.models import Allocation, LedgerEntry
from classbook.ledger.selectors import applied_amounts, family_balance
from tests.conftest import is_postgres
from tests.ledger.helpers import make_family

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_payments_keep_allocations_within_amounts(account_a):
    if not is_postgres():
        pytest.skip("needs real concurrent transactions (PostgreSQL)")
    with activate_account(account_a):
        family = make_family("Rush")
        for month in range(3):
            services.charge_post(
                family=family,
                charge_type="tuition",
                amount_cents=5000,
                description=f"Month {month}",
            )
    errors = []
    start = threading.Barrier(8)

    def pay():
        try:
            with activate_account(account_a):
                start.wait()
                services.payment_record(family=family, method="cash", amount_cents=3000)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=pay) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    connection.close()
    with activate_account(account_a):
        entries = list(LedgerEntry.objects.filter(family=family))
        applied = applied_amounts(entries)
        assert all(0 <= applied[e.pk] <= e.amount_cents for e in entries)
        assert len([e for e in entries if e.kind == "payment"]) == 8
        figures = family_balance(family, today=entries[0].entry_date)
        assert figures.balance_cents == 15000 - 24000
        assert figures.unapplied_credit_cents == 9000
        assert Allocation.objects.filter(source__family=family).count() >= 3
