"""One valid call per audited billing service (see tests/audit)."""

from datetime import date

from classbook.billing import services
from classbook.billing.models import BillingRun
from classbook.ledger import services as ledger
from tests.billing.helpers import monthly_rule
from tests.enrollment.helpers import program
from tests.ledger.helpers import make_family


def _overdue_family(ctx):
    services.billing_settings_update(late_fee_cents=1500, late_fee_after_days=5)
    family = make_family("Overdue")
    ledger.charge_post(
        family=family,
        charge_type="tuition",
        amount_cents=8000,
        description="Oct",
        entry_date=date(2026, 10, 1),
        due_date=date(2026, 10, 1),
    )
    return lambda: services.late_fees_assess(today=date(2026, 11, 1))


def _failed_run(ctx):
    run = BillingRun.objects.create(period=date(2027, 1, 1), status="failed")
    return lambda: services.billing_run_resume(run=run)


def _assign(ctx):
    rule, prog = monthly_rule(), program()
    return lambda: services.tuition_assign(rule=rule, program=prog)


SCENARIOS = {
    "classbook.billing.services.tuition_rule_save": lambda ctx: (
        lambda: services.tuition_rule_save(name="Rec monthly", kind="monthly", amount_cents=8500)
    ),
    "classbook.billing.services.tuition_assign": _assign,
    "classbook.billing.services.billing_settings_update": lambda ctx: (
        lambda: services.billing_settings_update(proration="full")
    ),
    "classbook.billing.services.billing_run_start": lambda ctx: (
        lambda: services.billing_run_start(period=date(2027, 1, 1), by=ctx["alice"])
    ),
    "classbook.billing.services.billing_run_resume": _failed_run,
    "classbook.billing.services.late_fees_assess": _overdue_family,
}
