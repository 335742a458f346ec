"""Every payments page for the three people: alice (Owner) gets it, bob (Instructor, no
money permission) gets 403 naming the permission, charlie (another business) gets 404.
The webhook is the one public payments URL, and it is declared so."""

import pytest
from django.urls import resolve

from classbook.core.tenancy import activate_account
from classbook.ledger import services as ledger
from classbook.payments.models import PaymentAttempt, ReconciliationIssue, SavedCard
from classbook.staff.access import PUBLIC
from tests.conftest import office_login
from tests.payments.page_helpers import family_owing, office_url
from tests.url_catalogue import all_routes

PAGES = [
    # (tail, method, permission label)
    ("settings/", "get", "Manage settings and locations"),
    ("settings/sandbox-webhook/", "post", "Manage settings and locations"),
    ("families/{family}/card/", "get", "Take payments"),
    ("families/{family}/card/setup/", "post", "Take payments"),
    ("families/{family}/cards/new/", "get", "Take payments"),
    ("families/{family}/cards/{card}/remove/", "get", "Take payments"),
    ("families/{family}/cards/{card}/autopay/", "post", "Take payments"),
    ("families/{family}/attempts/{attempt}/", "get", "Take payments"),
    ("families/{family}/attempts/{attempt}/check/", "post", "Take payments"),
    ("families/{family}/entries/{payment}/refund/", "get", "Refund and void payments"),
    ("reconciliation/", "get", "View reports"),
    ("reconciliation/run/", "post", "View reports"),
    ("reconciliation/issues/{issue}/review/", "post", "View reports"),
    ("deposits/", "get", "View reports"),
    ("deposits/csv/", "get", "Export data"),
]


@pytest.fixture
def objects(account_a):
    family = family_owing(account_a)
    with activate_account(account_a):
        return {
            "family": family.pk,
            "card": SavedCard.objects.create(
                family=family, payment_method_id="pm_x", last4="4242", exp_month=1, exp_year=2030
            ).pk,
            "attempt": PaymentAttempt.objects.create(
                family=family,
                amount_cents=100,
                currency="USD",
                purpose="charges",
                payment_method_id="pm_x",
                status="unknown",
            ).pk,
            "payment": ledger.payment_record(family=family, method="cash", amount_cents=100).pk,
            "issue": ReconciliationIssue.objects.create(
                kind="stuck", gateway_id="pi_x", action="Settled"
            ).pk,
        }


def call(client, account, tail, method, objects):
    return getattr(client, method)(office_url(account, tail.format(**objects)))


@pytest.mark.parametrize("tail,method,label", PAGES, ids=[p[0] for p in PAGES])
def test_alice_may(client, account_a, alice, objects, tail, method, label):
    office_login(client, account_a, "alice")
    response = call(client, account_a, tail, method, objects)
    assert response.status_code in (200, 302), response.status_code
    if response.status_code == 302:
        assert "/login/" not in response["Location"]


@pytest.mark.parametrize("tail,method,label", PAGES, ids=[p[0] for p in PAGES])
def test_bob_without_the_permission_gets_403(client, account_a, bob, objects, tail, method, label):
    office_login(client, account_a, "bob")
    response = call(client, account_a, tail, method, objects)
    assert response.status_code == 403
    assert label in response.content.decode()


@pytest.mark.parametrize("tail,method,label", PAGES, ids=[p[0] for p in PAGES])
def test_charlie_of_another_business_gets_404(
    client, account_a, account_b, charlie, objects, tail, method, label
):
    office_login(client, account_b, "charlie")
    assert call(client, account_a, tail, method, objects).status_code == 404


def test_every_payments_url_is_listed_here():
    routes = {r.route for r in all_routes() if r.name.startswith("payments:")}
    listed = {
        "<slug:account_slug>/office/payments/"
        + tail.replace("{family}", "<int:family_id>")
        .replace("{card}", "<int:card_id>")
        .replace("{attempt}", "<int:attempt_id>")
        .replace("{payment}", "<int:entry_id>")
        .replace("{issue}", "<int:reconciliation_issue_id>")
        for tail, _, _ in PAGES
    }
    assert routes == listed


def test_the_webhook_is_declared_public_and_csrf_exempt(account_a):
    match = resolve(f"/{account_a.slug}/hooks/gateway/")
    assert match.func.classbook_access == PUBLIC
    assert getattr(match.func, "csrf_exempt", False)
    # Every URL outside the office and the platform console under an account says who may
    # open it (the access tests walk only the office).
    for route in all_routes():
        if route.route.startswith("<slug:account_slug>/hooks/"):
            assert getattr(route.callback, "classbook_access", None) is not None, route.name


def test_a_get_on_the_webhook_is_refused(client, account_a):
    assert client.get(f"/{account_a.slug}/hooks/gateway/").status_code == 405
