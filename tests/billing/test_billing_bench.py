"""A small run of the billing-run bench scenario, so it cannot rot (no timing asserted)."""

from classbook.bench import BenchContext
from classbook.bench.billing_run import run
from classbook.core.tenancy import activate_account
from classbook.ledger.models import LedgerEntry
from tests.billing.helpers import make_student


def test_billing_run_scenario_posts_every_enrollment(account_a, alice, client):
    with activate_account(account_a):
        for i in range(6):
            make_student(f"Bench{i}")
    [row] = run(BenchContext(account=account_a, client=client, families=6, seed=1, repeat=1))
    assert row.scenario.startswith("billing run: 6 enrollments, 6 families")
    assert "enrollments/s" in row.note and "queries per batch" in row.note
    with activate_account(account_a):
        assert LedgerEntry.objects.filter(subtype="tuition").count() == 6
