"""Races forced with real threads on PostgreSQL: a double submit, two tabs, a webhook
arriving while the request records, two reconcilers at once.

Each race is forced, not hoped for: every thread waits (bounded) at the same named step
until the other is there too (``faults.meet`` hooked with ``run_before``/``run_after``).
"""

import threading
from datetime import date

import pytest

from classbook.core.tenancy import activate_account
from classbook.ledger import services as ledger
from classbook.ledger.models import LedgerEntry
from classbook.payments.models import PaymentAttempt, ReconciliationIssue
from classbook.payments.reconcile import reconcile
from tests.conftest import is_postgres
from tests.ledger.helpers import make_family
from tests.payments import faults
from tests.payments.faults import (
    INTENT_CREATE,
    check_payments,
    in_threads,
    meet,
    reconcile_after,
    require,
    run_after,
    run_before,
    take,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SERVICES = "classbook.payments.services"


@pytest.fixture
def family(bench, account_a):
    if not is_postgres():
        pytest.skip("needs real concurrent transactions (PostgreSQL)")
    bench.wipe()
    with activate_account(account_a):
        bench.configure()
        family = make_family("Garcia")
        ledger.charge_post(
            family=family,
            charge_type="tuition",
            amount_cents=8000,
            description="January tuition",
            entry_date=date(2027, 1, 1),
        )
        yield family


def payments() -> int:
    return LedgerEntry.objects.filter(kind="payment").count()


def no_errors(outcomes):
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    require(not errors, repr(errors))
    return outcomes


def test_a_double_submit_at_the_same_moment_charges_once(bench, family, account_a):
    pm = bench.card()
    # Both requests pass the same point together, then race for the family lock under
    # which the attempt is opened (only one may call the gateway).
    with run_after(f"{SERVICES}._require_gateway", meet(2)):
        first, second = no_errors(
            in_threads(
                account_a,
                lambda: take(family, pm, token="same-form"),
                lambda: take(family, pm, token="same-form"),
            )
        )
    assert first.attempt.pk == second.attempt.pk
    assert PaymentAttempt.objects.count() == 1 and bench.proxy.seen(INTENT_CREATE) == 1
    reconcile_after(minutes=11)
    assert check_payments(bench.truth, families=[family]).kept == 1 and payments() == 1


def test_two_tabs_at_the_same_moment_charge_once(bench, family, account_a):
    pm = bench.card()
    with run_after(f"{SERVICES}._require_gateway", meet(2)):
        no_errors(
            in_threads(
                account_a,
                lambda: take(family, pm, token="tab-1"),
                lambda: take(family, pm, token="tab-2"),
            )
        )
    reconcile_after(minutes=11)
    faults.require_properties(bench.truth, families=[family])  # per attempt, all is well...
    charged = [
        i
        for i in bench.truth.list_intents(since=faults.EPOCH)
        if i.succeeded and i.amount_refunded_cents < i.amount_cents
    ]
    assert len(charged) == 1, f"one balance, {len(charged)} kept charges"  # ...not per balance


def test_a_webhook_arriving_while_the_request_records_records_once(bench, family, account_a):
    webhooks = pytest.importorskip("classbook.payments.webhooks")
    pm = bench.card()
    meeting = meet(2)
    settling = {}

    def request():
        return take(family, pm, token="form-1")

    def webhook():
        faults.wait_until(lambda: "intent" in settling, timeout=20, what="the confirmation")
        payload, signature = faults.intent_event(settling["intent"])
        return webhooks.webhook_receive(payload=payload, signature=signature)

    def both_settle(*args, attempt, intent, **kwargs):
        settling.setdefault("intent", intent)
        meeting()

    with run_before(f"{SERVICES}.attempt_settle", both_settle):
        result, outcome = no_errors(in_threads(account_a, request, webhook))
    assert result.succeeded and outcome.status in (200, 503), outcome
    assert payments() == 1
    reconcile_after(minutes=2)
    assert check_payments(bench.truth, families=[family]).kept == 1 and payments() == 1


def test_two_reconcilers_at_once_refund_a_duplicate_once(bench, family, account_a):
    first = take(family, bench.card(), token="form-1")
    twin = bench.gateway_charge(first.attempt, bench.card())
    # Both reconcilers reach the duplicate together; the issue's unique constraint lets
    # one of them refund it.
    with run_before("classbook.payments.reconcile._duplicate", meet(2)):
        no_errors(in_threads(account_a, reconcile, reconcile))
    refunds = [r for r in bench.truth.list_refunds(since=faults.EPOCH) if r.intent_id == twin.id]
    assert sum(r.amount_cents for r in refunds) == twin.amount_cents, (
        f"the duplicate of {twin.amount_cents} was refunded {len(refunds)} times"
    )
    faults.require_properties(bench.truth, families=[family])


def _request_records_while_the_reconciler_holds(bench, family, account_a):
    """The request is confirmed; the reconciler finds the success at the gateway and
    sees the attempt unpaid; the request records it; then the reconciler records too."""
    pm = bench.card()
    meeting = meet(2)
    confirmed, recorded = threading.Event(), threading.Event()

    def request():
        return take(family, pm, token="form-1")

    def reconciler():
        assert confirmed.wait(20), "the request never reached the recording step"
        return reconcile()

    def request_holds(*args, **kwargs):  # confirmed at the gateway, not recorded yet
        confirmed.set()
        meeting()

    def reconciler_holds(*args, **kwargs):  # it read the attempt as unpaid
        meeting()
        assert recorded.wait(20), "the request never recorded"

    with (
        run_before(f"{SERVICES}.attempt_settle", request_holds),
        run_after(f"{SERVICES}.attempt_settle", lambda *a, **k: recorded.set()),
        run_before("classbook.payments.reconcile.attempt_settle", reconciler_holds),
    ):
        return no_errors(in_threads(account_a, request, reconciler))


def test_a_reconciler_running_while_the_request_records_records_once(bench, family, account_a):
    result, _report = _request_records_while_the_reconciler_holds(bench, family, account_a)
    assert result.succeeded and not result.attempt.recorded_by_reconciler
    assert check_payments(bench.truth, families=[family]).kept == 1 and payments() == 1


def test_a_reconciler_that_lost_the_race_files_no_missing_payment(bench, family, account_a):
    result, _report = _request_records_while_the_reconciler_holds(bench, family, account_a)
    require(result.succeeded and not result.attempt.recorded_by_reconciler)
    issues = list(ReconciliationIssue.objects.filter(kind="missing_payment"))
    assert issues == [], [i.action for i in issues]


def test_two_refunds_of_the_whole_payment_at_once_refund_it_once(bench, family, account_a):
    from classbook.core.errors import ValidationFailed
    from classbook.payments import services

    payment = take(family, bench.card(), token="form-1").attempt.ledger_entry

    def refund_all():
        try:
            return services.gateway_refund(payment=payment, amount_cents=8000, reason="Both")
        except ValidationFailed as refused:
            return f"refused: {refused}"

    with run_before(f"{SERVICES}.gateway_refund", meet(2)):
        outcomes = no_errors(in_threads(account_a, refund_all, refund_all))
    refused = [o for o in outcomes if isinstance(o, str) and o.startswith("refused")]
    assert len(refused) == 1, outcomes  # localstripe would refund twice: we must not ask
    refunds = bench.truth.list_refunds(since=faults.EPOCH)
    assert sum(r.amount_cents for r in refunds) == 8000
    assert check_payments(bench.truth, families=[family]).gateway_refunds == 1
    assert LedgerEntry.objects.filter(kind="refund").count() == 1


def test_a_webhook_that_settles_while_the_response_is_lost_is_not_overwritten(
    bench, family, account_a
):
    """The gateway confirms, its webhook arrives and settles the attempt, and only then
    does the request learn that its own response was lost: the request must not turn
    the settled attempt back into 'unknown'."""
    from django.db import connections

    webhooks = pytest.importorskip("classbook.payments.webhooks")
    outcomes = []

    def webhook_meanwhile(path: str) -> None:
        intent_id = path.split("/")[3]  # /v1/payment_intents/<id>/confirm
        try:
            with activate_account(account_a):
                intent = bench.truth.retrieve_intent(intent_id=intent_id)
                payload, signature = faults.intent_event(intent)
                outcomes.append(webhooks.webhook_receive(payload=payload, signature=signature))
        finally:
            connections.close_all()

    with bench.proxy.fault(faults.INTENT_CONFIRM, meanwhile=webhook_meanwhile) as dropped:
        result = take(family, bench.card(), token="form-1")
    require(dropped.fired == 1 and not dropped.errors, repr(dropped.errors))
    require(len(outcomes) == 1 and outcomes[0].status == 200, repr(outcomes))
    result.attempt.refresh_from_db()
    assert result.attempt.status == "succeeded" and payments() == 1
    assert result.succeeded, result.message
    reconcile_after(minutes=11)
    assert check_payments(bench.truth, families=[family]).kept == 1 and payments() == 1
