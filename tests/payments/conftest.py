"""Payment test helpers (the sandbox fixtures live in tests/conftest.py)."""

from datetime import date

import pytest

from classbook.core.tenancy import activate_account


@pytest.fixture
def in_a(account_a):
    with activate_account(account_a):
        yield account_a


def card(sandbox_url, number="4242424242424242") -> str:
    """A payment method made at the gateway, standing in for the browser's Stripe.js (the
    card number goes to the gateway only; our server only ever sees the pm_ id)."""
    import stripe

    client = stripe.StripeClient("sk_test_browser_stand_in", base_addresses={"api": sandbox_url})
    return client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        }
    ).id


# --- the fault tests' bench (tests/payments/faults.py) ------------------------------------
# Modules that need another ``bench`` or ``family`` define their own, which wins.


@pytest.fixture(scope="module")
def bench():
    from tests.payments import faults

    with faults.bench_started() as bench:
        yield bench


@pytest.fixture
def family(bench, account_a):
    """A family owing January's tuition, on a freshly wiped and configured fault bench."""
    from classbook.ledger import services as ledger
    from tests.ledger.helpers import make_family

    bench.wipe()
    with activate_account(account_a):
        bench.configure()
        family = make_family("Garcia")
        ledger.charge_post(
            family=family,
            charge_type="tuition",
            amount_cents=8000,
            description="January tuition",
            entry_date=date(2027, 1, 1),
        )
        yield family
