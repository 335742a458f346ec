"""One valid call per audited payments service (see tests/audit)."""

from classbook.payments import services
from classbook.payments.gateway import Intent
from classbook.payments.models import GatewayRefundRecord, PaymentAttempt, SavedCard
from tests.ledger.helpers import make_family
from tests.payments.conftest import card


def _attempt(ctx, status="processing"):
    return PaymentAttempt.objects.create(
        family=make_family("Audit"),
        amount_cents=5000,
        currency="USD",
        purpose="charges",
        payment_method_id="pm_x",
        status=status,
    )


def _card_save(ctx):
    ctx["request"].getfixturevalue("gateway")
    url = ctx["request"].getfixturevalue("sandbox_url")
    family, method = make_family("Card"), card(url)
    return lambda: services.card_save(family=family, payment_method_id=method)


def _settle(ctx):
    attempt = _attempt(ctx)
    intent = Intent(
        id="pi_audit", status="succeeded", amount_cents=5000, currency="USD", charge_id="ch_audit"
    )
    return lambda: services.attempt_settle(attempt=attempt, intent=intent)


def _refund_settle(ctx):
    from classbook.ledger import services as ledger

    attempt = _attempt(ctx)
    entry = ledger.payment_record(
        family=attempt.family, method="card", amount_cents=5000, idempotency_key="gateway:pi_r"
    )
    PaymentAttempt.objects.filter(pk=attempt.pk).update(
        status="succeeded", ledger_entry=entry, intent_id="pi_r"
    )
    record = GatewayRefundRecord.objects.create(attempt=attempt, amount_cents=1000, reason="x")
    return lambda: services.refund_settle(record=record, refund_id="re_audit", succeeded=True)


def _card_remove(ctx):
    saved = SavedCard.objects.create(
        family=make_family("Rm"),
        payment_method_id="pm_rm",
        last4="4242",
        exp_month=1,
        exp_year=2030,
    )
    return lambda: services.card_remove(card=saved)


def _card_autopay(ctx):
    saved = SavedCard.objects.create(
        family=make_family("Auto"),
        payment_method_id="pm_auto",
        last4="4242",
        exp_month=1,
        exp_year=2030,
    )
    return lambda: services.card_autopay_set(card=saved, use_for_autopay=True)


def _issue_review(ctx):
    from classbook.payments.models import ReconciliationIssue

    issue = ReconciliationIssue.objects.create(
        kind="missing_payment", gateway_id="pi_review", action="Recorded"
    )
    return lambda: services.reconciliation_issue_review(issue=issue)


def _fail(ctx):
    attempt = _attempt(ctx)
    return lambda: services.attempt_fail(attempt=attempt, message="Declined")


SCENARIOS = {
    "classbook.payments.services.gateway_settings_save": lambda ctx: (
        lambda: services.gateway_settings_save(publishable_key="pk_test_1", secret_key="sk_test_1")
    ),
    "classbook.payments.services.card_save": _card_save,
    "classbook.payments.services.card_remove": _card_remove,
    "classbook.payments.services.card_autopay_set": _card_autopay,
    "classbook.payments.services.reconciliation_issue_review": _issue_review,
    "classbook.payments.services.attempt_fail": _fail,
    "classbook.payments.services.attempt_settle": _settle,
    "classbook.payments.services.refund_settle": _refund_settle,
}

EXEMPT = {
    # Orchestrators: each is several committed steps (attempt before the gateway call,
    # outcome after it), and every step writes its own audit entry; they cannot be one
    # transaction without holding locks across a gateway call.
    "classbook.payments.services.payment_take": "several audited transactions by design",
    "classbook.payments.services.attempt_resolve": "settles through attempt_settle/_fail",
    "classbook.payments.services.gateway_refund": "refund_started, then refund_settle",
    "classbook.payments.services.card_setup_start": (
        "only asks the gateway for a SetupIntent (and links the family's gateway "
        "customer); the card is audited when it is saved or charged"
    ),
}
