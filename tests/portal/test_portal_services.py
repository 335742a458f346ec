"""Portal services and the checkout: settings, seat assignment, the checkout claim, the
settlement hook (enroll + post once, whoever settles), seats lost, the same numbers as the
office billing."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from classbook.billing import services as billing
from classbook.billing.tasks import post_families
from classbook.core import clock
from classbook.core.errors import ValidationFailed
from classbook.enrollment import services as enrollment
from classbook.enrollment.models import CampBooking, Enrollment, Hold
from classbook.enrollment.services import HoldRequest
from classbook.families.models import Guardian, Student
from classbook.ledger.models import LedgerEntry
from classbook.ledger.selectors import family_balance
from classbook.payments import services as payments
from classbook.payments.gateway import Intent
from classbook.payments.models import PaymentAttempt
from classbook.portal import checkout as completing
from classbook.portal import services as svc
from classbook.portal.models import Checkout
from classbook.portal.pricing import cart_quote
from classbook.portal.selectors import cart_holds
from tests.payments.conftest import card
from tests.portal.helpers import (
    FIRST_TUESDAY,
    MONTHLY_CENTS,
    camp_days,
    make_camp,
    make_class,
    make_family,
    monthly_rule,
)

CHICAGO = ZoneInfo("America/Chicago")
pytestmark = pytest.mark.usefixtures("in_a")


def _hold(cart, klass, student=None, start=FIRST_TUESDAY):
    return enrollment.hold_seats(
        cart=cart, requests=[HoldRequest(klass=klass, start_date=start, student=student)]
    )[0]


def _student(family, first="Ana"):
    return Student.objects.get(family=family, first_name=first)


# --- settings ---------------------------------------------------------------------------------


def test_settings_refuse_unreadable_colours_and_non_https_logos():
    with pytest.raises(ValidationFailed) as refused:
        svc.portal_settings_update(
            mode="active",
            allow_pay_later=False,
            primary_color="#ffee00",  # white text on yellow
            accent_color="#333333",  # dark text on dark grey
            logo_url="http://example.com/logo.png",
        )
    assert set(refused.value.errors) == {"primary_color", "accent_color", "logo_url"}
    assert "contrast" in refused.value.errors["primary_color"][0]


def test_settings_keep_an_uploaded_logo_but_never_svg():
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    saved = svc.portal_settings_update(mode="setup", allow_pay_later=True, logo=svc.LogoUpload(png))
    assert saved.logo_content_type == "image/png" and saved.mode == "setup"
    with pytest.raises(ValidationFailed) as refused:
        svc.portal_settings_update(
            mode="setup", allow_pay_later=True, logo=svc.LogoUpload(b"<svg onload=alert(1)>")
        )
    assert "logo" in refused.value.errors
    removed = svc.portal_settings_update(mode="active", allow_pay_later=False, remove_logo=True)
    assert removed.logo_content_type == "" and not removed.has_logo


# --- assigning held seats -----------------------------------------------------------------------


def test_assign_rechecks_eligibility_for_the_student():
    family = make_family(
        children=[("Ana", date(2019, 3, 4), "female"), ("Baby", date(2024, 1, 1), "male")]
    )
    hold = _hold("cart-1", make_class())
    with pytest.raises(ValidationFailed) as refused:
        svc.hold_assign_student(
            cart="cart-1", hold=hold, family=family, student=_student(family, "Baby")
        )
    assert "Too young" in refused.value.errors["student"][0]
    svc.hold_assign_student(cart="cart-1", hold=hold, family=family, student=_student(family))
    assert Hold.objects.get(pk=hold.pk).student.first_name == "Ana"


def test_assign_refuses_another_familys_student_an_expired_hold_and_another_cart():
    family, other = make_family(), make_family("Lee", login=False)
    hold = _hold("cart-2", make_class())
    with pytest.raises(ValidationFailed, match="family's students"):
        svc.hold_assign_student(cart="cart-2", hold=hold, family=family, student=_student(other))
    with pytest.raises(ValidationFailed, match="no longer in your cart"):
        svc.hold_assign_student(
            cart="other-cart", hold=hold, family=family, student=_student(family)
        )
    with (
        clock.freeze(hold.expires_at + timedelta(seconds=1)),
        pytest.raises(ValidationFailed, match="ran out"),
    ):
        svc.hold_assign_student(cart="cart-2", hold=hold, family=family, student=_student(family))


def test_assign_refuses_a_student_already_enrolled():
    family = make_family()
    klass = make_class()
    enrollment.enroll(student=_student(family), klass=klass, start_date=FIRST_TUESDAY)
    hold = _hold("cart-3", klass)
    with pytest.raises(ValidationFailed, match="already enrolled"):
        svc.hold_assign_student(cart="cart-3", hold=hold, family=family, student=_student(family))


# --- the checkout claim -------------------------------------------------------------------------


def test_checkout_is_claimed_once_until_reopened_and_never_after_it_is_done():
    family = make_family()
    first = svc.checkout_begin(cart="cart-c", family=family, amount_cents=100, lines=[])
    with pytest.raises(svc.CheckoutBusy):
        svc.checkout_begin(cart="cart-c", family=family, amount_cents=100, lines=[])
    svc.checkout_reopen(checkout=first, reason="Declined")
    again = svc.checkout_begin(cart="cart-c", family=family, amount_cents=100, lines=[])
    assert again.pk == first.pk and again.status == "paying"
    svc.checkout_record(cart="cart-c", family=family, status="pay_later", items=[])
    with pytest.raises(svc.CheckoutBusy, match="already checked out"):
        svc.checkout_begin(cart="cart-c", family=family, amount_cents=100, lines=[])
    with pytest.raises(ValidationFailed, match="another family"):
        svc.checkout_begin(
            cart="cart-c", family=make_family("Lee", login=False), amount_cents=1, lines=[]
        )


# --- charges: the office's numbers --------------------------------------------------------------


def test_first_month_is_prorated_like_the_billing_run():
    monthly_rule()
    family = make_family()
    klass = make_class()
    # Jan 13: the next Tuesday is Jan 19, so 2 of January's 4 meetings are left.
    with clock.freeze(datetime(2027, 1, 13, 12, tzinfo=CHICAGO)):
        hold = _hold("cart-p", klass, _student(family), start=date(2027, 1, 19))
        quote = cart_quote(holds=cart_holds("cart-p"), family=family)
        assert [line.amount_cents for line in quote.lines] == [MONTHLY_CENTS // 2]
        assert "2/4 meetings" in quote.lines[0].explanation
        completing.cart_complete(cart="cart-p", family=family, how="pay_later")
    created = Enrollment.objects.get(student__family=family)
    charge = LedgerEntry.objects.get(family=family, kind="charge")
    assert charge.idempotency_key == f"tuition:{created.pk}:2027-01"
    assert charge.amount_cents == MONTHLY_CENTS // 2
    assert not Hold.objects.filter(pk=hold.pk).exists()


def test_a_billing_run_after_the_checkout_posts_nothing_twice():
    monthly_rule()
    billing.billing_settings_update(registration_fee_cents=2500, multiclass_second=10)
    family = make_family()
    first, second = make_class(), make_class("Level 1 Flips", weekdays=(3,))
    ana = _student(family)
    enrollment.enroll(student=ana, klass=first, start_date=FIRST_TUESDAY)
    _hold("cart-b", second, ana, start=date(2027, 1, 7))
    quote = cart_quote(holds=cart_holds("cart-b"), family=family)
    kinds = sorted((line.subtype, line.amount_cents) for line in quote.lines)
    # the new class's tuition, its 2nd-class discount, and the year's registration fee
    assert kinds == [("discount", 800), ("registration_fee", 2500), ("tuition", MONTHLY_CENTS)]
    completing.cart_complete(cart="cart-b", family=family, how="pay_later")
    posted_by_checkout = LedgerEntry.objects.filter(family=family).count()
    assert posted_by_checkout == 3
    entries, _ = post_families(date(2027, 1, 1), [family.pk])
    # The run adds only the existing enrollment's January tuition: same keys, no twice.
    assert entries == 1
    keys = list(LedgerEntry.objects.filter(family=family).values_list("idempotency_key", flat=True))
    assert len(keys) == len(set(keys)) == 4
    # a second checkout the same membership year charges no second registration fee
    _hold("cart-b2", make_class("Level 1 Beams", weekdays=(4,)), ana, start=date(2027, 1, 8))
    again = cart_quote(holds=cart_holds("cart-b2"), family=family)
    assert "registration_fee" not in {line.subtype for line in again.lines}


def test_camps_are_charged_at_their_option_price():
    family = make_family()
    camp = make_camp(signup_mode="per_day")
    days = camp_days(camp)[:2]
    option = camp.options.get(kind="full")
    enrollment.hold_seats(
        cart="cart-camp",
        requests=[
            HoldRequest(camp_day=d, camp_option=option, student=_student(family)) for d in days
        ],
    )
    quote = cart_quote(holds=cart_holds("cart-camp"), family=family)
    assert quote.total_cents == 2 * 6500
    completing.cart_complete(cart="cart-camp", family=family, how="pay_later")
    bookings = CampBooking.objects.filter(student__family=family)
    keys = set(LedgerEntry.objects.filter(family=family).values_list("idempotency_key", flat=True))
    assert keys == {f"campday:{b.pk}" for b in bookings}


def test_unapplied_credit_lowers_what_is_due_now():
    from classbook.ledger import services as ledger

    monthly_rule()
    family = make_family()
    ledger.payment_record(family=family, method="cash", amount_cents=3000)
    _hold("cart-credit", make_class(), _student(family))
    quote = cart_quote(holds=cart_holds("cart-credit"), family=family)
    assert (quote.total_cents, quote.credit_cents, quote.due_cents) == (8000, 3000, 5000)


# --- paying: the settlement hook ------------------------------------------------------------------


@pytest.fixture
def sandbox(gateway, sandbox_url):
    return sandbox_url


def _pay(family, cart, sandbox, *, number="4242424242424242", token="t1"):
    svc.checkout_begin(cart=cart, family=family, amount_cents=MONTHLY_CENTS, lines=[])
    return payments.payment_take(
        family=family,
        payment_method_id=card(sandbox, number),
        amount_cents=MONTHLY_CENTS,
        purpose="cart",
        request_token=f"portal:{cart}:{token}",
        cart=cart,
    )


def test_a_card_payment_enrolls_and_posts_in_the_same_settlement(sandbox, mailoutbox):
    monthly_rule()
    family = make_family()
    _hold("cart-pay", make_class(), _student(family))
    result = _pay(family, "cart-pay", sandbox)
    assert result.succeeded
    checkout = Checkout.objects.get(cart="cart-pay")
    assert checkout.status == "paid" and checkout.attempt_id == result.attempt.pk
    assert Enrollment.objects.filter(student__family=family, source="portal").count() == 1
    figures = family_balance(family, today=clock.account_today())
    assert figures.balance_cents == 0 and figures.unapplied_credit_cents == 0
    assert not Hold.objects.filter(cart="cart-pay").exists()


def test_a_double_submit_pays_and_enrolls_once(sandbox):
    monthly_rule()
    family = make_family()
    _hold("cart-dbl", make_class(), _student(family))
    first = _pay(family, "cart-dbl", sandbox)
    # the same form posted again (same token): the same attempt, nothing new
    again = payments.payment_take(
        family=family,
        payment_method_id="pm_ignored",
        amount_cents=MONTHLY_CENTS,
        purpose="cart",
        request_token="portal:cart-dbl:t1",
        cart="cart-dbl",
    )
    assert again.attempt.pk == first.attempt.pk
    assert PaymentAttempt.objects.filter(cart="cart-dbl").count() == 1
    assert Enrollment.objects.filter(student__family=family).count() == 1
    assert LedgerEntry.objects.filter(family=family, kind="payment").count() == 1


def test_a_declined_card_keeps_the_holds_for_a_retry(sandbox):
    monthly_rule()
    family = make_family()
    hold = _hold("cart-dec", make_class(), _student(family))
    result = _pay(family, "cart-dec", sandbox, number="4000000000000341")
    assert result.failed and "declined" in result.message.lower()
    assert Hold.objects.filter(pk=hold.pk).exists()
    assert not Enrollment.objects.filter(student__family=family).exists()
    assert not LedgerEntry.objects.filter(family=family).exists()


def _attempt(family, cart):
    return PaymentAttempt.objects.create(
        family=family,
        amount_cents=MONTHLY_CENTS,
        currency="USD",
        purpose="cart",
        cart=cart,
        payment_method_id="pm_x",
        status="unknown",
        intent_id=f"pi_{cart}",
    )


def _intent(cart):
    return Intent(
        id=f"pi_{cart}",
        status="succeeded",
        amount_cents=MONTHLY_CENTS,
        currency="USD",
        charge_id=f"ch_{cart}",
    )


def test_a_payment_settled_later_by_a_webhook_enrolls_exactly_once():
    monthly_rule()
    family = make_family()
    _hold("cart-late", make_class(), _student(family))
    svc.checkout_begin(cart="cart-late", family=family, amount_cents=MONTHLY_CENTS, lines=[])
    attempt = _attempt(family, "cart-late")
    payments.attempt_settle(attempt=attempt, intent=_intent("cart-late"))
    payments.attempt_settle(attempt=attempt, intent=_intent("cart-late"), by_reconciler=True)
    assert Enrollment.objects.filter(student__family=family).count() == 1
    assert LedgerEntry.objects.filter(family=family, kind="payment").count() == 1
    assert LedgerEntry.objects.filter(family=family, kind="charge").count() == 1
    assert Checkout.objects.get(cart="cart-late").status == "paid"


def test_seats_lost_before_settlement_keep_the_money_as_credit_and_flag_it(
    mailoutbox, django_capture_on_commit_callbacks
):
    monthly_rule()
    family = make_family()
    klass = make_class(capacity=1)
    hold = _hold("cart-lost", klass, _student(family))
    svc.checkout_begin(cart="cart-lost", family=family, amount_cents=MONTHLY_CENTS, lines=[])
    # The timer runs out; another family takes the only seat; then the payment settles.
    later = hold.expires_at + timedelta(minutes=1)
    with clock.freeze(later):
        other = make_family("Lee", login=False)
        enrollment.enroll(student=_student(other), klass=klass, start_date=FIRST_TUESDAY)
        with django_capture_on_commit_callbacks(execute=True):
            settled = payments.attempt_settle(
                attempt=_attempt(family, "cart-lost"), intent=_intent("cart-lost")
            )
    assert settled.status == "succeeded"
    checkout = Checkout.objects.get(cart="cart-lost")
    assert checkout.status == "seats_lost" and checkout.needs_review
    assert "kept as credit" in checkout.message
    assert not Enrollment.objects.filter(student__family=family).exists()
    figures = family_balance(family, today=clock.account_today())
    assert figures.unapplied_credit_cents == MONTHLY_CENTS
    assert any("a seat was taken" in m.body for m in mailoutbox)
    svc.checkout_review(checkout=checkout)
    assert not Checkout.objects.get(pk=checkout.pk).needs_review


def test_pay_later_that_cannot_enroll_changes_nothing():
    family = make_family()
    klass = make_class(capacity=1)
    hold = _hold("cart-pl", klass, _student(family))
    with clock.freeze(hold.expires_at + timedelta(minutes=1)):
        enrollment.enroll(
            student=_student(make_family("Lee", login=False)), klass=klass, start_date=FIRST_TUESDAY
        )
        with pytest.raises(enrollment.EnrollmentRefused):
            completing.cart_complete(cart="cart-pl", family=family, how="pay_later")
    assert not Checkout.objects.filter(cart="cart-pl", status="pay_later").exists()
    assert not LedgerEntry.objects.filter(family=family).exists()


# --- signing up --------------------------------------------------------------------------------


def test_signup_login_needs_a_fresh_email_and_a_good_password():
    family = make_family(login=False)
    guardian = Guardian.objects.get(family=family)
    with pytest.raises(ValidationFailed) as refused:
        svc.guardian_login_create(guardian=guardian, password="password")
    assert "password1" in refused.value.errors
    user = svc.guardian_login_create(guardian=guardian, password="Backflip-Summer-2026")
    assert user.username == guardian.email and user.check_password("Backflip-Summer-2026")
    twin = make_family("Twin", email=guardian.email, login=False)
    with pytest.raises(ValidationFailed) as refused:
        svc.guardian_login_create(
            guardian=Guardian.objects.get(family=twin), password="Backflip-Summer-2026"
        )
    assert "already has a parent portal login" in refused.value.errors["email"][0]
