"""One valid call per audited ledger service (see tests/audit)."""

from classbook.ledger import services
from classbook.ledger.models import LedgerSettings
from tests.ledger.helpers import make_family


def _paid():
    family = make_family()
    services.charge_post(
        family=family, charge_type="tuition", amount_cents=8000, description="Setup charge"
    )
    return services.payment_record(
        family=family, method="check", amount_cents=8000, reference="1001"
    )


def _open_charge_and_credit():
    LedgerSettings.objects.create(auto_apply_credit=False)
    family = make_family()
    charge = services.charge_post(
        family=family, charge_type="tuition", amount_cents=5000, description="Open charge"
    )
    payment = services.payment_record(
        family=family, method="cash", amount_cents=2000, apply_to=[(charge, 1)]
    )
    return charge, payment


def _refund(ctx):
    payment = _paid()
    return lambda: services.refund_post(payment=payment, amount_cents=3000)


def _reverse(ctx):
    payment = _paid()
    return lambda: services.entry_reverse(entry=payment, reason="Check bounced")


def _allocation_change(ctx):
    charge, payment = _open_charge_and_credit()
    return lambda: services.allocation_change(source=payment, target=charge, amount_cents=500)


def _credit_apply_all(ctx):
    charge, _ = _open_charge_and_credit()
    return lambda: services.credit_apply_all(family=charge.family)


def _family_then(call):
    def scenario(ctx):
        family = make_family()
        return lambda: call(family)

    return scenario


def _statements(ctx):
    from datetime import date

    _paid()
    return lambda: services.statements_send(
        month=date(2026, 11, 1), only_with_balance=False, by=ctx["alice"]
    )


def _batch_lines():
    from datetime import date

    return [
        services.BatchLine(
            kind="charge",
            subtype="tuition",
            amount_cents=8000,
            description="Tuition",
            idempotency_key="t:1",
            entry_date=date(2027, 1, 1),
        ),
        services.BatchLine(
            kind="credit",
            subtype="discount",
            amount_cents=800,
            description="Sibling discount",
            idempotency_key="d:1",
            entry_date=date(2027, 1, 1),
        ),
    ]


def _batch(ctx):
    family = make_family()
    lines = _batch_lines()
    return lambda: services.entries_post_batch(family=family, lines=lines, summary="Jan")


def _families(ctx):
    # One family: the service writes one entry per family that got entries.
    family = make_family()
    lines = {family.pk: _batch_lines()}
    return lambda: services.entries_post_families(lines_by_family=lines, summary="Jan")


SCENARIOS = {
    "classbook.ledger.services.entries_post_batch": _batch,
    "classbook.ledger.services.entries_post_families": _families,
    "classbook.ledger.services.statements_send": _statements,
    "classbook.ledger.services.charge_post": _family_then(
        lambda family: services.charge_post(
            family=family, charge_type="retail", amount_cents=1500, description="Leotard"
        )
    ),
    "classbook.ledger.services.payment_record": _family_then(
        lambda family: services.payment_record(family=family, method="cash", amount_cents=2500)
    ),
    "classbook.ledger.services.credit_post": _family_then(
        lambda family: services.credit_post(
            family=family,
            credit_type="goodwill",
            amount_cents=500,
            description="Sorry about the cancelled class",
        )
    ),
    "classbook.ledger.services.refund_post": _refund,
    "classbook.ledger.services.entry_reverse": _reverse,
    "classbook.ledger.services.allocation_change": _allocation_change,
    "classbook.ledger.services.credit_apply_all": _credit_apply_all,
}
