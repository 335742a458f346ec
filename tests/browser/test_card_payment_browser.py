"""Card payments in a real browser: a new card typed into the gateway's own field
(localstripe's Stripe.js stand-in), a USB-swiper swipe, and a decline — against a real
localstripe, with Classbook served by the live server. The card number never travels to
Classbook: every request to our server is checked."""

import pytest

from classbook.core.tenancy import activate_account
from classbook.ledger.models import LedgerEntry
from classbook.payments.models import SavedCard
from tests.conftest import PASSWORD
from tests.payments.page_helpers import family_owing

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NUMBER = "4242424242424242"
SWIPE = "%B4242424242424242^DOE/JANE^30121010000000000000?;4242424242424242=30121010000000000000?"


@pytest.fixture
def desk(page, live_server, account_a, alice, gateway):
    """Alice logged in; every body posted to Classbook is kept for inspection."""
    posted: list[str] = []
    page.on(
        "request",
        lambda request: (
            posted.append(request.post_data or "")
            if request.url.startswith(live_server.url) and request.method == "POST"
            else None
        ),
    )
    page.goto(f"{live_server.url}/{account_a.slug}/office/")
    page.get_by_label("Username or email").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Good").wait_for()
    page.posted = posted
    return page


def open_card_payment(page, live_server, account, family):
    page.goto(f"{live_server.url}/{account.slug}/office/ledger/families/{family.pk}/")
    page.get_by_role("link", name="Take card payment").click()
    page.get_by_role("heading", name="Take a card payment").wait_for()


def type_card(page, number, month="12", year="30", cvc="123", postal="78701"):
    field = page.locator("#card-element")
    field.locator("input[placeholder=number]").fill(number)
    field.locator("input[placeholder=exp_month]").fill(month)
    field.locator("input[placeholder=exp_year]").fill(year)
    field.locator("input[placeholder=cvc]").fill(cvc)
    field.locator("input[placeholder=postal_code]").fill(postal)


def payments(account):
    with activate_account(account):
        return list(LedgerEntry.objects.filter(kind="payment"))


def test_a_new_card_typed_into_the_gateway_field(desk, live_server, account_a):
    family = family_owing(account_a)
    open_card_payment(desk, live_server, account_a, family)
    assert desk.get_by_label("Amount (USD)").input_value() == "80.00"
    desk.get_by_label("A new card, typed in").check()
    type_card(desk, NUMBER)
    desk.get_by_label("Keep this card on file").check()
    desk.get_by_role("button", name="Charge the card").click()
    desk.get_by_text("Card payment of $80.00 received").wait_for()
    desk.get_by_role("heading", name="receipt #").wait_for()
    assert "/receipt/" in desk.url
    [payment] = payments(account_a)
    assert payment.subtype == "card" and payment.reference in desk.content()
    with activate_account(account_a):
        assert SavedCard.objects.get().last4 == "4242"
    assert not any(NUMBER in body or "card[number]" in body for body in desk.posted)
    assert any("payment_method_id=pm_" in body for body in desk.posted)


def test_a_swipe_with_the_typed_security_code(desk, live_server, account_a):
    family = family_owing(account_a)
    open_card_payment(desk, live_server, account_a, family)
    desk.get_by_label("Swipe a card").check()
    swipe = desk.get_by_label("Swipe card")
    swipe.click()
    desk.keyboard.type(SWIPE)  # a keyboard-emulation reader types the tracks ...
    desk.keyboard.press("Enter")  # ... and Enter, which must not submit the form
    desk.get_by_text("Read: card ending 4242, expires 12/30, Jane Doe.").wait_for()
    assert swipe.input_value() == ""  # the track data is not kept in the page's fields
    assert payments(account_a) == []
    desk.get_by_label("Security code (CVC)").fill("123")
    desk.get_by_role("button", name="Charge the card").click()
    desk.get_by_text("Card payment of $80.00 received").wait_for()
    assert len(payments(account_a)) == 1
    assert not any("4242424242424242" in body or "DOE" in body for body in desk.posted)


def test_a_declined_card_shows_the_reason(desk, live_server, account_a):
    family = family_owing(account_a)
    open_card_payment(desk, live_server, account_a, family)
    desk.get_by_label("A new card, typed in").check()
    type_card(desk, "4000000000000341")  # accepted on file, declined when charged
    desk.get_by_role("button", name="Charge the card").click()
    desk.get_by_text("The card processor declined the payment: Your card was declined.").wait_for()
    assert payments(account_a) == []
    # Another card on the same page, now a new attempt.
    desk.get_by_label("A new card, typed in").check()
    type_card(desk, NUMBER)
    desk.get_by_role("button", name="Charge the card").click()
    desk.get_by_text("Card payment of $80.00 received").wait_for()
    assert len(payments(account_a)) == 1


def test_a_card_refused_by_the_gateway_before_charging(desk, live_server, account_a):
    family = family_owing(account_a)
    open_card_payment(desk, live_server, account_a, family)
    desk.get_by_label("A new card, typed in").check()
    type_card(desk, "4000000000000002")  # refused when the card is set up
    desk.get_by_role("button", name="Charge the card").click()
    desk.get_by_text("The card processor refused the card: Your card was declined.").wait_for()
    assert desk.get_by_role("button", name="Charge the card").is_enabled()
    assert payments(account_a) == []
