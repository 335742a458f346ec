"""How the access matrix fills billing URL parameters with account A's objects."""

from classbook.billing.models import BillingRun, TuitionRule

PARAMS = {
    "billing_run_id": lambda ctx: BillingRun.objects.create(period="2027-01-01").pk,
    "rule_id": lambda ctx: (
        TuitionRule.objects.get_or_create(
            name="Matrix", defaults={"kind": "monthly", "amount_cents": 8000}
        )[0].pk
    ),
}
