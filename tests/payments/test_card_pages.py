"""The office card pages against a real localstripe: take a card payment (new, saved,
declined, double-submitted, unconfirmed), cards on file, refunds to the card."""

import json
import re
from datetime import timedelta

import pytest

from classbook.core.tenancy import activate_account
from classbook.ledger import services as ledger
from classbook.ledger.models import LedgerEntry
from classbook.ledger.selectors import family_balance
from classbook.payments import services
from classbook.payments.models import GatewaySettings, PaymentAttempt, SavedCard
from classbook.payments.selectors import gateway_for_account
from tests.conftest import office_login
from tests.payments.conftest import card
from tests.payments.page_helpers import family_owing, ledger_url, office_url

DECLINED = "4000000000000341"  # attaches, then the charge is declined


@pytest.fixture
def garcia(account_a, gateway):
    return family_owing(account_a)


@pytest.fixture
def desk(client, account_a, alice):
    office_login(client, account_a, "alice")
    return client


def take_url(account, family):
    return office_url(account, f"families/{family.pk}/card/")


def token_of(page: str) -> str:
    return re.search(r'name="request_token" value="([^"]+)"', page).group(1)


def pay_form(page: str, **extra) -> dict:
    """What the browser posts: the page's hidden fields, the card's pm_ id, the amount."""
    data = {
        "source": "new",
        "amount": "80.00",
        "location": "",
        "request_token": token_of(page),
        "opened_after": re.search(r'name="opened_after" value="(\d+)"', page).group(1),
    }
    data.update(extra)
    return data


def payments(account):
    with activate_account(account):
        return list(LedgerEntry.objects.filter(kind="payment"))


# --- the page -------------------------------------------------------------------------------


def test_the_page_offers_cards_and_prefills_the_due_amount(desk, account_a, garcia, sandbox_url):
    with activate_account(account_a):
        services.card_save(family=garcia, payment_method_id=card(sandbox_url))
    response = desk.get(take_url(account_a, garcia))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'value="80.00"' in page
    assert "Visa •••• 4242 (12/30)" in page
    assert "A new card, typed in" in page and "Swipe a card" in page
    assert f'src="{sandbox_url}/js.stripe.com/v3/"' in page
    assert 'data-publishable-key="pk_test_classbook"' in page
    # The swipe and security-code inputs are never posted: they have no name.
    assert re.search(r'<input id="swipe-input"[^>]*>', page)
    assert 'name="swipe' not in page and 'name="cvc' not in page and 'name="card_number' not in page
    # A fresh one-time token for every rendering.
    assert token_of(page) != token_of(desk.get(take_url(account_a, garcia)).content.decode())


def test_the_ledger_page_has_the_button_and_cards_on_file(desk, account_a, garcia, sandbox_url):
    with activate_account(account_a):
        saved = services.card_save(family=garcia, payment_method_id=card(sandbox_url))
    page = desk.get(ledger_url(account_a, garcia)).content.decode()
    assert "Take card payment" in page and take_url(account_a, garcia) in page
    assert "Cards on file" in page and str(saved) in page
    assert f"cards/{saved.pk}/remove/" in page and "Use for autopay" in page


def test_setup_gives_the_browser_a_client_secret(desk, account_a, garcia):
    response = desk.post(office_url(account_a, f"families/{garcia.pk}/card/setup/"))
    data = json.loads(response.content)
    assert response.status_code == 200
    assert re.match(r"^seti_\w+_secret_\w+$", data["client_secret"])


# --- paying -----------------------------------------------------------------------------


def test_a_new_card_pays_the_tuition_and_shows_the_receipt(desk, account_a, garcia, sandbox_url):
    page = desk.get(take_url(account_a, garcia)).content.decode()
    response = desk.post(
        take_url(account_a, garcia), pay_form(page, payment_method_id=card(sandbox_url))
    )
    [payment] = payments(account_a)
    assert response.status_code == 302
    assert response["Location"] == ledger_url(account_a, garcia, f"entries/{payment.pk}/receipt/")
    assert (payment.subtype, payment.amount_cents) == ("card", 8000)
    assert payment.reference.startswith("ch_")
    with activate_account(account_a):
        assert family_balance(garcia, today=payment.entry_date).due_now_cents == 0
        attempt = PaymentAttempt.objects.get()
        assert attempt.card_label == "Visa •••• 4242"
        assert attempt.request_token.startswith(f"office:{garcia.pk}:")
        assert not SavedCard.objects.exists()  # not kept unless asked
    receipt = desk.get(response["Location"]).content.decode()
    assert f"Card (#{payment.reference})" in receipt and "$80.00" in receipt


def test_a_new_card_can_be_kept_on_file_for_autopay(desk, account_a, garcia, sandbox_url):
    page = desk.get(take_url(account_a, garcia)).content.decode()
    data = pay_form(page, payment_method_id=card(sandbox_url), save_card="on", use_for_autopay="on")
    assert desk.post(take_url(account_a, garcia), data).status_code == 302
    with activate_account(account_a):
        saved = SavedCard.objects.get()
    assert (saved.family_id, saved.last4, saved.use_for_autopay) == (garcia.pk, "4242", True)


def test_a_saved_card_pays_part_applied_to_a_chosen_charge(desk, account_a, garcia, sandbox_url):
    with activate_account(account_a):
        saved = services.card_save(family=garcia, payment_method_id=card(sandbox_url))
        charge = LedgerEntry.objects.get(kind="charge")
    page = desk.get(take_url(account_a, garcia)).content.decode()
    data = pay_form(page, source=f"card:{saved.pk}", amount="30", **{f"apply_{charge.pk}": "30"})
    assert desk.post(take_url(account_a, garcia), data).status_code == 302
    [payment] = payments(account_a)
    assert payment.amount_cents == 3000 and "4242" in payment.description
    with activate_account(account_a):
        assert family_balance(garcia, today=payment.entry_date).due_now_cents == 5000


def test_a_decline_shows_the_reason_and_records_nothing(desk, account_a, garcia, sandbox_url):
    page = desk.get(take_url(account_a, garcia)).content.decode()
    first_token = token_of(page)
    response = desk.post(
        take_url(account_a, garcia), pay_form(page, payment_method_id=card(sandbox_url, DECLINED))
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "The card processor declined the payment: Your card was declined." in page
    assert "Nothing was charged" in page
    assert payments(account_a) == []
    with activate_account(account_a):
        assert PaymentAttempt.objects.get().status == "failed"
    # Trying again is a new attempt: the form carries a new token and no card id.
    assert token_of(page) != first_token
    assert 'name="payment_method_id" value="pm_' not in page
    retry = pay_form(page, payment_method_id=card(sandbox_url))
    assert desk.post(take_url(account_a, garcia), retry).status_code == 302
    assert len(payments(account_a)) == 1


def test_a_double_submit_charges_once(desk, account_a, garcia, sandbox_url):
    page = desk.get(take_url(account_a, garcia)).content.decode()
    data = pay_form(page, payment_method_id=card(sandbox_url))
    first = desk.post(take_url(account_a, garcia), data)
    second = desk.post(take_url(account_a, garcia), data)  # back button, resubmit
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    [payment] = payments(account_a)
    with activate_account(account_a):
        attempt = PaymentAttempt.objects.get()
        intents = [
            i
            for i in gateway_for_account().list_intents(
                since=attempt.created_at - timedelta(minutes=1)
            )
            if i.metadata.get("attempt_id") == str(attempt.uuid)
        ]
    assert len(intents) == 1 and attempt.ledger_entry_id == payment.pk


def test_a_second_tab_is_told_before_charging_again(desk, account_a, garcia, sandbox_url):
    one = desk.get(take_url(account_a, garcia)).content.decode()
    two = desk.get(take_url(account_a, garcia)).content.decode()  # another tab, same family
    first = pay_form(one, payment_method_id=card(sandbox_url))
    assert desk.post(take_url(account_a, garcia), first).status_code == 302
    second = pay_form(two, payment_method_id=card(sandbox_url))
    response = desk.post(take_url(account_a, garcia), second)
    page = response.content.decode()
    assert response.status_code == 400
    assert "A card payment was taken for this family after this page was opened" in page
    assert "$80.00 (Visa •••• 4242, paid)" in page and 'name="charge_again"' in page
    assert len(payments(account_a)) == 1
    # The first tab's resubmit is still the same payment, not a conflict.
    assert desk.post(take_url(account_a, garcia), first).status_code == 302
    assert len(payments(account_a)) == 1
    # A deliberate second payment needs the box ticked.
    second["charge_again"] = "on"
    assert desk.post(take_url(account_a, garcia), second).status_code == 302
    assert len(payments(account_a)) == 2


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"payment_method_id": ""}, "did not reach the card processor"),
        ({"payment_method_id": "4242424242424242"}, "did not reach the card processor"),
        ({"amount": "0"}, "more than zero"),
        ({"amount": "-5"}, "more than zero"),
        ({"amount": "abc"}, "such as 45"),
        ({"request_token": ""}, "required"),
        ({"source": "card:999999"}, "Select a valid choice"),
    ],
)
def test_bad_input_is_explained_next_to_the_field(
    desk, account_a, garcia, sandbox_url, changes, message
):
    page = desk.get(take_url(account_a, garcia)).content.decode()
    data = pay_form(page, payment_method_id=card(sandbox_url))
    data.update(changes)
    response = desk.post(take_url(account_a, garcia), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    with activate_account(account_a):
        assert not PaymentAttempt.objects.exists()


def test_applying_more_than_the_payment_is_refused(desk, account_a, garcia, sandbox_url):
    with activate_account(account_a):
        charge = LedgerEntry.objects.get(kind="charge")
    page = desk.get(take_url(account_a, garcia)).content.decode()
    data = pay_form(
        page, payment_method_id=card(sandbox_url), amount="20", **{f"apply_{charge.pk}": "30"}
    )
    response = desk.post(take_url(account_a, garcia), data)
    assert response.status_code == 400
    assert "add up to more than the payment" in response.content.decode()


def test_an_unreachable_gateway_leaves_a_pending_attempt(desk, account_a, garcia, sandbox_url):
    page = desk.get(take_url(account_a, garcia)).content.decode()
    method = card(sandbox_url)
    with activate_account(account_a):
        GatewaySettings.objects.update(api_base="http://127.0.0.1:9")  # nothing listens
    response = desk.post(take_url(account_a, garcia), pay_form(page, payment_method_id=method))
    with activate_account(account_a):
        attempt = PaymentAttempt.objects.get()
    assert attempt.status == "unknown"
    assert response["Location"] == office_url(
        account_a, f"families/{garcia.pk}/attempts/{attempt.pk}/"
    )
    detail = desk.get(response["Location"]).content.decode()
    assert "could not be confirmed yet" in detail and "Check again now" in detail
    ledger_page = desk.get(ledger_url(account_a, garcia)).content.decode()
    assert "not confirmed yet" in ledger_page and "pending" in ledger_page
    assert payments(account_a) == []
    # The gateway never saw it; checking again (or the reconciler) settles it later.
    with activate_account(account_a):
        GatewaySettings.objects.update(api_base=sandbox_url)
    check = office_url(account_a, f"families/{garcia.pk}/attempts/{attempt.pk}/check/")
    assert desk.post(check).status_code == 302


# --- without gateway settings -------------------------------------------------------------


def test_without_gateway_settings_card_options_are_hidden(desk, account_a):
    family = family_owing(account_a)
    ledger_page = desk.get(ledger_url(account_a, family)).content.decode()
    assert "Take card payment" not in ledger_page
    assert "Card payments not set up" in ledger_page
    assert "no card can be kept on file" in ledger_page and "Add card" not in ledger_page
    for tail in (f"families/{family.pk}/card/", f"families/{family.pk}/cards/new/"):
        response = desk.get(office_url(account_a, tail))
        page = response.content.decode()
        assert response.status_code == 200
        assert "not set up" in page and "js.stripe.com" not in page
    setup = desk.post(office_url(account_a, f"families/{family.pk}/card/setup/"))
    assert "not set up" in json.loads(setup.content)["error"]


# --- cards on file ------------------------------------------------------------------------


def test_add_a_card_without_paying(desk, account_a, garcia, sandbox_url):
    url = office_url(account_a, f"families/{garcia.pk}/cards/new/")
    assert "Save card" in desk.get(url).content.decode()
    response = desk.post(url, {"payment_method_id": card(sandbox_url), "use_for_autopay": "on"})
    assert response.status_code == 302
    with activate_account(account_a):
        saved = SavedCard.objects.get()
    assert saved.use_for_autopay and payments(account_a) == []
    refused = desk.post(url, {"payment_method_id": "nonsense"})
    assert refused.status_code == 400 and "did not reach" in refused.content.decode()


def test_remove_a_card_after_confirming(desk, account_a, garcia, sandbox_url):
    with activate_account(account_a):
        saved = services.card_save(
            family=garcia, payment_method_id=card(sandbox_url), use_for_autopay=True
        )
    url = office_url(account_a, f"families/{garcia.pk}/cards/{saved.pk}/remove/")
    confirm = desk.get(url).content.decode()
    assert "autopay will stop" in confirm
    assert desk.post(url).status_code == 302
    with activate_account(account_a):
        saved.refresh_from_db()
    assert saved.removed_at is not None and not saved.use_for_autopay
    assert desk.get(url).status_code == 404  # gone from the list


def test_choose_the_autopay_card(desk, account_a, garcia, sandbox_url):
    with activate_account(account_a):
        one = services.card_save(
            family=garcia, payment_method_id=card(sandbox_url), use_for_autopay=True
        )
        two = services.card_save(family=garcia, payment_method_id=card(sandbox_url))
    url = office_url(account_a, f"families/{garcia.pk}/cards/{two.pk}/autopay/")
    assert desk.post(url, {"use_for_autopay": "1"}).status_code == 302
    with activate_account(account_a):
        assert set(SavedCard.objects.filter(use_for_autopay=True)) == {two}
        assert not SavedCard.objects.get(pk=one.pk).use_for_autopay
    desk.post(url, {"use_for_autopay": "0"})
    with activate_account(account_a):
        assert not SavedCard.objects.filter(use_for_autopay=True).exists()


# --- refunds --------------------------------------------------------------------------------


@pytest.fixture
def card_payment(account_a, garcia, sandbox_url):
    with activate_account(account_a):
        result = services.payment_take(
            family=garcia,
            payment_method_id=card(sandbox_url),
            amount_cents=8000,
            purpose="charges",
            request_token="refund-test",
            card_label="Visa •••• 4242",
        )
        return result.attempt.ledger_entry


def refund_url(account, family, payment):
    return office_url(account, f"families/{family.pk}/entries/{payment.pk}/refund/")


def test_the_ledger_links_card_payments_to_the_card_refund(desk, account_a, garcia, card_payment):
    with activate_account(account_a):
        cash = ledger.payment_record(family=garcia, method="cash", amount_cents=500)
    page = desk.get(ledger_url(account_a, garcia)).content.decode()
    assert refund_url(account_a, garcia, card_payment) in page
    assert ledger_url(account_a, garcia, f"entries/{cash.pk}/refund/") in page
    # The card refund page sends a cash payment to the ledger's own refund page.
    response = desk.get(refund_url(account_a, garcia, cash))
    assert response["Location"] == ledger_url(account_a, garcia, f"entries/{cash.pk}/refund/")


def test_partial_refund_to_the_card_then_no_more_than_remains(
    desk, account_a, garcia, card_payment
):
    url = refund_url(account_a, garcia, card_payment)
    page = desk.get(url).content.decode()
    assert "at most <strong>$80.00</strong>" in page
    assert desk.post(url, {"amount": "30", "reason": "Class cancelled"}).status_code == 302
    with activate_account(account_a):
        refund = LedgerEntry.objects.get(kind="refund")
        intent = gateway_for_account().retrieve_intent(
            intent_id=PaymentAttempt.objects.get().intent_id
        )
    assert refund.amount_cents == 3000 and refund.reference.startswith("re_")
    assert intent.amount_refunded_cents == 3000
    too_much = desk.post(url, {"amount": "50.01", "reason": "too much"})
    assert too_much.status_code == 400
    assert "At most 50.00 of this payment can still be refunded." in too_much.content.decode()
    assert desk.post(url, {"amount": "50", "reason": "rest"}).status_code == 302
    assert "Nothing of this payment is left to refund." in desk.get(url).content.decode()
    with activate_account(account_a):
        assert LedgerEntry.objects.filter(kind="refund").count() == 2


def test_refund_bad_input(desk, account_a, garcia, card_payment):
    url = refund_url(account_a, garcia, card_payment)
    for amount, message in (("0", "more than zero"), ("x", "such as 45")):
        response = desk.post(url, {"amount": amount, "reason": "x"})
        assert response.status_code == 400 and message in response.content.decode()
    with activate_account(account_a):
        assert not LedgerEntry.objects.filter(kind="refund").exists()
