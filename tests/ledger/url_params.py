"""How the access matrix fills ledger URL parameters with account A's objects."""

from classbook.ledger import services
from classbook.ledger.models import StatementRun
from tests.ledger.helpers import make_family


def _family(ctx):
    if "ledger_family" not in ctx:
        ctx["ledger_family"] = make_family("Matrix")
        services.charge_post(
            family=ctx["ledger_family"],
            charge_type="tuition",
            amount_cents=5000,
            description="Matrix tuition",
        )
        ctx["ledger_payment"] = services.payment_record(
            family=ctx["ledger_family"], method="cash", amount_cents=2000
        )
    return ctx["ledger_family"]


def _payment(ctx):
    _family(ctx)
    return ctx["ledger_payment"]


PARAMS = {
    "family_id": lambda ctx: _family(ctx).pk,
    "entry_id": lambda ctx: _payment(ctx).pk,
    "run_id": lambda ctx: StatementRun.objects.create(month="2026-11-01").pk,
}
