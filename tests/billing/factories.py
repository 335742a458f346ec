"""Row-makers for billing models (merged into tests/tenant_factories.py)."""

from classbook.billing.models import BillingRun, BillingSettings, TuitionAssignment, TuitionRule
from classbook.catalog.models import Program


def _rule(n):
    return TuitionRule.objects.create(name=f"Rule {n}", kind="monthly", amount_cents=8000)


FACTORIES = {
    TuitionRule: _rule,
    TuitionAssignment: lambda n: TuitionAssignment.objects.create(
        rule=_rule(f"A{n}"), program=Program.objects.create(name=f"Billing program {n}")
    ),
    BillingSettings: lambda n: BillingSettings.objects.create(),
    BillingRun: lambda n: BillingRun.objects.create(period="2027-01-01"),
}
