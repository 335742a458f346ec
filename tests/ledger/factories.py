"""Row-makers for ledger models (merged into tests/tenant_factories.py)."""

from classbook.ledger import services
from classbook.ledger.models import (
    Allocation,
    LedgerEntry,
    LedgerSettings,
    StatementDelivery,
    StatementRun,
)
from tests.ledger.helpers import make_family


def _charge(n):
    return services.charge_post(
        family=make_family(f"Ledger {n}"),
        charge_type="tuition",
        amount_cents=5000,
        description=f"Tuition {n}",
    )


def _allocation(n):
    charge = _charge(f"a{n}")
    services.payment_record(family=charge.family, method="cash", amount_cents=2000)
    return Allocation.objects.filter(target=charge).first()


FACTORIES = {
    LedgerEntry: _charge,
    Allocation: _allocation,
    LedgerSettings: lambda n: LedgerSettings.objects.create(),
    StatementRun: lambda n: StatementRun.objects.create(month="2026-11-01"),
    StatementDelivery: lambda n: StatementDelivery.objects.create(
        run=StatementRun.objects.create(month="2026-10-01"), family=make_family(f"S{n}")
    ),
}
