"""Row-makers for payments models (merged into tests/tenant_factories.py)."""

from classbook.payments.models import (
    GatewayCustomer,
    GatewayRefundRecord,
    GatewaySettings,
    PaymentAttempt,
    ReconciliationIssue,
    SavedCard,
    WebhookEvent,
)
from tests.ledger.helpers import make_family


def _attempt(n):
    return PaymentAttempt.objects.create(
        family=make_family(f"P{n}"),
        amount_cents=100,
        currency="USD",
        purpose="charges",
        payment_method_id=f"pm_{n}",
    )


FACTORIES = {
    GatewaySettings: lambda n: GatewaySettings.objects.create(
        publishable_key="pk_test", secret_key_encrypted="x"
    ),
    GatewayCustomer: lambda n: GatewayCustomer.objects.create(
        family=make_family(f"G{n}"), customer_id=f"cus_{n}"
    ),
    SavedCard: lambda n: SavedCard.objects.create(
        family=make_family(f"S{n}"),
        payment_method_id=f"pm_s{n}",
        last4="4242",
        exp_month=12,
        exp_year=2030,
    ),
    PaymentAttempt: _attempt,
    GatewayRefundRecord: lambda n: GatewayRefundRecord.objects.create(
        attempt=_attempt(f"R{n}"), amount_cents=50, reason="x"
    ),
    WebhookEvent: lambda n: WebhookEvent.objects.create(event_id=f"evt_{n}", type="x"),
    ReconciliationIssue: lambda n: ReconciliationIssue.objects.create(
        kind="stuck", gateway_id=f"pi_{n}", action="x"
    ),
}
