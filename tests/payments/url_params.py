"""How the access matrix fills the payments URL parameters with account A's objects.

``family_id`` and ``entry_id`` are the ledger's (a family of account A and a cash payment
of it, see tests/ledger/url_params.py); the cards and attempts are made in that family.
"""

from classbook.payments.models import PaymentAttempt, ReconciliationIssue, SavedCard
from tests.ledger import url_params as ledger_params


def _family(ctx):
    if "ledger_family" not in ctx:
        ledger_params.PARAMS["family_id"](ctx)
    return ctx["ledger_family"]


def _card(ctx):
    return SavedCard.objects.get_or_create(
        payment_method_id="pm_matrix",
        defaults={"family": _family(ctx), "last4": "4242", "exp_month": 12, "exp_year": 2030},
    )[0]


def _attempt(ctx):
    return PaymentAttempt.objects.get_or_create(
        request_token="matrix",
        defaults={
            "family": _family(ctx),
            "amount_cents": 2000,
            "currency": "USD",
            "purpose": "charges",
            "payment_method_id": "pm_matrix",
            "status": "unknown",
        },
    )[0]


def _issue(ctx):
    return ReconciliationIssue.objects.get_or_create(
        kind="missing_payment", gateway_id="pi_matrix", defaults={"action": "Recorded"}
    )[0]


PARAMS = {
    "card_id": lambda ctx: _card(ctx).pk,
    "attempt_id": lambda ctx: _attempt(ctx).pk,
    "reconciliation_issue_id": lambda ctx: _issue(ctx).pk,
}
