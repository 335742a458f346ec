"""Autopay after a billing run: each autopay card pays the due balance once per period
(even when the task runs twice), declined cards are retried on the account's schedule,
and the primary guardian hears about both."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from classbook.billing.models import BillingRun
from classbook.billing.tasks import post_billing_run
from classbook.core.tenancy import activate_account
from classbook.ledger import services as ledger
from classbook.ledger.models import LedgerEntry
from classbook.ledger.selectors import family_balance
from classbook.payments import services
from classbook.payments.autopay import autopay_retry_due, autopay_run, autopay_token
from classbook.payments.models import GatewaySettings, PaymentAttempt
from classbook.payments.selectors import gateway_for_account
from classbook.payments.tasks import charge_autopay
from tests.payments.conftest import card
from tests.payments.page_helpers import family_owing

PERIOD = date(2027, 1, 1)
DECLINES = "4000000000000341"


@pytest.fixture
def families(account_a, gateway, sandbox_url):
    """Garcia pays by autopay, Lee has a card but not for autopay, Kim owes nothing."""
    garcia = family_owing(account_a, name="Garcia")
    lee = family_owing(account_a, name="Lee")
    kim = family_owing(account_a, cents=1000, name="Kim")
    with activate_account(account_a):
        services.card_save(family=garcia, payment_method_id=card(sandbox_url), use_for_autopay=True)
        services.card_save(family=lee, payment_method_id=card(sandbox_url))
        services.card_save(family=kim, payment_method_id=card(sandbox_url), use_for_autopay=True)
        ledger.payment_record(family=kim, method="cash", amount_cents=1000)
    return {"garcia": garcia, "lee": lee, "kim": kim}


def card_payments(account):
    with activate_account(account):
        return list(LedgerEntry.objects.filter(kind="payment", subtype="card"))


def intents_for(account, attempt):
    with activate_account(account):
        return [
            i
            for i in gateway_for_account().list_intents(
                since=attempt.created_at - timedelta(minutes=1)
            )
            if i.metadata.get("attempt_id") == str(attempt.uuid)
        ]


def test_autopay_charges_the_due_balance_and_sends_the_receipt(account_a, families):
    with activate_account(account_a):
        report = autopay_run(period=PERIOD)
    assert (report.charged, report.declined, report.skipped) == (1, 0, 1)  # Kim owes nothing
    [payment] = card_payments(account_a)
    garcia = families["garcia"]
    assert (payment.family_id, payment.amount_cents) == (garcia.pk, 8000)
    with activate_account(account_a):
        attempt = PaymentAttempt.objects.get()
        assert family_balance(garcia, today=payment.entry_date).due_now_cents == 0
    assert attempt.purpose == "autopay"
    assert attempt.request_token == autopay_token(garcia.pk, PERIOD, 1)
    [receipt] = mail.outbox
    assert receipt.to == ["ana@garcia.example"]
    assert "receipt" in receipt.subject and "$80.00" in receipt.body
    assert receipt.attachments[0][0] == f"receipt-{payment.pk}.pdf"


def test_the_task_run_twice_charges_once(account_a, families):
    for _ in range(2):  # a retried task, a resumed billing run, a second worker
        result = charge_autopay.call(account_id=account_a.pk, period=PERIOD.isoformat())
    assert result == {"charged": 0, "declined": 0, "unconfirmed": 0, "skipped": 2}
    assert len(card_payments(account_a)) == 1
    with activate_account(account_a):
        attempt = PaymentAttempt.objects.get()
    assert len(intents_for(account_a, attempt)) == 1
    assert len(mail.outbox) == 1


def test_a_try_that_ran_already_is_never_sent_again(account_a, families):
    """Even when the family owes again (a late fee posted in between), the same period
    and try charges nothing more: only a retry (a new try number) may."""
    with activate_account(account_a):
        autopay_run(period=PERIOD)
        ledger.charge_post(
            family=families["garcia"], charge_type="late_fee", amount_cents=1500, description="Late"
        )
        report = autopay_run(period=PERIOD)
    assert report.charged == 0 and len(card_payments(account_a)) == 1


def test_a_finished_billing_run_queues_autopay(
    account_a, families, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    with activate_account(account_a):
        run = BillingRun.objects.create(period=PERIOD, family_ids=[])
    with django_capture_on_commit_callbacks(execute=True):
        post_billing_run.call(account_id=account_a.pk, run_id=run.pk)
    queued = DBTaskResult.objects.filter(task_path__endswith="payments.tasks.charge_autopay")
    assert queued.count() == 1
    assert queued.get().args_kwargs["kwargs"] == {
        "account_id": account_a.pk,
        "period": PERIOD.isoformat(),
    }


def test_without_gateway_settings_autopay_does_nothing(account_a, families):
    with activate_account(account_a):
        GatewaySettings.objects.all().delete()
        report = autopay_run(period=PERIOD)
        assert autopay_retry_due().charged == 0
    assert report.charged == 0 and card_payments(account_a) == []


# --- declines and retries --------------------------------------------------------------------


@pytest.fixture
def declining(account_a, gateway, sandbox_url):
    family = family_owing(account_a, name="Diaz")
    with activate_account(account_a):
        GatewaySettings.objects.update(autopay_retry_days=[1, 3])
        services.card_save(
            family=family, payment_method_id=card(sandbox_url, DECLINES), use_for_autopay=True
        )
        report = autopay_run(period=PERIOD)
        first = PaymentAttempt.objects.get()
    assert report.declined == 1 and first.status == "failed"
    return family, first


def tries(account):
    with activate_account(account):
        return list(
            PaymentAttempt.objects.order_by("created_at").values_list("request_token", "status")
        )


def test_a_decline_notifies_the_guardian_with_the_next_try(account_a, declining):
    _, first = declining
    [notice] = mail.outbox
    assert notice.to == ["ana@diaz.example"] and "did not go through" in notice.subject
    assert "Your card was declined." in notice.body
    retry_day = (first.created_at + timedelta(days=1)).astimezone(ZoneInfo("America/Chicago"))
    assert f"We will try the card again on {retry_day:%B} {retry_day.day}." in notice.body
    assert card_payments(account_a) == []


def test_retries_follow_the_schedule(account_a, declining, sandbox_url):
    family, first = declining
    start = first.created_at
    with activate_account(account_a):
        assert autopay_retry_due(now=start + timedelta(hours=23)).declined == 0  # not yet
        assert autopay_retry_due(now=start + timedelta(days=1, minutes=1)).declined == 1
        # The step runs every minute: the same retry is never made twice.
        assert autopay_retry_due(now=start + timedelta(days=1, minutes=2)).declined == 0
    assert [t for t, _ in tries(account_a)] == [
        autopay_token(family.pk, PERIOD, 1),
        autopay_token(family.pk, PERIOD, 2),
    ]
    assert "again on" in mail.outbox[-1].body
    # The guardian gives a new card; the last retry (day 3) uses it.
    with activate_account(account_a):
        services.card_save(family=family, payment_method_id=card(sandbox_url), use_for_autopay=True)
        assert autopay_retry_due(now=start + timedelta(days=2)).charged == 0
        assert autopay_retry_due(now=start + timedelta(days=3, minutes=1)).charged == 1
        assert autopay_retry_due(now=start + timedelta(days=4)).charged == 0
    assert [s for _, s in tries(account_a)] == ["failed", "failed", "succeeded"]
    assert len(card_payments(account_a)) == 1
    assert "receipt" in mail.outbox[-1].subject


def test_retries_stop_after_the_last_day(account_a, declining):
    _, first = declining
    start = first.created_at
    with activate_account(account_a):
        autopay_retry_due(now=start + timedelta(days=1, minutes=1))
        autopay_retry_due(now=start + timedelta(days=3, minutes=1))
        assert autopay_retry_due(now=start + timedelta(days=5)).declined == 0
    assert len(tries(account_a)) == 3
    assert "will not try this card again" in mail.outbox[-1].body


def test_no_retry_once_paid_at_the_desk(account_a, declining):
    family, first = declining
    with activate_account(account_a):
        ledger.payment_record(family=family, method="cash", amount_cents=8000)
        report = autopay_retry_due(now=first.created_at + timedelta(days=1, minutes=1))
    assert report.declined == report.charged == 0 and report.skipped == 1
    assert card_payments(account_a) == []


def test_no_retry_without_an_autopay_card(account_a, declining):
    family, first = declining
    with activate_account(account_a):
        services.card_remove(card=family.saved_cards.get())
        report = autopay_retry_due(now=first.created_at + timedelta(days=1, minutes=1))
    assert report == type(report)()
    assert len(tries(account_a)) == 1
