"""The reconciliation page: per day, the gateway next to the ledger; every difference the
reconciler found with what it did; "Reconcile now" and "Mark reviewed"."""

import pytest

from classbook.audit.models import LogEntry
from classbook.core import clock
from classbook.core.tenancy import activate_account
from classbook.ledger.models import LedgerEntry
from classbook.payments import services
from classbook.payments.models import PaymentAttempt, ReconciliationIssue
from classbook.payments.selectors import gateway_for_account, reconciliation_summary
from tests.conftest import office_login
from tests.payments.conftest import card
from tests.payments.page_helpers import family_owing, office_url, reset_sandbox


@pytest.fixture
def fresh(account_a, sandbox_url, gateway):
    reset_sandbox(sandbox_url)  # gateway totals of this account only
    return family_owing(account_a)


@pytest.fixture
def staff(client, account_a, alice):
    office_login(client, account_a, "alice")
    return client


def pay(account, family, sandbox_url, token, cents=8000):
    with activate_account(account):
        return services.payment_take(
            family=family,
            payment_method_id=card(sandbox_url),
            amount_cents=cents,
            purpose="charges",
            request_token=token,
        ).attempt


def missed_payment(account, family, sandbox_url, cents=2500):
    """Charged at the gateway, then the app died before recording it."""
    with activate_account(account):
        attempt = PaymentAttempt.objects.create(
            family=family,
            amount_cents=cents,
            currency="USD",
            purpose="charges",
            payment_method_id=card(sandbox_url),
            status="processing",
        )
        gateway = gateway_for_account()
        intent = gateway.create_intent(
            amount_cents=cents,
            currency="USD",
            payment_method_id=attempt.payment_method_id,
            customer_id=None,
            idempotency_key=str(attempt.uuid),
            metadata={"attempt_id": str(attempt.uuid), "account": account.slug},
        )
        gateway.confirm_intent(intent_id=intent.id)
        return attempt


def today(account):
    with activate_account(account):
        return clock.account_today()


def test_a_day_where_gateway_and_ledger_match(staff, account_a, fresh, sandbox_url):
    attempt = pay(account_a, fresh, sandbox_url, "match")
    with activate_account(account_a):
        services.gateway_refund(payment=attempt.ledger_entry, amount_cents=1000, reason="x")
        summary = reconciliation_summary(start=today(account_a), end=today(account_a))
    [day] = summary.days
    assert (day.gateway_paid_cents, day.ledger_paid_cents) == (8000, 8000)
    assert (day.gateway_refunded_cents, day.ledger_refunded_cents) == (1000, 1000)
    assert day.difference_cents == 0 and not summary.gateway_error
    page = staff.get(office_url(account_a, "reconciliation/")).content.decode()
    assert "matches" in page and "$80.00" in page and "$10.00" in page


def test_a_missed_payment_shows_then_reconcile_now_records_it(staff, account_a, fresh, sandbox_url):
    attempt = missed_payment(account_a, fresh, sandbox_url)
    with activate_account(account_a):
        [day] = reconciliation_summary(start=today(account_a), end=today(account_a)).days
    assert (day.gateway_paid_cents, day.ledger_paid_cents, day.difference_cents) == (2500, 0, 2500)
    assert (
        'class="table-warning"'
        in staff.get(office_url(account_a, "reconciliation/")).content.decode()
    )

    response = staff.post(office_url(account_a, "reconciliation/run/"), follow=True)
    page = response.content.decode()
    assert "1 payment(s)" in page and "recorded" in page
    with activate_account(account_a):
        attempt.refresh_from_db()
        issue = ReconciliationIssue.objects.get(kind="missing_payment")
        assert attempt.status == "succeeded"
        assert LedgerEntry.objects.filter(kind="payment").count() == 1
    assert "Paid at the gateway, missing from the ledger" in page
    assert "Recorded on the ledger by the reconciler." in page
    assert "Garcia" in page and issue.gateway_id in page
    with activate_account(account_a):
        [day] = reconciliation_summary(start=today(account_a), end=today(account_a)).days
    assert day.difference_cents == 0

    # Nothing new the second time.
    again = staff.post(office_url(account_a, "reconciliation/run/"), follow=True)
    assert "the ledger already matched" in again.content.decode()


def test_mark_reviewed(staff, account_a, alice, fresh, sandbox_url):
    missed_payment(account_a, fresh, sandbox_url)
    staff.post(office_url(account_a, "reconciliation/run/"))
    with activate_account(account_a):
        issue = ReconciliationIssue.objects.get(needs_review=True)
    url = office_url(account_a, f"reconciliation/issues/{issue.pk}/review/")
    assert "Mark reviewed" in staff.get(office_url(account_a, "reconciliation/")).content.decode()
    assert staff.post(url).status_code == 302
    with activate_account(account_a):
        issue.refresh_from_db()
        entry = LogEntry.objects.get(action="payments.issue_reviewed")
    assert not issue.needs_review and entry.actor_id == alice.pk
    page = staff.get(office_url(account_a, "reconciliation/")).content.decode()
    assert "Needs review (0)" in page and issue.gateway_id in page  # still listed, handled


def test_the_window_can_be_chosen_and_is_checked(staff, account_a, fresh):
    response = staff.get(
        office_url(account_a, "reconciliation/"), {"start": "2026-03-01", "end": "2026-03-03"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Sun Mar 1" in page and "Tue Mar 3" in page and "Wed Mar 4" not in page
    bad = staff.get(
        office_url(account_a, "reconciliation/"), {"start": "2026-03-05", "end": "2026-03-01"}
    )
    assert bad.status_code == 400 and "cannot be before" in bad.content.decode()
    too_long = staff.get(
        office_url(account_a, "reconciliation/"), {"start": "2026-01-01", "end": "2026-12-01"}
    )
    assert too_long.status_code == 400 and "at most 92 days" in too_long.content.decode()


def test_an_unreachable_gateway_shows_the_ledger_side(staff, account_a, fresh):
    from classbook.payments.models import GatewaySettings

    with activate_account(account_a):
        GatewaySettings.objects.update(api_base="http://127.0.0.1:9")
    page = staff.get(office_url(account_a, "reconciliation/")).content.decode()
    assert "could not be reached" in page and "Only the ledger" in page


def test_without_gateway_settings(staff, account_a):
    page = staff.get(office_url(account_a, "reconciliation/")).content.decode()
    assert "not set up" in page and "Reconcile now" not in page
    response = staff.post(office_url(account_a, "reconciliation/run/"), follow=True)
    assert "not set up" in response.content.decode()
