"""Payment test helpers (the sandbox fixtures live in tests/conftest.py)."""

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
