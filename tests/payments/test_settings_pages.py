"""The gateway settings page: keys saved encrypted and never shown back."""

import pytest

from classbook.audit.models import LogEntry
from classbook.core.tenancy import activate_account
from classbook.payments.models import GatewaySettings
from tests.conftest import office_login
from tests.payments.page_helpers import office_url

SECRET = "sk_test_do_not_show_me_again"
HOOK_SECRET = "whsec_do_not_show_me_either"


@pytest.fixture
def owner(client, account_a, alice):
    office_login(client, account_a, "alice")
    return client


def form(**changes):
    data = {
        "mode": "test",
        "publishable_key": "pk_test_alpha",
        "secret_key": SECRET,
        "webhook_secret": HOOK_SECRET,
        "api_base": "http://127.0.0.1:8420",
        "duplicate_policy": "flag",
        "autopay_retry_days": "7, 1 3",
    }
    data.update(changes)
    return data


def test_first_visit_says_card_payments_are_not_set_up(owner, account_a):
    page = owner.get(office_url(account_a, "settings/")).content.decode()
    assert "Card payments are not set up yet" in page
    assert f"/{account_a.slug}/hooks/gateway/" in page  # where to point the webhook


def test_save_keeps_keys_encrypted_and_never_shows_them(owner, account_a):
    response = owner.post(office_url(account_a, "settings/"), form())
    assert response.status_code == 302
    with activate_account(account_a):
        saved = GatewaySettings.objects.get()
        entry = LogEntry.objects.filter(action="payments.settings_saved").get()
    assert saved.secret_key == SECRET and saved.webhook_secret == HOOK_SECRET
    assert SECRET not in saved.secret_key_encrypted
    assert (saved.duplicate_policy, saved.autopay_retry_days) == ("flag", [1, 3, 7])
    assert SECRET not in str(entry.changes)
    page = owner.get(office_url(account_a, "settings/")).content.decode()
    assert SECRET not in page and HOOK_SECRET not in page
    assert "A secret key is saved" in page and 'value="pk_test_alpha"' in page
    assert 'value="1, 3, 7"' in page
    # Saving again without typing the secrets keeps them.
    again = owner.post(
        office_url(account_a, "settings/"), form(secret_key="", webhook_secret="", mode="live")
    )
    assert again.status_code == 302
    with activate_account(account_a):
        saved.refresh_from_db()
    assert saved.secret_key == SECRET and saved.webhook_secret == HOOK_SECRET
    assert saved.mode == "live"


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"publishable_key": "sk_wrong"}, "starts with pk_"),
        ({"secret_key": "pk_wrong"}, "starts with sk_ or rk_"),
        ({"secret_key": ""}, "This field is required"),
        ({"webhook_secret": "nope"}, "starts with whsec_"),
        ({"api_base": "not a url"}, "Enter a valid URL"),
        ({"autopay_retry_days": "1, two"}, "whole days"),
        ({"autopay_retry_days": "0"}, "whole days"),
        ({"mode": "sandbox"}, "Select a valid choice"),
    ],
)
def test_bad_settings_are_explained(owner, account_a, changes, message):
    response = owner.post(office_url(account_a, "settings/"), form(**changes))
    assert response.status_code == 400
    assert message in response.content.decode()
    with activate_account(account_a):
        assert not GatewaySettings.objects.exists()


def test_nav_links_for_the_owner(owner, account_a):
    page = owner.get(office_url(account_a, "settings/")).content.decode()
    for tail in ("settings/", "deposits/", "reconciliation/"):
        assert f'href="{office_url(account_a, tail)}"' in page


def test_connect_the_sandbox_webhook(owner, account_a, gateway, sandbox_url):
    response = owner.post(office_url(account_a, "settings/sandbox-webhook/"), follow=True)
    assert "The sandbox now sends its events to http://testserver/alpha/hooks/gateway/" in (
        response.content.decode()
    )


def test_connect_without_a_sandbox_is_explained(owner, account_a):
    response = owner.post(office_url(account_a, "settings/sandbox-webhook/"), follow=True)
    assert "Save a sandbox address and a webhook secret first" in response.content.decode()
