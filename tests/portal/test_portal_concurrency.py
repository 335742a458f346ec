"""PostgreSQL, real threads: the same checkout from several tabs at once, and a payment
settled by the parent's request and a webhook at the same instant — one enrollment, one
set of charges, one payment."""

import threading

import pytest
from django.db import connections

from classbook.core.tenancy import activate_account
from classbook.enrollment import services as enrollment
from classbook.enrollment.models import Enrollment
from classbook.enrollment.services import HoldRequest
from classbook.families.models import Student
from classbook.ledger.models import LedgerEntry
from classbook.payments import services as payments
from classbook.payments.gateway import Intent
from classbook.payments.models import PaymentAttempt
from classbook.portal import checkout as completing
from classbook.portal import services as svc
from classbook.portal.models import Checkout
from tests.conftest import is_postgres
from tests.portal.helpers import FIRST_TUESDAY, MONTHLY_CENTS, make_class, make_family, monthly_rule

pytestmark = pytest.mark.django_db(transaction=True)
TABS = 8


@pytest.fixture
def postgres_only():
    if not is_postgres():
        pytest.skip("real concurrent transactions need PostgreSQL")


def together(account, attempt, count=TABS) -> tuple[list, list, list]:
    done, busy, errors = [], [], []
    gate = threading.Barrier(count)

    def run(i):
        try:
            with activate_account(account):
                gate.wait()
                done.append(attempt(i))
        except svc.CheckoutBusy as exc:
            busy.append(exc)
        except Exception as exc:  # asserted empty below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return done, busy, errors


@pytest.fixture
def cart(account_a):
    with activate_account(account_a):
        monthly_rule()
        family = make_family()
        enrollment.hold_seats(
            cart="race",
            requests=[
                HoldRequest(
                    klass=make_class(),
                    start_date=FIRST_TUESDAY,
                    student=Student.objects.get(family=family),
                )
            ],
        )
    return family


def test_the_same_checkout_from_eight_tabs_enrolls_once(postgres_only, account_a, cart):
    def checkout(i):
        svc.checkout_begin(cart="race", family=cart, amount_cents=MONTHLY_CENTS, lines=[])
        return completing.cart_complete(cart="race", family=cart, how="pay_later")

    done, busy, errors = together(account_a, checkout)
    assert (len(done), len(busy), errors) == (1, TABS - 1, [])
    with activate_account(account_a):
        assert Enrollment.objects.filter(student__family=cart).count() == 1
        assert LedgerEntry.objects.filter(family=cart, kind="charge").count() == 1
        assert Checkout.objects.get(cart="race").status == "pay_later"


def test_request_and_webhook_settling_at_once_enroll_once(postgres_only, account_a, cart):
    with activate_account(account_a):
        svc.checkout_begin(cart="race", family=cart, amount_cents=MONTHLY_CENTS, lines=[])
        attempt = PaymentAttempt.objects.create(
            family=cart,
            amount_cents=MONTHLY_CENTS,
            currency="USD",
            purpose="cart",
            cart="race",
            payment_method_id="pm_x",
            status="processing",
            intent_id="pi_race",
        )
    intent = Intent(
        id="pi_race", status="succeeded", amount_cents=MONTHLY_CENTS, currency="USD", charge_id="ch"
    )
    done, _, errors = together(
        account_a, lambda i: payments.attempt_settle(attempt=attempt, intent=intent), count=4
    )
    assert (len(done), errors) == (4, [])
    with activate_account(account_a):
        assert Enrollment.objects.filter(student__family=cart).count() == 1
        assert LedgerEntry.objects.filter(family=cart, kind="payment").count() == 1
        assert LedgerEntry.objects.filter(family=cart, kind="charge").count() == 1
        assert Checkout.objects.get(cart="race").status == "paid"
